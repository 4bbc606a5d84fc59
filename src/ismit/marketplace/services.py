"""Writes of the marketplace's requests for quotation, quotes, contracts, milestones, invoices, ratings and
claims. Each is atomic, audited, and tells the other side (in-app and e-mail); each event that changes a
provider's KPIs recomputes its quality once the transaction commits (`quality.refresh_provider`).

The path: `create_rfq` (from a trade: matched providers are invited, each with an indicative quote from
its rate card) → `submit_quote` (firm, all-in, before the deadline; replaces the provider's previous
firm quote) or `decline_invitation` → `accept_quote` (a contract: price, SLA, data scope; the other
quotes of the service declined; the checklist step booked) → `record_milestone` / `raise_invoice`
(provider) → `rate_contract` / `open_claim` (MSME).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.scoping import CHANGE
from ismit.marketplace import matching, pricing, quality, queries, scopes
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import (
    PROVIDER_TYPES_OF_SERVICE,
    STEP_OF_SERVICE,
    Claim,
    Contract,
    ContractAccess,
    ContractStatus,
    Milestone,
    ProviderInvoice,
    Quote,
    QuoteKind,
    QuoteStatus,
    Rating,
    Rfq,
    RfqInvitation,
    RfqStatus,
    ServiceOffering,
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


def _record_for_both(*organisation_ids: int, actor, action: str, obj, changes: dict) -> None:
    """One audit event in each party's log (the MSME's and the provider's)."""
    for organisation_id in organisation_ids:
        record_event(actor=actor, organisation_id=organisation_id, action=action, obj=obj, changes=changes)


def _require(actor: Actor, organisation_id: int, message) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(message)


def _decimal(value: Any, path: str, errors: FieldErrors, *, required: bool = True, minimum=Decimal(0)):
    if value is None or value == "":
        if required:
            errors.add(path, _("This field is required."))
        return None
    text = str(value).replace(",", ".").replace(" ", "").replace("\u00a0", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.add(path, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(path, _("Enter a number."))
        return None
    if number < minimum:
        errors.add(path, _("Enter a number of at least %(min)s.") % {"min": minimum})
        return None
    if number >= MAX_AMOUNT:
        errors.add(path, _("This number is too large."))
        return None
    return number


def _int(value: Any, path: str, errors: FieldErrors, *, required: bool = False, minimum: int = 0):
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


def _date(value: Any, path: str, errors: FieldErrors) -> dt.date | None:
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


def _datetime(value: Any, path: str, errors: FieldErrors) -> dt.datetime | None:
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


def _currency(code: Any, path: str, errors: FieldErrors) -> Currency | None:
    code = str(code or "").strip().upper()
    currency = Currency.objects.filter(code=code).first() if code else None
    if currency is None:
        errors.add(path, _("Choose an ISO 4217 currency."))
    return currency


def _lines(raw: Any, errors: FieldErrors, path: str = "lines") -> tuple[list[dict[str, str]], Decimal]:
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
        amount = _decimal(line.get("amount"), f"{here}.amount", errors)
        quantity = _decimal(line.get("quantity"), f"{here}.quantity", errors, required=False)
        rate = _decimal(line.get("rate"), f"{here}.rate", errors, required=False)
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


def _refresh_quality(provider_id: int) -> None:
    """Recompute the provider's KPIs once the change is committed (a failure is logged, not raised)."""

    def run() -> None:
        quality.refresh_provider(provider_id)

    transaction.on_commit(run, robust=True)


def _next_reference(model, organisation_id: int, prefix: str) -> str:
    year = timezone.localdate().year
    start = f"{prefix}-{year}-"
    count = model.objects.filter(organisation_id=organisation_id, reference__startswith=start).count()
    return f"{start}{count + 1:05d}"


def _create_with_reference(model, organisation_id: int, prefix: str, **fields):
    """Create a row with the organisation's next reference; a concurrent create takes the one after."""
    for attempt in range(5):
        reference = _next_reference(model, organisation_id, prefix)
        if attempt:
            reference = f"{reference}-{attempt}"
        try:
            with transaction.atomic():
                return model.objects.create(organisation_id=organisation_id, reference=reference, **fields)
        except IntegrityError:
            continue
    raise ValidationError({"__all__": [_("Could not allocate a reference; try again.")]})


def _move_step(trade: Trade, code: str, status: str, note: str, actor: Actor, provider: Organisation) -> None:
    """Move a checklist step forward (never back: a done step stays done); steps that do not apply stay."""
    step = ChecklistStep.objects.filter(trade_id=trade.pk, code=code).first()
    if step is None or step.status == StepStatus.NOT_NEEDED:
        return
    if step.status == StepStatus.DONE or step.status == status:
        return
    set_step_status(actor=actor, step=step, status=status, note=note, acting_organisation=provider)


# -- requests for quotation --------------------------------------------------------------------------


@dataclasses.dataclass
class CargoAdditions:
    """What the MSME adds to the cargo derived from its trade."""

    volume_m3: Decimal | str | None = None
    containers: dict[str, int] | None = None
    dangerous_goods: bool = False
    temperature_control: bool = False


def _cargo(trade: Trade, additions: CargoAdditions | dict | None, errors: FieldErrors) -> CargoSpec:
    if isinstance(additions, dict):
        additions = CargoAdditions(**additions)
    additions = additions or CargoAdditions()
    volume = _decimal(additions.volume_m3, "cargo.volume_m3", errors, required=False)
    containers: dict[str, int] = {}
    for kind, count in (additions.containers or {}).items():
        kind = str(kind).upper()
        if kind not in CONTAINER_TYPES:
            errors.add("cargo.containers", _("Container types are 20, 40 and 40HC."))
            continue
        number = _int(count, f"cargo.containers.{kind}", errors)
        if number:
            containers[kind] = number
    base = queries.cargo_from_trade(trade)
    return dataclasses.replace(
        base,
        volume_m3=volume if volume is not None else Decimal(0),
        containers=containers,
        dangerous_goods=bool(additions.dangerous_goods),
        temperature_control=bool(additions.temperature_control),
    )


def _cheapest(offerings: list[ServiceOffering], cargo: CargoSpec, on: dt.date):
    """(offering, price) of the provider's cheapest priced offering (ties: lowest id); an offering that
    its rate card cannot price only if none can be priced."""
    best = None
    for offering in offerings:
        price = pricing.price_offering(offering=offering, cargo=cargo, on=on)
        if price is None:
            continue
        if best is None or (price.total, offering.pk) < (best[1].total, best[0].pk):
            best = (offering, price)
    return best or (offerings[0], None)


def create_rfq(
    *,
    actor: Actor,
    trade: Trade,
    services: list[str],
    cargo: CargoAdditions | dict | None = None,
    deadline: dt.datetime | str | None,
    notes: str = "",
    currency: str | None = None,
) -> Rfq:
    """Request quotes for `services` of the trade from every listed provider whose catalogue covers the
    cargo: one invitation per provider and service (its cheapest matching offering), each with an
    indicative quote from that offering's rate card, and a notice to the provider."""
    organisation = trade.organisation
    _require(actor, organisation.pk, _("You may not request services for this trade."))
    if not organisation.can_submit_to_third_parties:
        raise PermissionDenied(
            _("Your organisation is not verified yet: it cannot send requests to providers.")
        )
    errors = FieldErrors()
    wanted = list(dict.fromkeys(str(s) for s in services or []))
    if not wanted:
        errors.add("services", _("Choose at least one service."))
    for service in wanted:
        if service not in ServiceType.values:
            errors.add("services", _("Unknown service: %(service)s") % {"service": service})
    due = _datetime(deadline, "deadline", errors)
    now = timezone.now()
    if due is not None and due <= now:
        errors.add("deadline", _("The deadline must be in the future."))
    elif due is not None and due > now + dt.timedelta(days=90):
        errors.add("deadline", _("The deadline must be within 90 days."))
    ccy = _currency(currency or trade.currency_id, "currency", errors)
    notes = (notes or "").strip()
    if len(notes) > 2000:
        errors.add("notes", _("Use at most 2000 characters."))
    spec = _cargo(trade, cargo, errors)
    errors.raise_if_any()

    today = timezone.localdate()
    with transaction.atomic():
        rfq = _create_with_reference(
            Rfq,
            organisation.pk,
            "RFQ",
            trade=trade,
            services=wanted,
            cargo=spec.to_json(),
            currency=ccy,
            notes=notes,
            deadline=due,
            created_by=actor.user,
            created_at=now,
        )
        invited: dict[int, list[str]] = {}
        for service in wanted:
            allowed = set(PROVIDER_TYPES_OF_SERVICE.get(service, ()))
            by_provider: dict[int, list[ServiceOffering]] = {}
            for offering in matching.match_offerings(service_type=service, cargo=spec, on=today):
                if offering.organisation_id == organisation.pk:
                    continue
                by_provider.setdefault(offering.organisation_id, []).append(offering)
            providers = {
                o.pk: o
                for o in Organisation.objects.filter(pk__in=by_provider)
                if allowed & set(o.provider_types or [])
            }
            for provider_id in sorted(providers):
                offering, price = _cheapest(by_provider[provider_id], spec, today)
                RfqInvitation.objects.create(
                    rfq=rfq, provider_id=provider_id, offering=offering, service_type=service, invited_at=now
                )
                if price is not None:
                    Quote.objects.create(
                        rfq=rfq,
                        provider_id=provider_id,
                        offering=offering,
                        service_type=service,
                        kind=QuoteKind.INDICATIVE,
                        currency_id=price.currency,
                        lines=price.lines_json(),
                        total=price.total,
                        transit_days=offering.transit_days,
                        valid_until=offering.valid_until,
                        terms=offering.terms,
                        created_at=now,
                    )
                invited.setdefault(provider_id, []).append(service)
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="marketplace.rfq_created",
            obj=rfq,
            changes={
                "trade": trade.reference,
                "reference": rfq.reference,
                "services": wanted,
                "deadline": due.isoformat(),
                "invited": {str(k): v for k, v in invited.items()},
            },
        )
        url = reverse("marketplace:inbox")
        for provider_id, provider_services in invited.items():
            record_event(
                actor=actor,
                organisation_id=provider_id,
                action="marketplace.rfq_invitation",
                obj=rfq,
                changes={"reference": rfq.reference, "services": provider_services},
            )
            notify(
                organisation_id=provider_id,
                kind="marketplace.rfq_invitation",
                title=format_lazy(
                    gettext_lazy("Request for quotation {reference}: quotes due by {deadline}"),
                    reference=rfq.reference,
                    deadline=timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                ),
                body=spec.description,
                url=url,
            )
    return rfq


def note_invitations_viewed(invitations: list[RfqInvitation]) -> None:
    """The first time a provider opens its invitations (a response-time KPI), not audited: a read."""
    pending = [i.pk for i in invitations if i.first_viewed_at is None]
    if pending:
        RfqInvitation.objects.filter(pk__in=pending, first_viewed_at__isnull=True).update(
            first_viewed_at=timezone.now()
        )


def _invitation_of(actor: Actor, rfq: Rfq, service_type: str, provider: Organisation | None) -> RfqInvitation:
    invitations = RfqInvitation.objects.select_related("provider").filter(rfq=rfq, service_type=service_type)
    if provider is not None:
        invitations = invitations.filter(provider=provider)
    for invitation in invitations.order_by("provider_id"):
        if actor.can(CHANGE, invitation.provider_id):
            return invitation
    raise PermissionDenied(_("Your organisation was not invited to quote for this service."))


def _check_open(rfq: Rfq, now: dt.datetime) -> None:
    if rfq.status != RfqStatus.OPEN or now >= rfq.deadline:
        raise ValidationError({"__all__": [_("This request is closed: its deadline has passed.")]})


def submit_quote(
    *,
    actor: Actor,
    rfq: Rfq,
    service_type: str,
    lines: list[dict],
    currency: str,
    valid_until: dt.date | str,
    transit_days: int | str | None = None,
    terms: str = "",
    pickup_within_days: int | str | None = None,
    claims_response_days: int | str | None = None,
    provider: Organisation | None = None,
) -> Quote:
    """A firm quote, all-in and binding until `valid_until`: every charge itemised, the total their sum.
    Replaces the provider's previous firm quote for the service (withdrawn) until the deadline."""
    invitation = _invitation_of(actor, rfq, service_type, provider)
    if invitation.declined:
        raise ValidationError({"__all__": [_("You declined this request.")]})
    errors = FieldErrors()
    priced, total = _lines(lines, errors)
    ccy = _currency(currency, "currency", errors)
    valid = _date(valid_until, "valid_until", errors)
    today = timezone.localdate()
    if valid is not None and valid < today:
        errors.add("valid_until", _("A quote must be valid today at least."))
    transit = _int(transit_days, "transit_days", errors, minimum=0)
    if service_type == ServiceType.CARRIAGE and transit is None:
        errors.add("transit_days", _("Give the transit time in days."))
    pickup = _int(pickup_within_days, "pickup_within_days", errors, minimum=0)
    claims = _int(claims_response_days, "claims_response_days", errors, minimum=1)
    terms = (terms or "").strip()
    if len(terms) > 4000:
        errors.add("terms", _("Use at most 4000 characters."))
    errors.raise_if_any()
    sla = {
        k: v for k, v in (("pickup_within_days", pickup), ("claims_response_days", claims)) if v is not None
    }
    now = timezone.now()
    with transaction.atomic():
        rfq = Rfq.objects.select_for_update().get(pk=rfq.pk)
        _check_open(rfq, now)
        previous = list(
            Quote.objects.select_for_update().filter(
                rfq=rfq,
                provider_id=invitation.provider_id,
                service_type=service_type,
                kind=QuoteKind.FIRM,
                status=QuoteStatus.SUBMITTED,
            )
        )
        Quote.objects.filter(pk__in=[q.pk for q in previous]).update(
            status=QuoteStatus.WITHDRAWN, decided_at=now
        )
        quote = Quote.objects.create(
            rfq=rfq,
            provider_id=invitation.provider_id,
            offering_id=invitation.offering_id,
            service_type=service_type,
            kind=QuoteKind.FIRM,
            currency=ccy,
            lines=priced,
            total=total,
            transit_days=transit,
            valid_until=valid,
            terms=terms,
            sla=sla,
            submitted_by=actor.user,
            created_at=now,
        )
        if invitation.responded_at is None:
            RfqInvitation.objects.filter(pk=invitation.pk).update(responded_at=now)
        changes = {
            "rfq": rfq.reference,
            "service": service_type,
            "total": str(total),
            "currency": ccy.code,
            "valid_until": valid.isoformat(),
            "replaces": [q.pk for q in previous],
        }
        _record_for_both(
            invitation.provider_id,
            rfq.organisation_id,
            actor=actor,
            action="marketplace.quote_submitted",
            obj=quote,
            changes=changes,
        )
        notify(
            organisation_id=rfq.organisation_id,
            kind="marketplace.quote_submitted",
            title=format_lazy(
                gettext_lazy("{provider} quoted {total} {currency} on {reference}"),
                provider=invitation.provider.legal_name,
                total=total,
                currency=ccy.code,
                reference=rfq.reference,
            ),
            url=reverse("marketplace:rfq", args=[rfq.pk]),
        )
        _refresh_quality(invitation.provider_id)
    return quote


def confirm_quote(*, actor: Actor, quote: Quote, valid_until: dt.date | str | None = None) -> Quote:
    """The provider confirms its indicative quote as firm: a firm quote with the same lines (valid until
    `valid_until`, else the indicative quote's validity)."""
    _require(actor, quote.provider_id, _("Only the provider that made this quote may confirm it."))
    if quote.kind != QuoteKind.INDICATIVE or quote.status != QuoteStatus.SUBMITTED:
        raise ValidationError({"__all__": [_("Only a submitted indicative quote can be confirmed.")]})
    return submit_quote(
        actor=actor,
        rfq=quote.rfq,
        service_type=quote.service_type,
        lines=list(quote.lines),
        currency=quote.currency_id,
        valid_until=valid_until or quote.valid_until,
        transit_days=quote.transit_days if quote.transit_days is not None else 0,
        terms=quote.terms,
        provider=quote.provider,
    )


def decline_invitation(*, actor: Actor, invitation: RfqInvitation, reason: str = "") -> RfqInvitation:
    """The provider will not quote for this service: its quotes for it are withdrawn."""
    _require(actor, invitation.provider_id, _("You may not answer for this provider."))
    reason = (reason or "").strip()[:300]
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            RfqInvitation.objects.select_for_update(of=("self",))
            .select_related("rfq", "provider")
            .get(pk=invitation.pk)
        )
        if invitation.declined:
            raise ValidationError({"__all__": [_("You already declined this request.")]})
        if invitation.rfq.status == RfqStatus.AWARDED:
            raise ValidationError({"__all__": [_("This request is already awarded.")]})
        invitation.declined = True
        invitation.responded_at = invitation.responded_at or now
        invitation.save(update_fields=["declined", "responded_at"])
        Quote.objects.filter(
            rfq_id=invitation.rfq_id,
            provider_id=invitation.provider_id,
            service_type=invitation.service_type,
            status=QuoteStatus.SUBMITTED,
        ).update(status=QuoteStatus.WITHDRAWN, decided_at=now)
        changes = {"rfq": invitation.rfq.reference, "service": invitation.service_type, "reason": reason}
        _record_for_both(
            invitation.provider_id,
            invitation.rfq.organisation_id,
            actor=actor,
            action="marketplace.invitation_declined",
            obj=invitation,
            changes=changes,
        )
        notify(
            organisation_id=invitation.rfq.organisation_id,
            kind="marketplace.invitation_declined",
            title=format_lazy(
                gettext_lazy("{provider} will not quote on {reference}"),
                provider=invitation.provider.legal_name,
                reference=invitation.rfq.reference,
            ),
            body=reason,
            url=reverse("marketplace:rfq", args=[invitation.rfq_id]),
        )
        _refresh_quality(invitation.provider_id)
    return invitation


def close_expired_rfqs(*, now: dt.datetime | None = None, batch: int = CLOSE_BATCH) -> int:
    """Close the open RFQs whose deadline has passed (a batch at a time); their MSMEs are told."""
    now = now or timezone.now()
    closed = 0
    with transaction.atomic():
        due = list(
            Rfq.objects.select_for_update(skip_locked=True)
            .filter(status=RfqStatus.OPEN, deadline__lte=now)
            .order_by("deadline", "id")[:batch]
        )
        for rfq in due:
            Rfq.objects.filter(pk=rfq.pk).update(status=RfqStatus.CLOSED)
            record_event(
                actor=None,
                organisation_id=rfq.organisation_id,
                action="marketplace.rfq_closed",
                obj=rfq,
                changes={"reference": rfq.reference, "status": [RfqStatus.OPEN, RfqStatus.CLOSED]},
            )
            notify(
                organisation_id=rfq.organisation_id,
                kind="marketplace.rfq_closed",
                title=format_lazy(
                    gettext_lazy("Quotes are in for {reference}: compare and accept"), reference=rfq.reference
                ),
                url=reverse("marketplace:rfq", args=[rfq.pk]),
            )
            closed += 1
    return closed


# -- acceptance and contracts ------------------------------------------------------------------------


def accept_quote(*, actor: Actor, quote: Quote) -> Contract:
    """Accept a firm quote: a contract with the provider (price, SLA, the service's data scope); the other
    quotes for the service are declined with notice; the RFQ is awarded once every service is; the
    service's checklist step is booked."""
    _require(actor, quote.rfq.organisation_id, _("You may not accept quotes for this organisation."))
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        rfq = (
            Rfq.objects.select_for_update(of=("self",))
            .select_related("trade", "organisation")
            .get(pk=quote.rfq_id)
        )
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("provider", "offering")
            .get(pk=quote.pk)
        )
        if quote.kind != QuoteKind.FIRM:
            raise ValidationError(
                {"__all__": [_("An indicative quote must first be confirmed as firm by its provider.")]}
            )
        if quote.status != QuoteStatus.SUBMITTED:
            raise ValidationError({"__all__": [_("This quote is no longer open.")]})
        if quote.valid_until < today:
            raise ValidationError({"__all__": [_("This quote has expired.")]})
        if rfq.status == RfqStatus.CANCELLED:
            raise ValidationError({"__all__": [_("This request was cancelled.")]})
        if Contract.objects.filter(rfq=rfq, service_type=quote.service_type).exists():
            raise ValidationError({"__all__": [_("This service is already awarded.")]})
        offering = quote.offering
        sla = {
            "pickup_within_days": quote.sla.get("pickup_within_days", DEFAULT_PICKUP_WITHIN_DAYS),
            "transit_days": quote.transit_days
            if quote.transit_days is not None
            else getattr(offering, "transit_days", None),
            "claims_response_days": quote.sla.get("claims_response_days", DEFAULT_CLAIMS_RESPONSE_DAYS),
        }
        contract = _create_with_reference(
            Contract,
            rfq.organisation_id,
            "SC",
            provider_id=quote.provider_id,
            trade_id=rfq.trade_id,
            rfq=rfq,
            quote=quote,
            service_type=quote.service_type,
            currency_id=quote.currency_id,
            price=quote.total,
            sla=sla,
            data_scope=scopes.scope_of(quote.service_type),
            accepted_by=actor.user,
            created_at=now,
        )
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.ACCEPTED, decided_at=now)
        others = list(
            Quote.objects.filter(rfq=rfq, service_type=quote.service_type, status=QuoteStatus.SUBMITTED)
            .exclude(pk=quote.pk)
            .select_related("provider")
        )
        Quote.objects.filter(pk__in=[q.pk for q in others]).update(
            status=QuoteStatus.DECLINED, decided_at=now
        )
        awarded = set(Contract.objects.filter(rfq=rfq).values_list("service_type", flat=True))
        if set(rfq.services) <= awarded:
            Rfq.objects.filter(pk=rfq.pk).update(status=RfqStatus.AWARDED)
        changes = {
            "rfq": rfq.reference,
            "contract": contract.reference,
            "service": quote.service_type,
            "price": str(quote.total),
            "currency": quote.currency_id,
            "sla": sla,
            "data_scope": contract.data_scope,
            "declined_quotes": [q.pk for q in others],
        }
        _record_for_both(
            rfq.organisation_id,
            quote.provider_id,
            actor=actor,
            action="marketplace.quote_accepted",
            obj=contract,
            changes=changes,
        )
        step = STEP_OF_SERVICE.get(quote.service_type)
        if step:
            _move_step(
                rfq.trade,
                step,
                STATUS_ON_ACCEPTANCE.get(quote.service_type, StepStatus.IN_PROGRESS),
                _("%(provider)s, contract %(reference)s")
                % {"provider": quote.provider.legal_name, "reference": contract.reference},
                actor,
                quote.provider,
            )
        notify(
            organisation_id=quote.provider_id,
            kind="marketplace.quote_accepted",
            title=format_lazy(
                gettext_lazy("Your quote on {reference} was accepted: contract {contract}"),
                reference=rfq.reference,
                contract=contract.reference,
            ),
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        for other in {q.provider_id: q for q in others if q.provider_id != quote.provider_id}.values():
            notify(
                organisation_id=other.provider_id,
                kind="marketplace.quote_declined",
                title=format_lazy(
                    gettext_lazy("Your quote on {reference} was not chosen"), reference=rfq.reference
                ),
                url=reverse("marketplace:inbox"),
            )
        for provider_id in {quote.provider_id, *(q.provider_id for q in others)}:
            _refresh_quality(provider_id)
    return contract


def read_shared_data(*, actor: Actor, contract: Contract, channel: str) -> dict[str, Any]:
    """The trade's data the contract shares. A read by the provider's side is logged (ContractAccess and
    an audit event in both organisations' logs); the MSME reads it unlogged (it is its own data)."""
    view = scopes.shared_view(contract)
    if actor.can("view", contract.organisation_id):
        return view
    fields = list(contract.data_scope)
    with transaction.atomic():
        access = ContractAccess.objects.create(
            contract=contract, user=actor.user, channel=channel[:8], fields=fields
        )
        _record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.shared_data_read",
            obj=access,
            changes={"contract": contract.reference, "channel": channel, "fields": fields},
        )
    return view


# -- milestones, invoices, ratings, claims -------------------------------------------------------------


def _require_provider(actor: Actor, contract: Contract) -> None:
    _require(actor, contract.provider_id, _("Only the provider under this contract may do this."))


def _require_active(contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise ValidationError({"__all__": [_("This contract is no longer in progress.")]})


def record_milestone(
    *, actor: Actor, contract: Contract, code: str, at: dt.datetime | str | None = None, note: str = ""
) -> Milestone:
    """The provider records a service milestone; some move the trade's checklist, "completed" completes
    the contract (and its service's step)."""
    _require_provider(actor, contract)
    errors = FieldErrors()
    if code not in MILESTONE_STEPS:
        errors.add("code", _("Choose a milestone: %(codes)s") % {"codes": ", ".join(MILESTONE_STEPS)})
    now = timezone.now()
    when = now if at in (None, "") else _datetime(at, "at", errors)
    if when is not None and when > now + dt.timedelta(minutes=5):
        errors.add("at", _("A milestone cannot be dated in the future."))
    note = (note or "").strip()
    if len(note) > 300:
        errors.add("note", _("Use at most 300 characters."))
    errors.raise_if_any()
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("trade", "provider")
            .get(pk=contract.pk)
        )
        _require_active(contract)
        milestone = Milestone.objects.create(
            contract=contract, code=code, at=when, note=note, recorded_by=actor.user, created_at=now
        )
        label = str(MILESTONE_LABELS[code])
        target = MILESTONE_STEPS[code]
        if target is not None:
            _move_step(
                contract.trade,
                target[0],
                target[1],
                f"{label} · {contract.reference}",
                actor,
                contract.provider,
            )
        else:
            contract.status = ContractStatus.COMPLETED
            contract.completed_at = when
            contract.save(update_fields=["status", "completed_at"])
            step = STEP_OF_SERVICE.get(contract.service_type)
            if step:
                _move_step(
                    contract.trade,
                    step,
                    StepStatus.DONE,
                    f"{label} · {contract.reference}",
                    actor,
                    contract.provider,
                )
        changes = {"contract": contract.reference, "code": code, "at": when.isoformat(), "note": note}
        _record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.milestone_recorded",
            obj=milestone,
            changes=changes,
        )
        notify(
            organisation_id=contract.organisation_id,
            kind="marketplace.milestone",
            title=format_lazy(
                gettext_lazy("{contract}: {milestone}"),
                contract=contract.reference,
                milestone=MILESTONE_LABELS[code],
            ),
            body=note,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        _refresh_quality(contract.provider_id)
    return milestone


def raise_invoice(
    *,
    actor: Actor,
    contract: Contract,
    number: str,
    issued_on: dt.date | str | None,
    lines: list[dict],
    currency: str | None = None,
) -> ProviderInvoice:
    """The provider invoices the contract, itemised like its quote and in the contract's currency; the
    variance is the invoice total less the accepted quote's."""
    _require_provider(actor, contract)
    errors = FieldErrors()
    number = (number or "").strip()
    if not number or len(number) > 40:
        errors.add("number", _("Enter the invoice number (at most 40 characters)."))
    issued = _date(issued_on, "issued_on", errors)
    if issued is not None and issued > timezone.localdate():
        errors.add("issued_on", _("An invoice cannot be dated in the future."))
    if currency and str(currency).strip().upper() != contract.currency_id:
        errors.add(
            "currency", _("Invoice in the contract's currency, %(ccy)s.") % {"ccy": contract.currency_id}
        )
    priced, total = _lines(lines, errors)
    errors.raise_if_any()
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",)).select_related("quote").get(pk=contract.pk)
        )
        if contract.status == ContractStatus.CANCELLED:
            raise ValidationError({"__all__": [_("This contract was cancelled.")]})
        if ProviderInvoice.objects.filter(contract=contract, number=number).exists():
            raise ValidationError({"number": [_("This invoice number is already used on this contract.")]})
        invoice = ProviderInvoice.objects.create(
            contract=contract,
            number=number,
            issued_on=issued,
            currency_id=contract.currency_id,
            lines=priced,
            total=total,
            variance=total - contract.quote.total,
        )
        changes = {
            "contract": contract.reference,
            "number": number,
            "total": str(total),
            "variance": str(invoice.variance),
        }
        _record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.invoice_raised",
            obj=invoice,
            changes=changes,
        )
        notify(
            organisation_id=contract.organisation_id,
            kind="marketplace.invoice",
            title=format_lazy(
                gettext_lazy("Invoice {number} on {contract}: {total} {currency}"),
                number=number,
                contract=contract.reference,
                total=total,
                currency=contract.currency_id,
            ),
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        _refresh_quality(contract.provider_id)
    return invoice


def rate_contract(*, actor: Actor, contract: Contract, stars: int | str, comment: str = "") -> Rating:
    """The MSME rates a completed contract, once (1 to 5 stars)."""
    _require(actor, contract.organisation_id, _("Only the MSME under this contract may rate it."))
    errors = FieldErrors()
    value = _int(stars, "stars", errors, required=True, minimum=1)
    if value is not None and value > 5:
        errors.add("stars", _("Rate from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors.add("comment", _("Use at most 2000 characters."))
    errors.raise_if_any()
    if contract.status != ContractStatus.COMPLETED:
        raise ValidationError({"__all__": [_("A contract is rated once it is completed.")]})
    already = _("This contract is already rated.")
    with transaction.atomic():
        if Rating.objects.filter(contract=contract).exists():
            raise ValidationError({"__all__": [already]})
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    contract=contract, stars=value, comment=comment, rated_by=actor.user
                )
        except IntegrityError:
            raise ValidationError({"__all__": [already]})
        _record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.contract_rated",
            obj=rating,
            changes={"contract": contract.reference, "stars": value},
        )
        notify(
            organisation_id=contract.provider_id,
            kind="marketplace.rating",
            title=format_lazy(
                gettext_lazy("{contract} rated {stars}/5"), contract=contract.reference, stars=value
            ),
            body=comment,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        _refresh_quality(contract.provider_id)
    return rating


def open_claim(
    *, actor: Actor, contract: Contract, reason: str, amount: Decimal | str | None = None
) -> Claim:
    """The MSME opens a claim against a contract (loss, damage, delay, overcharge)."""
    _require(actor, contract.organisation_id, _("Only the MSME under this contract may open a claim."))
    errors = FieldErrors()
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", _("Say what the claim is about."))
    elif len(reason) > 4000:
        errors.add("reason", _("Use at most 4000 characters."))
    value = _decimal(amount, "amount", errors, required=False)
    errors.raise_if_any()
    if contract.status == ContractStatus.CANCELLED:
        raise ValidationError({"__all__": [_("This contract was cancelled.")]})
    with transaction.atomic():
        claim = Claim.objects.create(
            contract=contract, reason=reason, amount=value.quantize(CENT) if value is not None else None
        )
        _record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.claim_opened",
            obj=claim,
            changes={"contract": contract.reference, "reason": reason, "amount": str(value or "")},
        )
        notify(
            organisation_id=contract.provider_id,
            kind="marketplace.claim",
            title=format_lazy(gettext_lazy("Claim on {contract}"), contract=contract.reference),
            body=reason,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        _refresh_quality(contract.provider_id)
    return claim
