"""Two workers never deliver the same message at the same time (PostgreSQL: SKIP LOCKED row claims)."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from ismit.outbox.models import OutboxMessage, Outcome, Status
from ismit.outbox.services import deliver_message
from ismit.outbox.tests import scripted


def _run_in_threads(target, count: int) -> list[Exception]:
    errors: list[Exception] = []
    barrier = threading.Barrier(count)

    def run(k: int) -> None:
        try:
            barrier.wait()
            target(k)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_messages_deliver_each_exactly_once_and_never_at_once():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers itself; the row claims matter on PostgreSQL")
    # Rows written directly: no deliver task is sent, the threads below are the only workers.
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            topic=scripted.TOPIC,
            payload=b"{}",
            idempotency_key=f"race-{n}",
            headers={"X-Sleep": "0.05"},
            next_attempt_at=now,
        )
        for n in range(20)
    )
    messages = list(OutboxMessage.objects.filter(idempotency_key__startswith="race-"))
    ids = [m.pk for m in messages]
    outcomes: list[str | None] = []

    def worker(k: int) -> None:
        order = ids[:]
        random.Random(k).shuffle(order)
        for message_id in order:
            outcomes.append(deliver_message(message_id=message_id, worker=f"w{k}"))

    assert _run_in_threads(worker, 4) == []
    assert outcomes.count(Outcome.DELIVERED) == 20
    assert outcomes.count(None) == 60
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    for m in messages:
        assert len(scripted.calls_for(m)) == 1
        assert scripted.MAX_RUNNING[m.idempotency_key] == 1
