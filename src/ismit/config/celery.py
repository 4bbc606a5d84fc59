"""The Celery application: configured from Django's settings (CELERY_*), tasks found in every app's tasks.py.

Start workers with `ismit worker` (several, on several machines, share one queue); the periodic jobs
below run in exactly one `ismit beat` (or one `ismit worker --beat`). See docs/architecture.md.
"""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismit.config.settings")

app = Celery("ismit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker's database connections are kept from task to task, as a web process keeps them from request to
# request (CONN_MAX_AGE, closed after an error or in a transaction left open). Celery's Django fixup closes
# them before and after every task: each task then opens a new PostgreSQL session (the server forks a
# backend that reads its catalogs anew), which cost more than most tasks. A connection used without error
# moments ago is not health-checked (CONN_HEALTH_CHECKS' SELECT 1) before the next task (lib.connections);
# one idle longer is, as a new request's is.


@signals.worker_init.connect
def _keep_database_connections(**kwargs) -> None:
    for fixup in getattr(app, "_fixups", None) or ():
        worker_fixup = getattr(fixup, "worker_fixup", None)
        if worker_fixup is not None:
            signals.task_prerun.disconnect(worker_fixup.on_task_prerun)
            signals.task_postrun.disconnect(worker_fixup.on_task_postrun)
    signals.task_prerun.connect(_before_task, weak=False)
    signals.task_postrun.connect(_after_task, weak=False)


def _before_task(sender=None, **kwargs) -> None:
    if getattr(sender.request, "is_eager", False):
        return
    from ismit.lib.connections import skip_recent_checks

    skip_recent_checks()


def _after_task(sender=None, **kwargs) -> None:
    if getattr(sender.request, "is_eager", False):
        return
    from django.core.cache import caches
    from django.db import close_old_connections

    from ismit.lib.connections import note_released

    close_old_connections()  # closed if unusable (after an error) or older than CONN_MAX_AGE
    caches.close_all()
    note_released()


@app.on_after_configure.connect
def _periodic_jobs(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        # Deliveries whose task was lost (a web process died before sending it, a worker killed mid-way).
        "outbox-sweep": {
            "task": "ismit.outbox.sweep",
            "schedule": float(settings.OUTBOX_SWEEP_INTERVAL_S),
            "options": {"expires": float(settings.OUTBOX_SWEEP_INTERVAL_S)},  # a late sweep is dropped
        },
        # Idempotency-Key records older than a day.
        "idempotency-purge": {"task": "ismit.outbox.purge_idempotency_records", "schedule": 3600.0},
        # Single windows' answers whose callback was lost (polling fallback, ismit.customs.answers), and
        # answers stored whose task was lost (a web process died before sending it, a broker down).
        "customs-poll": {
            "task": "ismit.customs.poll",
            "schedule": float(settings.CUSTOMS_POLL_INTERVAL_S),
            "options": {"expires": float(settings.CUSTOMS_POLL_INTERVAL_S)},
        },
        # Carriers' DCSA endpoints (ismit.tracking.poller), and the alerts of silent shipments.
        "tracking-poll": {
            "task": "ismit.tracking.poll",
            "schedule": float(settings.TRACKING_POLL_INTERVAL_S),
            "options": {"expires": float(settings.TRACKING_POLL_INTERVAL_S)},
        },
        "tracking-check-alerts": {"task": "ismit.tracking.check_alerts", "schedule": 3600.0},
        # Requests for quotation whose deadline passed (ismit.marketplace.services.close_expired_rfqs).
        "marketplace-close-rfqs": {
            "task": "ismit.marketplace.close_expired_rfqs",
            "schedule": 60.0,
            "options": {"expires": 60.0},
        },
    }
