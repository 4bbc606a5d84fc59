"""What tracking hears from lower apps without them knowing it: customs answers applied to declarations
(ismit.customs.signals.answers_applied) go on the timeline of the trades' shipments once the customs
transaction commits, looked up in one query per transaction."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger("ismit.tracking")


class _Timeline:
    """The after-commit job of one transaction: the ids of the answers it applied."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def __call__(self) -> None:
        from ismit.customs.models import DeclarationEvent
        from ismit.tracking.models import Shipment
        from ismit.tracking.services import record_customs_event

        # One query, which finds nothing for the many trades with no shipment followed on the platform.
        events = (
            DeclarationEvent.objects.select_related("declaration")
            .filter(
                pk__in=self.ids,
                applied=True,
                declaration__trade_id__in=Shipment.objects.values("trade_id"),
            )
            .order_by("pk")
        )
        for event in events:
            record_customs_event(declaration_event=event)


def customs_answers_applied(sender, events, **kwargs) -> None:
    ids = [e.pk for e in events if e.applied and e.declaration_id is not None]
    if not ids:
        return
    conn = transaction.get_connection()
    current = set(conn.savepoint_ids)
    # One job per transaction: joined when registered at this level or an outer one (it is not dropped
    # unless these answers are as well).
    for sids, func, *_ in conn.run_on_commit:
        if isinstance(func, _Timeline) and sids <= current:
            func.ids += ids
            return
    timeline = _Timeline()
    timeline.ids += ids
    transaction.on_commit(timeline, robust=True)
