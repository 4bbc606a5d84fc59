"""Workers deliver a message through its topic's handler: retries with backoff, dead letters, takeovers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from ismit.audit.models import AuditEvent
from ismit.outbox.models import OutboxAttempt, OutboxMessage, Outcome, Status
from ismit.outbox.services import backoff_seconds, deliver_message, enqueue, sweep
from ismit.outbox.tests import scripted

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def message(topic: str = scripted.TOPIC, **headers: str) -> OutboxMessage:
    with transaction.atomic():
        return enqueue(
            topic=topic,
            payload=b"{}",
            idempotency_key=f"key-{next(_keys)}",
            organisation_id=7,
            headers=headers,
        )


def attempts(msg: OutboxMessage) -> list[tuple[int, str]]:
    return list(OutboxAttempt.objects.filter(message=msg).order_by("id").values_list("number", "outcome"))


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_BACKOFF_BASE_S = 2
    settings.OUTBOX_BACKOFF_FACTOR = 2
    settings.OUTBOX_BACKOFF_MAX_S = 600
    settings.OUTBOX_CLAIM_TIMEOUT_S = 120
    settings.OUTBOX_REDISPATCH_AFTER_S = 30


def test_a_delivered_message_is_marked_and_its_attempt_recorded():
    msg = message()
    assert deliver_message(message_id=msg.pk, worker="w1") == Outcome.DELIVERED
    msg.refresh_from_db()
    assert msg.status == Status.DELIVERED and msg.delivered_at is not None
    assert msg.attempts == 1 and msg.locked_until is None and msg.last_error == ""
    assert scripted.calls_for(msg) == [(msg.pk, 1, msg.idempotency_key)]
    attempt = OutboxAttempt.objects.get(message=msg)
    assert (attempt.number, attempt.outcome, attempt.worker) == (1, Outcome.DELIVERED, "w1")
    # Attempts are kept in their own table, not in the audit log.
    assert not AuditEvent.objects.filter(object_type="outbox.outboxmessage").exclude(action="outbox.enqueued")


def test_a_delivered_message_is_not_delivered_again():
    msg = message()
    deliver_message(message_id=msg.pk)
    assert deliver_message(message_id=msg.pk) is None
    assert len(scripted.calls_for(msg)) == 1


def test_a_transient_failure_is_retried_after_a_backoff_then_delivered():
    msg = message(**{"X-Succeed-At": "2"})
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert deliver_message(message_id=msg.pk) == Outcome.RETRY
        msg.refresh_from_db()
        assert msg.status == Status.PENDING and msg.attempts == 1
        assert msg.last_error == "HTTP 503 on attempt 1"
        # base 2 s after the first failure, with jitter: between 1 and 2 seconds
        assert start + dt.timedelta(seconds=1) <= msg.next_attempt_at <= start + dt.timedelta(seconds=2)
        assert deliver_message(message_id=msg.pk) is None  # not due yet
    with time_machine.travel(start + dt.timedelta(seconds=2.1), tick=False):
        assert deliver_message(message_id=msg.pk) == Outcome.DELIVERED
    msg.refresh_from_db()
    assert msg.status == Status.DELIVERED and msg.attempts == 2 and msg.last_error == ""
    assert attempts(msg) == [(1, Outcome.RETRY), (2, Outcome.DELIVERED)]


def test_the_backoff_grows_exponentially_and_stops_at_the_maximum(settings):
    settings.OUTBOX_BACKOFF_MAX_S = 60
    for attempt, full in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (40, 60), (10_000, 60)]:
        delays = [backoff_seconds(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 1  # jitter: messages that failed together do not return together


def test_after_the_last_attempt_the_message_is_dead_and_that_is_audited():
    msg = message(**{"X-Script": "retry"})
    now = timezone.now()
    outcomes = []
    for n in range(4):
        with time_machine.travel(now + dt.timedelta(minutes=n), tick=False):
            outcomes.append(deliver_message(message_id=msg.pk))
    assert outcomes == [Outcome.RETRY] * 4
    msg.refresh_from_db()
    assert msg.status == Status.DEAD and msg.attempts == 4 and msg.last_error == "connection refused"
    with time_machine.travel(now + dt.timedelta(hours=1), tick=False):
        assert deliver_message(message_id=msg.pk) is None
    assert len(scripted.calls_for(msg)) == 4
    dead = AuditEvent.objects.get(action="outbox.dead_lettered")
    assert (dead.organisation_id, dead.object_id) == (7, str(msg.pk))
    assert dead.changes["attempts"] == 4


def test_a_permanent_error_is_not_retried():
    msg = message(**{"X-Script": "permanent"})
    assert deliver_message(message_id=msg.pk) == Outcome.PERMANENT
    msg.refresh_from_db()
    assert msg.status == Status.DEAD and msg.attempts == 1
    assert msg.last_error == "HTTP 400: the declaration is not well formed"
    assert AuditEvent.objects.filter(action="outbox.dead_lettered", object_id=str(msg.pk)).count() == 1


def test_an_unexpected_error_in_the_handler_is_retried():
    msg = message(**{"X-Script": "boom"})
    assert deliver_message(message_id=msg.pk) == Outcome.RETRY
    msg.refresh_from_db()
    assert msg.status == Status.PENDING and msg.last_error == "KeyError: 'surprise'"


def test_a_topic_without_a_handler_waits_for_one():
    msg = message(topic="nobody.handles.this")
    assert deliver_message(message_id=msg.pk) == Outcome.RETRY
    msg.refresh_from_db()
    assert msg.status == Status.PENDING and "nobody.handles.this" in msg.last_error


def test_a_claim_held_by_a_worker_is_not_taken_but_an_expired_one_is():
    msg = message()
    now = timezone.now()
    # A worker claimed the message and was killed during the delivery.
    OutboxMessage.objects.filter(pk=msg.pk).update(
        status=Status.SENDING,
        attempts=1,
        claim_token="dead-worker",
        locked_until=now + dt.timedelta(seconds=120),
    )
    with time_machine.travel(now + dt.timedelta(seconds=60), tick=False):
        assert deliver_message(message_id=msg.pk) is None
    with time_machine.travel(now + dt.timedelta(seconds=121), tick=False):
        assert deliver_message(message_id=msg.pk) == Outcome.DELIVERED
    msg.refresh_from_db()
    assert msg.status == Status.DELIVERED and msg.attempts == 2
    assert attempts(msg) == [(1, Outcome.LOST), (2, Outcome.DELIVERED)]


def test_a_message_whose_last_attempt_was_interrupted_is_dead():
    msg = message()
    now = timezone.now()
    OutboxMessage.objects.filter(pk=msg.pk).update(
        status=Status.SENDING, attempts=4, claim_token="dead-worker", locked_until=now
    )
    with time_machine.travel(now + dt.timedelta(seconds=1), tick=False):
        assert deliver_message(message_id=msg.pk) is None
    msg.refresh_from_db()
    assert msg.status == Status.DEAD and msg.attempts == 4 and "claim expired" in msg.last_error
    assert attempts(msg) == [(4, Outcome.LOST)]
    assert AuditEvent.objects.get(action="outbox.dead_lettered").changes["attempts"] == 4
    assert scripted.calls_for(msg) == []


def test_the_sweep_sends_again_what_was_lost_and_only_that(django_capture_on_commit_callbacks):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        just_sent, lost, killed, later = (message() for _ in range(4))
    OutboxMessage.objects.filter(pk=lost.pk).update(dispatched_at=now - dt.timedelta(seconds=31))
    OutboxMessage.objects.filter(pk=killed.pk).update(
        status=Status.SENDING,
        attempts=1,
        claim_token="dead-worker",
        dispatched_at=now - dt.timedelta(seconds=121),
        locked_until=now - dt.timedelta(seconds=1),
    )
    OutboxMessage.objects.filter(pk=later.pk).update(
        next_attempt_at=now + dt.timedelta(minutes=5), dispatched_at=now - dt.timedelta(minutes=5)
    )
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert sweep() == 2
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert statuses == {
        just_sent.pk: Status.PENDING,  # its task is on its way
        lost.pk: Status.DELIVERED,
        killed.pk: Status.DELIVERED,
        later.pk: Status.PENDING,  # not due
    }
    with time_machine.travel(now, tick=False):
        assert sweep() == 0  # nothing is sent twice in a row
