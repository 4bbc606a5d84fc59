"""Applying the single window's answers: the stored answers that wait, each declaration's under its lock in
the order the window issued them, a batch of declarations in one transaction.

    apply_pending_answers(batch=APPLY_BATCH) -> int   # the worker's pass (tasks.apply_answers)
    head_of_conversation(window, conversation_id)     # the newest version of a conversation, locked
    attach_pending(declaration) -> int                # answers that came before the conversation was noted
    apply_event(event) -> bool                        # one answer: never back to an earlier status

What follows from a status (the checklist, notifications) is checklist.after_status.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from ismit.accounts.mail import queue_mails
from ismit.accounts.models import Organisation, User
from ismit.accounts.services import batched_notifications
from ismit.audit.services import batched_events, record_event
from ismit.customs.checklist import APPLY_BATCH, BATCH_IDS, STEPS_MOVED, after_status, padded, steps_locked
from ismit.customs.models import (
    FINAL_STATUSES,
    CustomsQuery,
    Declaration,
    DeclarationEvent,
    DeclarationStatus,
    ExchangedMessage,
    QueryStatus,
    SingleWindow,
)
from ismit.customs.signals import answers_applied
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split
from ismit.lib.rows import deferred, insert_objects, update_rows
from ismit.trades.models import ChecklistStep, Trade
from ismit.trades.services import save_moved_steps

logger = logging.getLogger("ismit.customs")
S = DeclarationStatus


def head_of_conversation(
    window: SingleWindow, conversation_id: str, *, lock: bool = True
) -> Declaration | None:
    """The newest declaration version of a conversation with this window's endpoint (its answers apply
    there), locked for the caller's transaction."""
    if not conversation_id:
        return None
    declarations = Declaration.objects.filter(
        conversation_id=conversation_id,
        window__base_url=window.base_url,
        window__client_id=window.client_id,
    ).order_by("-version")
    if lock:
        declarations = declarations.select_for_update(of=("self",), no_key=True)
    # What applying an answer reads (checklist.after_status), in the same statement.
    return declarations.select_related("trade", "submitted_by", "submitted_by_organisation").first()


def apply_pending_answers(*, batch: int = APPLY_BATCH) -> int:
    """Apply the stored answers that wait (DeclarationEvent.pending) of up to `batch` declarations, in one
    transaction: each declaration locked (those another worker holds are skipped: it is applying them), its
    answers in the order the window issued them. Returns how many declarations were applied.

    Should one declaration fail, the others are applied one transaction each; its answers keep waiting
    (logged) for the next pass."""
    claimed: list[int] = []
    try:
        with transaction.atomic():
            declarations = _claim_waiting(batch)
            claimed = list(declarations)
            _apply_waiting(declarations)
    except Exception:
        if not claimed:
            raise
        logger.exception(
            "applying the answers of %s declarations together failed: one at a time", len(claimed)
        )
        failed = 0
        for pk in claimed:
            try:
                with transaction.atomic():
                    _apply_waiting(_claim_waiting(1, among=[pk]))
            except Exception:
                failed += 1
                logger.exception("the answers of declaration %s could not be applied", pk)
        return len(claimed) - failed
    return len(claimed)


_DECLARATION_FIELDS = concrete_attnames(Declaration)
_TRADE_FIELDS = concrete_attnames(Trade)
_USER_FIELDS = concrete_attnames(User)
_ORGANISATION_FIELDS = concrete_attnames(Organisation)
# _claim_waiting's read of a full batch, prepared (lib.prepared): every pass of the worker runs it.
_CLAIM_ROWS = Prepared(
    lambda: (
        Declaration.objects.filter(
            pk__in=DeclarationEvent.objects.filter(pending=True).values("declaration_id")
        )
        .select_for_update(skip_locked=True, of=("self",), no_key=True)
        .order_by("pk")
        .values_list(
            *_DECLARATION_FIELDS,
            *prefixed("trade", _TRADE_FIELDS),
            *prefixed("submitted_by", _USER_FIELDS),
            *prefixed("submitted_by_organisation", _ORGANISATION_FIELDS),
        )[:APPLY_BATCH]
    )
)


def _claimed(row) -> Declaration:
    declaration_row, trade_row, user_row, organisation_row = split(
        row, len(_DECLARATION_FIELDS), len(_TRADE_FIELDS), len(_USER_FIELDS), len(_ORGANISATION_FIELDS)
    )
    declaration = instance(Declaration, _DECLARATION_FIELDS, declaration_row)
    declaration.trade = instance(Trade, _TRADE_FIELDS, trade_row)
    declaration.submitted_by = (
        instance(User, _USER_FIELDS, user_row) if declaration.submitted_by_id is not None else None
    )
    declaration.submitted_by_organisation = instance(Organisation, _ORGANISATION_FIELDS, organisation_row)
    return declaration


def _claim_waiting(batch: int, *, among: list[int] | None = None) -> dict[int, Declaration]:
    """Declarations with answers waiting, locked for the caller's transaction (skipping those locked
    already), by id, with what applying an answer reads."""
    if among is None and batch == APPLY_BATCH:
        return {d.pk: d for d in map(_claimed, _CLAIM_ROWS.rows())}
    waiting = Declaration.objects.filter(
        pk__in=DeclarationEvent.objects.filter(pending=True).values("declaration_id")
    )
    if among is not None:
        waiting = waiting.filter(pk__in=among)
    waiting = (
        waiting.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .select_related("trade", "submitted_by", "submitted_by_organisation")
        .order_by("pk")
    )
    return {d.pk: d for d in waiting[:batch]}


# The answers waiting of a batch, prepared (lib.prepared) for any number of declarations up to APPLY_BATCH:
# their ids padded to that many (checklist.padded), so that one SQL serves every batch.
_EVENT_FIELDS = concrete_attnames(DeclarationEvent)
_WAITING_EVENT_ROWS = Prepared(
    lambda **ids: (
        DeclarationEvent.objects.filter(declaration_id__in=list(ids.values()), pending=True)
        .order_by("declaration_id", "sequence", "pk")
        .values_list(*_EVENT_FIELDS, "message__sha256")
    ),
    *BATCH_IDS,
)


def _waiting_events(declarations: dict[int, Declaration]) -> list[DeclarationEvent]:
    """The answers waiting of these declarations, in the order to apply them, each with its message's hash
    (what apply_event reads of it)."""
    if len(declarations) > APPLY_BATCH:
        return list(
            DeclarationEvent.objects.filter(declaration_id__in=declarations, pending=True)
            .select_related("message")
            .defer("message__content", "message__headers")
            .order_by("declaration_id", "sequence", "pk")
        )
    events = []
    for row in _WAITING_EVENT_ROWS.rows(**padded(declarations)):
        event = instance(DeclarationEvent, _EVENT_FIELDS, row[:-1])
        if event.message_id is not None:
            message = instance(ExchangedMessage, ("id", "sha256"), (event.message_id, row[-1]))
            DeclarationEvent.message.field.set_cached_value(event, message)
        events.append(event)
    return events


def _apply_waiting(declarations: dict[int, Declaration]) -> None:
    if not declarations:
        return
    events = _waiting_events(declarations)
    steps = steps_locked([d.trade for d in declarations.values()], STEPS_MOVED)
    read_at = {step.pk: step.updated_at for by_code in steps.values() for step in by_code.values()}
    applied, passed = [], []
    # What the batch writes (notifications, audit events, declarations, steps, answers) goes as one
    # statement at the end on PostgreSQL (lib.rows.deferred); elsewhere a statement each.
    with deferred():
        with batched_events(write=insert_objects), batched_notifications() as notifications:
            for event in events:
                declaration = event.declaration = declarations[event.declaration_id]
                done = apply_event(event, save=False, steps=steps[declaration.trade_id])
                (applied if done else passed).append(event)
            mails = notifications.take_mails()
        update_rows(Declaration, declarations.values(), ANSWERED_FIELDS)
        save_moved_steps(
            step
            for by_code in steps.values()
            for step in by_code.values()
            if step.updated_at != read_at[step.pk]
        )
        # Each answer as apply_event left it: applied, or passed (late, or its declaration final).
        update_rows(DeclarationEvent, [*applied, *passed], ["applied", "pending"])
    queue_mails(mails)  # the batch's e-mails: one outbox message, written once its key is known
    if applied:
        answers_applied.send(sender=DeclarationEvent, events=applied)


def attach_pending(declaration: Declaration) -> int:
    """Apply, in their order, the answers about this declaration's conversation that arrived before the
    conversation was noted (inside the caller's transaction)."""
    if not declaration.conversation_id:
        return 0
    pending = list(
        DeclarationEvent.objects.filter(
            declaration__isnull=True,
            conversation_id=declaration.conversation_id,
            window__base_url=declaration.window.base_url,
            window__client_id=declaration.window.client_id,
        ).order_by("sequence")
    )
    for event in pending:
        event.declaration = declaration
        event.save(update_fields=["declaration"])
        ExchangedMessage.objects.filter(pk=event.message_id).update(
            declaration=declaration,
            organisation_id=declaration.organisation_id,
            trade_id=declaration.trade_id,
        )
        apply_event(event)
        declaration.refresh_from_db()
    return len(pending)


#: what applying an answer changes in its declaration
ANSWERED_FIELDS = ["status", "status_at", "last_sequence", "reasons", "mrn"]


def apply_event(
    event: DeclarationEvent, *, save: bool = True, steps: dict[str, ChecklistStep] | None = None
) -> bool:
    """Apply one answer to its declaration (inside the caller's transaction, the declaration locked).

    Applied when it is newer (a higher sequence) than the last answer applied and the declaration is not
    final; otherwise kept as not applied: a late or repeated answer never moves a declaration back. An MRN
    it carries is noted in any case. `save=False`: the caller writes the declaration (ANSWERED_FIELDS),
    the event's `applied` and `pending`, and sends answers_applied (for many answers at once); `steps`: as
    after_status takes them."""
    declaration = event.declaration
    if declaration is None:
        return False
    if (
        not event.status
        or declaration.status in FINAL_STATUSES
        or event.sequence <= declaration.last_sequence
    ):
        if event.mrn and not declaration.mrn:
            declaration.mrn = event.mrn
            if save:
                declaration.save(update_fields=["mrn"])
        if save and (event.applied or event.pending):
            event.applied = event.pending = False
            event.save(update_fields=["applied", "pending"])
        event.applied = event.pending = False
        return False
    old = declaration.status
    declaration.status = event.status
    declaration.status_at = timezone.now()
    declaration.last_sequence = event.sequence
    declaration.reasons = list(event.details.get("reasons") or [])
    if event.mrn:
        declaration.mrn = event.mrn
    if save:
        declaration.save(update_fields=ANSWERED_FIELDS)
    event.applied, event.pending = True, False
    if save:
        event.save(update_fields=["applied", "pending"])
    if event.status == S.QUERY:
        CustomsQuery.objects.create(
            declaration=declaration,
            trade_id=declaration.trade_id,
            organisation_id=declaration.organisation_id,
            event=event,
            text=str(event.details.get("question") or "")[:4000],
            item_no=event.details.get("item") if isinstance(event.details.get("item"), int) else None,
            limit_at=_parse_time(event.details.get("limit_at")),
        )
    elif old == S.QUERY:
        # Customs moved on: a question of this conversation still open is no longer waited for.
        CustomsQuery.objects.filter(
            declaration__conversation_id=declaration.conversation_id,
            declaration__trade_id=declaration.trade_id,
            status=QueryStatus.OPEN,
        ).update(status=QueryStatus.CLOSED)
    # What follows (notifications, then the audited checklist steps) before the answer's own audit event:
    # the audit chain's head is locked from a transaction's first audited write to its commit.
    after_status(declaration, event.status, event=event, steps=steps)
    record_event(
        actor=None,
        organisation_id=declaration.organisation_id,
        action="customs.declaration_answered",
        obj=declaration,
        changes={
            "status": [old, event.status],
            "sequence": event.sequence,
            "notification_id": event.notification_id,
            "mrn": declaration.mrn,
            "message_sha256": event.message.sha256 if event.message_id else "",
            "via": event.via,
        },
    )
    if save:
        answers_applied.send(sender=DeclarationEvent, events=[event])
    return True


def _parse_time(value):
    if not value:
        return None
    from django.utils.dateparse import parse_datetime

    return parse_datetime(str(value))
