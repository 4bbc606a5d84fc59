"""`ismit seed_tracking_demo`: the demo trade's shipment and its carrier events (after `ismit seed_demo`).

Idempotent: running it again stores nothing new. The events go through the same service as the DCSA API,
posted by the demo forwarder that the exporter authorised on the shipment (see ismit.tracking.samples).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ismit.tracking.samples import seed_demo_shipment


class Command(BaseCommand):
    help = "Seed the demo trade's shipment and its DCSA events (idempotent; run seed_demo first)."

    def handle(self, *args, **options):
        # The delay alert is in the exporter's notifications; no e-mail of it at seeding.
        backend, settings.EMAIL_BACKEND = (
            settings.EMAIL_BACKEND,
            "django.core.mail.backends.dummy.EmailBackend",
        )
        try:
            seeded = seed_demo_shipment()
        except LookupError as error:
            raise CommandError(str(error)) from error
        finally:
            settings.EMAIL_BACKEND = backend
        shipment = seeded.shipment
        self.stdout.write(
            f"Tracking demo: shipment {shipment.reference} ({'created' if seeded.created else 'exists'}), "
            f"{seeded.stored} event(s) stored, {shipment.status}, ETA {shipment.eta:%Y-%m-%d %H:%M} UTC"
            + (" (delayed)" if shipment.delayed else "")
        )
