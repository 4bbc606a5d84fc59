"""What the marketplace's writes share: limits, milestones, the audit of both sides, reading submitted
values, references, the checklist step moved."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.numbers import typed_decimal
from ismit.lib.scoping import CHANGE
from ismit.marketplace import quality
from ismit.marketplace.models import (
    ServiceType,
)
from ismit.refdata.models import Currency
from ismit.trades.models import ChecklistStep, StepStatus, Trade
from ismit.trades.services import set_step_status

logger = logging.getLogger("ismit.marketplace")

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 13
CONTAINER_TYPES = ("20", "40", "40HC")
MAX_LINES = 50
#: service levels a contract gets where the quote names none
DEFAULT_PICKUP_WITHIN_DAYS = 7
DEFAULT_CLAIMS_RESPONSE_DAYS = 14
CLOSE_BATCH = 200

#: milestone code -> (checklist step, status) it moves; "completed" completes the contract
MILESTONE_STEPS: dict[str, tuple[str, str] | None] = {
    "picked_up": ("handover_to_carrier", StepStatus.DONE),
    "departed": ("departed", StepStatus.DONE),
    "arrived": ("arrived", StepStatus.DONE),
    "delivered": ("delivered", StepStatus.DONE),
    "cleared": ("export_release", StepStatus.DONE),
    "insured": ("cargo_insurance", StepStatus.DONE),
    "completed": None,
}
MILESTONE_LABELS = {
    "picked_up": gettext_lazy("Picked up"),
    "departed": gettext_lazy("Departed"),
    "arrived": gettext_lazy("Arrived"),
    "delivered": pgettext_lazy("milestone", "Delivered"),
    "cleared": gettext_lazy("Cleared by customs"),
    "insured": gettext_lazy("Insured"),
    "completed": gettext_lazy("Service completed"),
}
#: the status acceptance gives the service's step: carriage is booked; the others start
STATUS_ON_ACCEPTANCE: dict[str, str] = {ServiceType.CARRIAGE: StepStatus.DONE}


# -- helpers -------------------------------------------------------------------------------------------


def record_for_both(*organisation_ids: int, actor, action: str, obj, changes: dict) -> None:
    """One audit event in each party's log (the MSME's and the provider's)."""
    for organisation_id in organisation_ids:
        record_event(actor=actor, organisation_id=organisation_id, action=action, obj=obj, changes=changes)


def require_change(actor: Actor, organisation_id: int, message) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(message)


def read_decimal(value: Any, path: str, errors: FieldErrors, *, required: bool = True, minimum=Decimal(0)):
    if value is None or value == "":
        if required:
            errors.add(path, _("This field is required."))
        return None
    number = typed_decimal(value)
    if number is None:
        errors.add(path, _("Enter a number."))
        return None
    if number < minimum:
        errors.add(path, _("Enter a number of at least %(min)s.") % {"min": minimum})
        return None
    if number >= MAX_AMOUNT:
        errors.add(path, _("This number is too large."))
        return None
    return number


def read_int(value: Any, path: str, errors: FieldErrors, *, required: bool = False, minimum: int = 0):
    if value is None or value == "":
        if required:
            errors.add(path, _("This field is required."))
        return None
    try:
        number = int(str(value))
    except ValueError:
        errors.add(path, _("Enter a whole number."))
        return None
    if number < minimum or number > 32000:
        errors.add(path, _("Enter a whole number of at least %(min)s.") % {"min": minimum})
        return None
    return number


def read_date(value: Any, path: str, errors: FieldErrors) -> dt.date | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add(path, _("Enter a date as YYYY-MM-DD."))
    return parsed


def read_datetime(value: Any, path: str, errors: FieldErrors) -> dt.datetime | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(23, 59))
    else:
        try:
            parsed = parse_datetime(str(value))
            if parsed is None and parse_date(str(value)):
                parsed = dt.datetime.combine(parse_date(str(value)), dt.time(23, 59))
        except ValueError:
            parsed = None
    if parsed is None:
        errors.add(path, _("Enter a date and time."))
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def read_currency(code: Any, path: str, errors: FieldErrors) -> Currency | None:
    code = str(code or "").strip().upper()
    currency = Currency.objects.filter(code=code).first() if code else None
    if currency is None:
        errors.add(path, _("Choose an ISO 4217 currency."))
    return currency


def read_lines(raw: Any, errors: FieldErrors, path: str = "lines") -> tuple[list[dict[str, str]], Decimal]:
    """Itemised charges [{code, description, basis, quantity, rate, amount}] and their sum. Every charge is
    a line of its own (all-in: no charge outside the lines)."""
    if not isinstance(raw, list | tuple) or not raw:
        errors.add(path, _("Itemise every charge: at least one line."))
        return [], Decimal("0.00")
    if len(raw) > MAX_LINES:
        errors.add(path, _("At most %(n)s lines.") % {"n": MAX_LINES})
        return [], Decimal("0.00")
    lines, total = [], Decimal("0.00")
    for n, line in enumerate(raw):
        line = dict(line) if not isinstance(line, dict) else line
        here = f"{path}[{n}]"
        code = str(line.get("code") or "").strip().upper()
        if not code or len(code) > 12:
            errors.add(f"{here}.code", _("Enter a charge code of 1 to 12 characters (e.g. FRT, BAF, THC)."))
        description = str(line.get("description") or "").strip()
        if not description or len(description) > 120:
            errors.add(f"{here}.description", _("Describe the charge in at most 120 characters."))
        amount = read_decimal(line.get("amount"), f"{here}.amount", errors)
        quantity = read_decimal(line.get("quantity"), f"{here}.quantity", errors, required=False)
        rate = read_decimal(line.get("rate"), f"{here}.rate", errors, required=False)
        if amount is None:
            continue
        amount = amount.quantize(CENT, ROUND_HALF_UP)
        total += amount
        lines.append(
            {
                "code": code,
                "description": description,
                "basis": str(line.get("basis") or "shipment")[:16],
                "quantity": str(quantity if quantity is not None else Decimal(1)),
                "rate": str(rate if rate is not None else amount),
                "amount": str(amount),
            }
        )
    return lines, total


def refresh_quality(provider_id: int) -> None:
    """Recompute the provider's KPIs once the change is committed (a failure is logged, not raised)."""

    def run() -> None:
        quality.refresh_provider(provider_id)

    transaction.on_commit(run, robust=True)


def next_reference(model, organisation_id: int, prefix: str) -> str:
    year = timezone.localdate().year
    start = f"{prefix}-{year}-"
    count = model.objects.filter(organisation_id=organisation_id, reference__startswith=start).count()
    return f"{start}{count + 1:05d}"


def create_with_reference(model, organisation_id: int, prefix: str, **fields):
    """Create a row with the organisation's next reference; a concurrent create takes the one after."""
    for attempt in range(5):
        reference = next_reference(model, organisation_id, prefix)
        if attempt:
            reference = f"{reference}-{attempt}"
        try:
            with transaction.atomic():
                return model.objects.create(organisation_id=organisation_id, reference=reference, **fields)
        except IntegrityError:
            continue
    raise ValidationError({"__all__": [_("Could not allocate a reference; try again.")]})


def move_step(trade: Trade, code: str, status: str, note: str, actor: Actor, provider: Organisation) -> None:
    """Move a checklist step forward (never back: a done step stays done); steps that do not apply stay."""
    step = ChecklistStep.objects.filter(trade_id=trade.pk, code=code).first()
    if step is None or step.status == StepStatus.NOT_NEEDED:
        return
    if step.status == StepStatus.DONE or step.status == status:
        return
    set_step_status(actor=actor, step=step, status=status, note=note, acting_organisation=provider)
