"""What tracking hears from lower apps without them knowing it: a customs answer applied to a declaration
(ismit.customs saves its DeclarationEvent with applied=True) goes on the timeline of the trade's shipments
once the customs transaction commits."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger("ismit.tracking")


def customs_event_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if not instance.applied or instance.declaration_id is None:
        return
    pk = instance.pk

    def record() -> None:
        from ismit.customs.models import DeclarationEvent
        from ismit.tracking.services import record_customs_event

        # One query, which finds nothing for the many trades with no shipment followed on the platform.
        event = (
            DeclarationEvent.objects.select_related("declaration")
            .filter(pk=pk, applied=True, declaration__trade__shipments__isnull=False)
            .first()
        )
        if event is not None:
            record_customs_event(declaration_event=event)

    transaction.on_commit(record, robust=True)
