"""What follows from a status of a declaration: its trade's checklist steps move, and the owner (and the
broker that submitted) are notified.

    after_status(declaration, status, event=...)    # the steps, then the notifications, of an answer
    move_step(trade_id=..., code=..., status=..., note=..., ...)

Used by the submission and the outbox's records (services) and by the application of the answers
(applying); a step the window's answer moves is never reopened once done.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.accounts.services import notify
from ismit.customs import reasons as reason_texts
from ismit.customs.models import Declaration, DeclarationEvent, DeclarationStatus
from ismit.lib.prepared import Prepared, concrete_attnames, instance
from ismit.trades.models import ChecklistStep, Direction, StepStatus, Trade
from ismit.trades.services import move_locked_step, save_moved_steps, set_step_status

S = DeclarationStatus
STEP_CODES = {
    Direction.EXPORT: ("export_declaration", "export_release"),
    Direction.IMPORT: ("import_declaration", "import_release"),
}
# Every step an answer may move (after_status).
STEPS_MOVED = (*sorted({code for codes in STEP_CODES.values() for code in codes}), "departed")
STEP_FIELDS = concrete_attnames(ChecklistStep)

APPLY_BATCH = 50  # declarations whose waiting answers one transaction applies (applying.py)
# The reads of a batch, prepared (lib.prepared) for any number of declarations up to APPLY_BATCH: their ids
# padded to that many (the first one repeated), so that one SQL serves every batch.
BATCH_IDS = tuple(f"id{n}" for n in range(APPLY_BATCH))
_LOCKED_STEPS_ROWS = Prepared(
    lambda **ids: (
        ChecklistStep.objects.select_for_update(of=("self",))
        .filter(trade_id__in=list(ids.values()), code__in=STEPS_MOVED)
        .order_by("pk")
        .values_list(*STEP_FIELDS)
    ),
    *BATCH_IDS,
)


def padded(ids) -> dict[str, int]:
    ids = list(dict.fromkeys(ids))
    return dict(zip(BATCH_IDS, ids + ids[:1] * (APPLY_BATCH - len(ids)), strict=True))


def move_step(
    *,
    trade_id: int,
    code: str,
    status: str,
    note: str,
    organisation: Organisation | None,
    actor: Actor | None,
    step: ChecklistStep | None = None,
    locked: bool = False,
) -> bool:
    """Move the trade's step `code` (read here unless given), unless it does not apply, is done already,
    or says this already. `locked`: the step was given read under its lock (with its trade) and is not
    written here (trades.services.save_moved_steps). True when it moved."""
    if step is None:
        step = ChecklistStep.objects.filter(trade_id=trade_id, code=code).first()
    if step is None or step.status == StepStatus.NOT_NEEDED:
        return False
    if step.status == StepStatus.DONE and status != StepStatus.DONE:
        return False  # a done step is not reopened by an answer about it
    if step.status == status and step.note == note[:300]:
        return False
    if locked:
        move_locked_step(actor=actor, step=step, status=status, note=note, acting_organisation=organisation)
    else:
        set_step_status(actor=actor, step=step, status=status, note=note, acting_organisation=organisation)
    return True


TITLES = {
    S.RECEIVED: gettext_lazy("{reference}: declaration received by customs"),
    S.ACCEPTED: gettext_lazy("{reference}: declaration accepted, MRN {mrn}"),
    S.REJECTED: gettext_lazy("{reference}: declaration rejected by customs"),
    S.QUERY: gettext_lazy("{reference}: customs asks a question"),
    S.DOCUMENTS_REQUIRED: gettext_lazy("{reference}: customs asks to see documents"),
    S.CONTROL: gettext_lazy("{reference}: customs will inspect the goods"),
    S.CLEARED: gettext_lazy("{reference}: goods released by customs"),
    S.GOODS_EXITED: gettext_lazy("{reference}: exit of the goods confirmed"),
    S.FAILED: gettext_lazy("{reference}: the declaration could not be delivered"),
}
# In the platform only, no e-mail: the statuses that ask nothing of the MSME. E-mailed are those that do, or
# that it waits for: accepted (its MRN), a query, documents asked, an inspection, rejected, released, failed.
QUIET = frozenset({S.RECEIVED, S.GOODS_EXITED})


def _render_body(reasons: list, details: dict) -> str:
    lines = [reason_texts.describe(r) for r in reasons]
    question = details.get("question") or ""
    text = reason_texts.statement(details)
    if question:
        lines.insert(0, question)
    elif text:
        lines.insert(0, text)
    return "\n".join(lines)


_lazy_body = lazy(_render_body, str)


def _notification_body(declaration: Declaration, event: DeclarationEvent | None) -> object:
    """The lines of the notification, rendered in each member's language."""
    return _lazy_body(list(declaration.reasons), dict(event.details) if event else {})


def after_status(
    declaration: Declaration,
    status: str,
    *,
    event: DeclarationEvent | None,
    steps: dict[str, ChecklistStep] | None = None,
) -> None:
    """The checklist steps, notifications of the owner (and of the broker that submitted). `steps`: the
    trade's steps that answers move (STEPS_MOVED), read under their lock by the caller, who writes those
    that moved (trades.services.save_moved_steps)."""
    trade = declaration.trade
    declare_code, release_code = STEP_CODES.get(declaration.kind, STEP_CODES[Direction.EXPORT])
    submitter = declaration.submitted_by_organisation
    user = declaration.submitted_by
    with translation.override(user.language if user else settings.LANGUAGE_CODE):
        moves: list[tuple[str, str, str]] = []
        if status in (S.SENT, S.RECEIVED):
            moves.append((declare_code, StepStatus.IN_PROGRESS, _("Received by customs.")))
        elif status == S.ACCEPTED:
            moves.append(
                (
                    declare_code,
                    StepStatus.IN_PROGRESS,
                    _("Accepted by customs, MRN %(mrn)s.") % {"mrn": declaration.mrn},
                )
            )
        elif status == S.QUERY:
            moves.append((declare_code, StepStatus.IN_PROGRESS, _("Customs asked a question: answer it.")))
        elif status == S.DOCUMENTS_REQUIRED:
            moves.append((release_code, StepStatus.IN_PROGRESS, _("Documentary check by customs.")))
        elif status == S.CONTROL:
            moves.append((release_code, StepStatus.IN_PROGRESS, _("Physical inspection by customs.")))
        elif status in (S.CLEARED, S.GOODS_EXITED):
            note = _("Released by customs, MRN %(mrn)s.") % {"mrn": declaration.mrn}
            moves += [(declare_code, StepStatus.DONE, note), (release_code, StepStatus.DONE, note)]
            if status == S.GOODS_EXITED and declaration.kind == Direction.EXPORT:
                moves.append(("departed", StepStatus.DONE, _("Exit of the goods confirmed by customs.")))
        elif status == S.REJECTED:
            moves.append(
                (
                    declare_code,
                    StepStatus.BLOCKED,
                    _("Rejected by customs: correct the trade and submit again."),
                )
            )
        elif status == S.FAILED:
            moves.append((declare_code, StepStatus.BLOCKED, _("Could not be delivered to customs.")))
    _notify_status(declaration, status, event=event)
    # The steps last: each one is audited (see applying.apply_event).
    if not moves:
        return
    given = steps is not None
    if steps is None:
        steps = steps_locked([trade], [m[0] for m in moves]).get(trade.pk, {})
    moved = []
    with translation.override(user.language if user else settings.LANGUAGE_CODE):
        for code, step_status, note in moves:
            if code in steps and move_step(
                trade_id=trade.pk,
                code=code,
                status=step_status,
                note=note,
                organisation=submitter,
                actor=None,
                step=steps[code],
                locked=True,
            ):
                moved.append(steps[code])
    if not given:
        save_moved_steps(moved)


def steps_locked(trades: list[Trade], codes) -> dict[int, dict[str, ChecklistStep]]:
    """The steps `codes` of these trades, locked for the caller's transaction, by trade and code (each with
    its trade)."""
    by_pk = {t.pk: t for t in trades}
    found: dict[int, dict[str, ChecklistStep]] = {pk: {} for pk in by_pk}
    if codes is STEPS_MOVED and len(by_pk) <= APPLY_BATCH:
        steps = [
            instance(ChecklistStep, STEP_FIELDS, row) for row in _LOCKED_STEPS_ROWS.rows(**padded(by_pk))
        ]
    else:
        steps = ChecklistStep.objects.select_for_update(of=("self",)).filter(
            trade_id__in=by_pk, code__in=codes
        )
        steps = steps.order_by("pk")
    for step in steps:
        step.trade = by_pk[step.trade_id]
        found[step.trade_id][step.code] = step
    return found


def _notify_status(declaration: Declaration, status: str, *, event: DeclarationEvent | None) -> None:
    trade = declaration.trade
    title = TITLES.get(status)
    if title is None:
        return
    title = format_lazy(title, reference=trade.reference, mrn=declaration.mrn or "—")
    body = _notification_body(declaration, event)
    url = reverse("customs:trade", kwargs={"pk": trade.pk})
    for organisation_id in dict.fromkeys(
        [declaration.organisation_id, declaration.submitted_by_organisation_id]
    ):
        notify(
            organisation_id=organisation_id,
            kind=f"customs.{status}",
            title=title,
            body=body,
            url=url,
            email=status not in QUIET,
        )
