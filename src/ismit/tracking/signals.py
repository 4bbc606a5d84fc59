"""What tracking hears from lower apps without them knowing it: customs answers applied to declarations
(ismit.customs.signals.answers_applied) go on the timeline of the trades' shipments once the customs
transaction commits: one short read of which trades have a shipment followed (most have none), and the
answers read only for those."""

from __future__ import annotations

import logging

from django.db import transaction

from ismit.lib.prepared import Prepared
from ismit.tracking.models import Shipment  # imported once the apps are ready (TrackingConfig.ready)

logger = logging.getLogger("ismit.tracking")

# Whether one trade has a shipment followed, prepared (lib.prepared): a worker's pass applies the answers of
# one trade more often than not.
_FOLLOWED_ONE = Prepared(
    lambda trade_id: Shipment.objects.filter(trade_id=trade_id).order_by().values_list("trade_id")[:1],
    "trade_id",
)


def _followed(trade_ids: set[int]) -> set[int]:
    """Which of these trades have a shipment followed on the platform."""
    if len(trade_ids) == 1:
        (trade_id,) = trade_ids
        return {row[0] for row in _FOLLOWED_ONE.rows(trade_id=trade_id)}
    return set(Shipment.objects.filter(trade_id__in=trade_ids).order_by().values_list("trade_id", flat=True))


class _Timeline:
    """The after-commit job of one transaction: the answers it applied (id and trade)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.trade_ids: set[int] = set()

    def __call__(self) -> None:
        from ismit.customs.models import DeclarationEvent
        from ismit.tracking.services import record_customs_event

        followed = _followed(self.trade_ids)
        if not followed:
            return
        events = (
            DeclarationEvent.objects.select_related("declaration")
            .filter(pk__in=self.ids, applied=True, declaration__trade_id__in=followed)
            .order_by("pk")
        )
        for event in events:
            record_customs_event(declaration_event=event)


def customs_answers_applied(sender, events, **kwargs) -> None:
    applied = [e for e in events if e.applied and e.declaration_id is not None]
    if not applied:
        return
    ids = [e.pk for e in applied]
    trade_ids = {e.declaration.trade_id for e in applied}
    conn = transaction.get_connection()
    current = set(conn.savepoint_ids)
    # One job per transaction: joined when registered at this level or an outer one (it is not dropped
    # unless these answers are as well).
    for sids, func, *_ in conn.run_on_commit:
        if isinstance(func, _Timeline) and sids <= current:
            func.ids += ids
            func.trade_ids |= trade_ids
            return
    timeline = _Timeline()
    timeline.ids += ids
    timeline.trade_ids |= trade_ids
    transaction.on_commit(timeline, robust=True)
