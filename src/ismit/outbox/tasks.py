"""Celery tasks of the outbox. They take ids, call the services and are idempotent: a task delivered
twice (a worker killed before acknowledging it) claims nothing the second time."""

from __future__ import annotations

from celery import shared_task

from ismit.audit.services import link_events
from ismit.outbox import services


@shared_task(name="ismit.outbox.deliver", bind=True, ignore_result=True)
def deliver_task(self, message_id: int) -> str | None:
    return services.deliver_message(message_id=message_id, worker=self.request.hostname or "")


@shared_task(name="ismit.outbox.sweep", ignore_result=True)
def sweep_task() -> int:
    # The periodic pass also links the audit events that after-commit links left (ismit.audit.services).
    link_events()
    return services.sweep()


@shared_task(name="ismit.outbox.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records_task() -> int:
    return services.purge_idempotency_records()
