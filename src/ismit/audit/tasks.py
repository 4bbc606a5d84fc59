"""Background work of the audit log: link the events an after-commit link left (another was linking)."""

from __future__ import annotations

from celery import shared_task

from ismit.audit import services


@shared_task(name="ismit.audit.link", ignore_result=True)
def link_task() -> int:
    return services.link_events()
