"""Platform operators inspect the outbox and replay dead messages; nobody else sees the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from ismit.accounts.actors import actor_for
from ismit.accounts.models import User
from ismit.audit.models import AuditEvent
from ismit.outbox.models import OutboxAttempt, OutboxMessage, Outcome, Status
from ismit.outbox.services import deliver_message, enqueue, replay_message
from ismit.outbox.tests import scripted

pytestmark = pytest.mark.django_db


def write(
    key: str, organisation_id: int | None = None, topic: str = scripted.TOPIC, **headers
) -> OutboxMessage:
    with transaction.atomic():
        return enqueue(
            topic=topic,
            payload=b'<Declaration lrn="CI-77"/>',
            idempotency_key=key,
            organisation_id=organisation_id,
            headers=headers,
        )


@pytest.fixture
def dead(cast):
    msg = write("dead-1", cast.msme.pk, **{"X-Script": "permanent"})
    deliver_message(message_id=msg.pk, worker="w1")
    msg.refresh_from_db()
    assert msg.status == Status.DEAD
    return msg


def test_the_operator_lists_messages_by_status_and_topic(client, cast, dead):
    delivered = write("ok-1", cast.msme.pk)
    deliver_message(message_id=delivered.pk)
    other_topic = write("fx-1", cast.other_msme.pk, topic="finance.fx_settlement")
    client.force_login(cast.operator)
    url = reverse("outbox:list")
    assert {m.pk for m in client.get(url).context["page"].object_list} == {
        dead.pk,
        delivered.pk,
        other_topic.pk,
    }
    assert [m.pk for m in client.get(url, {"status": "dead"}).context["page"].object_list] == [dead.pk]
    by_topic = client.get(url, {"topic": "finance.fx_settlement"}).context["page"].object_list
    assert [m.pk for m in by_topic] == [other_topic.pk]
    html = client.get(url).content.decode()
    assert reverse("outbox:detail", args=[dead.pk]) in html


def test_the_operator_reads_a_message_with_its_attempts(client, cast, dead):
    client.force_login(cast.operator)
    response = client.get(reverse("outbox:detail", args=[dead.pk]))
    html = response.content.decode()
    assert "HTTP 400: the declaration is not well formed" in html
    assert "&lt;Declaration lrn=&quot;CI-77&quot;/&gt;" in html
    assert dead.payload_sha256 in html
    assert [a.outcome for a in response.context["attempts"]] == [Outcome.PERMANENT]
    assert reverse("outbox:replay", args=[dead.pk]) in html


def test_replay_gives_a_dead_message_new_attempts_and_is_audited(
    client, cast, dead, django_capture_on_commit_callbacks
):
    OutboxMessage.objects.filter(pk=dead.pk).update(headers={})  # the cause is fixed: it will go through
    client.force_login(cast.operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("outbox:replay", args=[dead.pk]))
    assert response["Location"] == reverse("outbox:detail", args=[dead.pk])
    dead.refresh_from_db()
    assert dead.status == Status.DELIVERED and dead.attempts == 1
    assert list(OutboxAttempt.objects.filter(message=dead).values_list("outcome", flat=True)) == [
        Outcome.PERMANENT,
        Outcome.DELIVERED,
    ]
    event = AuditEvent.objects.get(action="outbox.replayed")
    assert event.actor_id == cast.operator.pk and event.organisation_id == cast.msme.pk
    assert event.changes["last_error"] == "HTTP 400: the declaration is not well formed"


def test_only_a_dead_message_is_replayed(cast):
    msg = write("pending-1", cast.msme.pk)
    with pytest.raises(ValidationError):
        replay_message(actor=actor_for(cast.operator), message=msg)
    msg.refresh_from_db()
    assert msg.status == Status.PENDING
    assert not AuditEvent.objects.filter(action="outbox.replayed").exists()


def test_only_operators_replay(cast, dead):
    with pytest.raises(PermissionDenied):
        replay_message(actor=actor_for(cast.exporter), message=dead)
    dead.refresh_from_db()
    assert dead.status == Status.DEAD


@pytest.mark.parametrize("who", ["exporter", "colleague", "other", "broker", "stranger"])
def test_nobody_else_sees_the_outbox(client, cast, dead, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("outbox:list")).status_code == 404
    assert client.get(reverse("outbox:detail", args=[dead.pk])).status_code == 404
    assert client.post(reverse("outbox:replay", args=[dead.pk])).status_code == 404
    dead.refresh_from_db()
    assert dead.status == Status.DEAD and dead.attempts == 1


def test_a_visitor_is_sent_to_the_login_page(client, dead):
    response = client.get(reverse("outbox:detail", args=[dead.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("model", ["outboxmessage", "idempotencyrecord"])
def test_the_admin_lists_the_outbox(client, cast, dead, model):
    admin = User.objects.create_superuser(email="root@ismit.example", password=cast.password)
    client.force_login(admin)
    assert client.get(reverse(f"admin:outbox_{model}_changelist")).status_code == 200
    if model == "outboxmessage":
        assert client.get(reverse("admin:outbox_outboxmessage_change", args=[dead.pk])).status_code == 200
