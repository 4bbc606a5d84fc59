"""A message is written with the caller's change, once per idempotency key, and sent on commit."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection, transaction

from ismit.audit.models import AuditEvent
from ismit.lib.rows import deferred
from ismit.outbox.models import OutboxMessage, Status
from ismit.outbox.services import enqueue
from ismit.outbox.tests import scripted

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def write(key: str = "decl-1", **extra) -> OutboxMessage:
    return enqueue(
        topic=scripted.TOPIC,
        payload=b"<Declaration/>",
        idempotency_key=key,
        organisation_id=42,
        headers={"Content-Type": "application/xml"},
        target="https://nsw.example/customs/declarations",
        **extra,
    )


def test_the_message_is_rolled_back_with_the_callers_transaction(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Boom), transaction.atomic():
        write()
        raise Boom
    assert not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="outbox.enqueued").exists()
    assert callbacks == []  # and no task was sent for it


def test_the_message_commits_with_the_change_and_is_audited():
    with transaction.atomic():
        message = write()
    stored = OutboxMessage.objects.get()
    assert stored == message
    assert stored.status == Status.PENDING and stored.attempts == 0
    assert bytes(stored.payload) == b"<Declaration/>"
    assert stored.payload_sha256 == hashlib.sha256(b"<Declaration/>").hexdigest()
    assert stored.headers == {"Content-Type": "application/xml"}
    event = AuditEvent.objects.get(action="outbox.enqueued")
    assert event.organisation_id == 42
    assert event.object_id == str(message.pk)
    assert event.changes["idempotency_key"] == "decl-1"
    assert event.changes["payload_sha256"] == stored.payload_sha256


def test_a_second_enqueue_with_the_same_key_gives_the_same_message():
    with transaction.atomic():
        first = write()
    with transaction.atomic():
        second = enqueue(topic=scripted.TOPIC, payload=b"other", idempotency_key="decl-1", organisation_id=42)
    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert bytes(OutboxMessage.objects.get().payload) == b"<Declaration/>"
    assert AuditEvent.objects.filter(action="outbox.enqueued").count() == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="transaction"):
        write()
    assert not OutboxMessage.objects.exists()


def test_the_message_is_delivered_once_the_caller_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = write(key="decl-commit")
        assert scripted.calls_for(message) == []  # nothing leaves before the commit
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert scripted.calls_for(message) == [(message.pk, 1, "decl-commit")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="lib.rows.deferred defers on PostgreSQL only")
def test_inside_deferred_writes_without_a_reserved_id_it_refuses_rather_than_lose_the_message():
    with pytest.raises(RuntimeError, match="needs an id reserved"), transaction.atomic(), deferred():
        write("deferred-1", fresh_key=True)
    assert not OutboxMessage.objects.filter(idempotency_key="deferred-1").exists()
