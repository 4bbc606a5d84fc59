"""Background work of the tracking app: polling carriers' DCSA endpoints, the periodic alert check.

Importing this module registers the outbox handler of tracking notifications (Celery's autodiscovery
imports it in every worker)."""

from __future__ import annotations

from celery import shared_task

from ismit.tracking import delivery  # noqa: F401  (registers the outbox handler)


@shared_task(name="ismit.tracking.poll", acks_late=True, ignore_result=True)
def poll_task() -> int:
    from ismit.tracking.poller import poll_all

    return poll_all()


@shared_task(name="ismit.tracking.check_alerts", acks_late=True, ignore_result=True)
def check_alerts_task() -> int:
    from ismit.tracking.services import check_alerts

    return check_alerts()
