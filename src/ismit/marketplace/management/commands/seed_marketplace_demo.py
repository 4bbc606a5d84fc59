"""`ismit seed_marketplace_demo`: the demo providers' catalogues (after `ismit seed_demo`).

Idempotent: an offering the provider already has (same name) is left as it is. Uses the same services as
the pages and the API, as each provider's owner.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role
from ismit.marketplace.catalogue_services import create_offering
from ismit.marketplace.models import ServiceOffering
from ismit.marketplace.quality import refresh_provider
from ismit.marketplace.samples import DEMO_CATALOGUES


class Command(BaseCommand):
    help = "Seed the demo providers' catalogues (idempotent; run seed_demo first)."

    def handle(self, *args, **options):
        today = timezone.localdate()
        created = 0
        with transaction.atomic():
            for legal_name, samples in DEMO_CATALOGUES.items():
                organisation = Organisation.objects.filter(legal_name=legal_name).first()
                if organisation is None:
                    raise CommandError(f"{legal_name} is missing: run `ismit seed_demo` first.")
                owner = Membership.objects.filter(organisation=organisation, role=Role.OWNER).first()
                actor = actor_for(owner.user)
                existing = set(
                    ServiceOffering.objects.filter(organisation=organisation).values_list("name", flat=True)
                )
                for data in samples(today):
                    if data.name in existing:
                        continue
                    create_offering(actor=actor, organisation=organisation, data=data)
                    created += 1
                refresh_provider(organisation.pk)
        self.stdout.write(f"Marketplace demo: {created} offerings created.")
