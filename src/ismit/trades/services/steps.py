"""The trade's checklist: derived from its data, steps moved by the platform's services and by the MSME."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.rows import insert_rows, update_rows
from ismit.trades import checklist
from ismit.trades.models import (
    ChecklistStep,
    StepStatus,
    Trade,
    TradeStatus,
)
from ismit.trades.queries import STEP_FIELDS, StepRow
from ismit.trades.services.data import in_order, require_change

# -- checklist --------------------------------------------------------------------------------------


def sync_checklist(*, trade: Trade) -> list[ChecklistStep]:
    """Derive the trade's steps from its data, keeping the status of steps that still apply.

    Returns the steps in their order.
    """
    existing = {step.code: step for step in trade.steps.all()}
    kept = []
    now = timezone.now()
    wanted = []
    for position, definition in enumerate(checklist.STEPS, start=1):
        applies = definition.applies(trade)
        responsible = definition.responsible(trade)
        step = existing.pop(definition.code, None)
        if step is None:
            wanted.append(
                ChecklistStep(
                    trade=trade,
                    code=definition.code,
                    category=definition.category,
                    position=position,
                    responsible=responsible,
                    status=StepStatus.TODO if applies else StepStatus.NOT_NEEDED,
                    acting_organisation=trade.organisation
                    if responsible == checklist.our_side(trade)
                    else None,
                    updated_at=now,
                )
            )
            continue
        kept.append(step)
        changed = []
        if step.responsible != responsible:
            step.responsible = responsible
            changed.append("responsible")
        if not applies and step.status != StepStatus.NOT_NEEDED:
            step.status = StepStatus.NOT_NEEDED
            changed.append("status")
        elif applies and step.status == StepStatus.NOT_NEEDED:
            step.status = StepStatus.TODO
            changed.append("status")
        if step.position != position:
            step.position = position
            changed.append("position")
        if changed:
            step.updated_at = now
            step.save(update_fields=[*changed, "updated_at"])
    ChecklistStep.objects.bulk_create(wanted)
    if existing:
        ChecklistStep.objects.filter(pk__in=[s.pk for s in existing.values()]).delete()
    return sorted([*kept, *wanted], key=lambda step: step.position)


def insert_steps(trade: Trade) -> list[StepRow]:
    """A new trade's steps, stored in one statement (lib.rows) and answered as rows."""
    now = timezone.now()
    ours = checklist.our_side(trade)
    rows = []
    for position, definition in enumerate(checklist.STEPS, start=1):
        responsible = definition.responsible(trade)
        rows.append(
            in_order(
                STEP_FIELDS,
                trade_id=trade.pk,
                code=definition.code,
                category=definition.category,
                position=position,
                responsible=responsible,
                status=StepStatus.TODO if definition.applies(trade) else StepStatus.NOT_NEEDED,
                acting_organisation_id=trade.organisation_id if responsible == ours else None,
                note="",
                started_at=None,
                completed_at=None,
                updated_at=now,
                updated_by_id=None,
            )
        )
    ids = insert_rows(ChecklistStep, STEP_FIELDS[1:], rows)
    return [StepRow(pk, *row) for pk, row in zip(ids, rows, strict=True)]


@transaction.atomic
def set_step_status(
    *,
    actor: Actor | None,
    step: ChecklistStep,
    status: str,
    note: str = "",
    acting_organisation: Organisation | None = None,
) -> ChecklistStep:
    """Move one step. Other apps (customs, tracking, finance) call this with their own actor."""
    if status not in StepStatus.values:
        raise ValidationError({"status": [_("Unknown step status.")]})
    step = ChecklistStep.objects.select_for_update().select_related("trade").get(pk=step.pk)
    move_locked_step(
        actor=actor, step=step, status=status, note=note, acting_organisation=acting_organisation
    )
    step.save()
    return step


#: what moving a step changes (move_locked_step)
STEP_MOVE_FIELDS = (
    "status",
    "note",
    "started_at",
    "completed_at",
    "acting_organisation",
    "updated_at",
    "updated_by",
)


def move_locked_step(
    *,
    actor: Actor | None,
    step: ChecklistStep,
    status: str,
    note: str = "",
    acting_organisation: Organisation | None = None,
) -> None:
    """Move a step the caller read under its lock (with its trade), in the caller's transaction, audited,
    without writing the step: the caller writes the steps it moved with save_moved_steps(), many in one
    statement."""
    if status not in StepStatus.values:
        raise ValidationError({"status": [_("Unknown step status.")]})
    old = step.status
    now = timezone.now()
    step.status = status
    step.note = (note or "")[:300]
    if status == StepStatus.IN_PROGRESS and step.started_at is None:
        step.started_at = now
    if status == StepStatus.DONE:
        step.started_at = step.started_at or now
        step.completed_at = now
    elif step.completed_at is not None:
        step.completed_at = None
    if acting_organisation is not None:
        step.acting_organisation = acting_organisation
    step.updated_at = now
    step.updated_by = actor.user if actor else None
    trade = step.trade
    if trade.status == TradeStatus.DRAFT and status in (StepStatus.IN_PROGRESS, StepStatus.DONE):
        trade.status, trade.updated_at = TradeStatus.ACTIVE, now
        update_rows(Trade, [trade], ["status", "updated_at"])  # with the caller's writes (lib.rows.deferred)
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.step_changed",
        obj=step,
        changes={"trade": trade.reference, "step": step.code, "status": [old, status], "note": step.note},
    )


def save_moved_steps(steps: Iterable[ChecklistStep]) -> None:
    """Write the steps moved by move_locked_step()."""
    update_rows(ChecklistStep, steps, STEP_MOVE_FIELDS)


def mark_commercial_step(*, actor: Actor, step: ChecklistStep, status: str, note: str = "") -> ChecklistStep:
    """What an MSME marks by hand: its commercial steps. Other steps move from the systems that own them."""
    require_change(actor, step.trade.organisation_id)
    if step.code not in checklist.COMMERCIAL_CODES:
        raise PermissionDenied(_("This step is updated by the platform, not by hand."))
    if step.status == StepStatus.NOT_NEEDED:
        raise ValidationError({"status": [_("This step does not apply to this trade.")]})
    if status == StepStatus.NOT_NEEDED:
        raise ValidationError({"status": [_("Choose to do, in progress, done or blocked.")]})
    return set_step_status(
        actor=actor, step=step, status=status, note=note, acting_organisation=step.trade.organisation
    )
