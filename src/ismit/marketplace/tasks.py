"""Celery tasks of the marketplace (idempotent: a task run twice finds nothing more to do)."""

from __future__ import annotations

from celery import shared_task

from ismit.marketplace import services


@shared_task(name="ismit.marketplace.close_expired_rfqs", ignore_result=True)
def close_expired_rfqs_task() -> int:
    """Close the RFQs whose deadline has passed, a batch at a time until none is left."""
    total = 0
    while closed := services.close_expired_rfqs():
        total += closed
        if closed < services.CLOSE_BATCH:
            break
    return total
