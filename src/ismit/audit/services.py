"""Writing to the audit log. Every service that changes organisation data calls record_event()."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from ismit.audit.models import GENESIS_HASH, AuditEvent, ChainHead


def _jsonable(changes: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so the stored value hashes the same as the value read back later.
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))


def record_event(
    *,
    actor: Any | None,
    organisation_id: int | None,
    action: str,
    obj: Any | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, chained to the previous one. Runs inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = getattr(actor, "user", actor)
    # Inside the caller's transaction no savepoint is needed (an error aborts the whole write anyway).
    with transaction.atomic(savepoint=False):
        # The head row (made by a migration) is locked until commit: appends are serialised.
        head = ChainHead.objects.select_for_update().get(id=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor_id=getattr(user, "pk", None),
            actor_label=getattr(user, "email", "") or ("system" if user is None else str(user)),
            organisation_id=organisation_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            changes=_jsonable(changes),
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the log in order and report the first event whose link or content does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "link to the previous event does not match")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash (edited)")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    if head and head.last_seq != checked:
        return ChainReport(checked, checked + 1, "events at the end of the log were deleted")
    return ChainReport(checked)
