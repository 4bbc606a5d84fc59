"""The Celery application: configured from Django's settings (CELERY_*), tasks found in every app's tasks.py.

Start workers with `ismit worker` (several, on several machines, share one queue); the periodic jobs
below run in exactly one `ismit beat` (or one `ismit worker --beat`). See docs/architecture.md.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismit.config.settings")

app = Celery("ismit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
