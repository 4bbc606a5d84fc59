"""Requests for quotation and quotes: an RFQ from a trade (matched providers invited, each with an
indicative quote), firm quotes, declines, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.scoping import CHANGE
from ismit.marketplace import matching, pricing, queries
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import (
    PROVIDER_TYPES_OF_SERVICE,
    Quote,
    QuoteKind,
    QuoteStatus,
    Rfq,
    RfqInvitation,
    RfqStatus,
    ServiceOffering,
    ServiceType,
)
from ismit.marketplace.services.common import (
    CLOSE_BATCH,
    CONTAINER_TYPES,
    create_with_reference,
    read_currency,
    read_date,
    read_datetime,
    read_decimal,
    read_int,
    read_lines,
    record_for_both,
    refresh_quality,
    require_change,
)
from ismit.trades.models import Trade

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
    volume = read_decimal(additions.volume_m3, "cargo.volume_m3", errors, required=False)
    containers: dict[str, int] = {}
    for kind, count in (additions.containers or {}).items():
        kind = str(kind).upper()
        if kind not in CONTAINER_TYPES:
            errors.add("cargo.containers", _("Container types are 20, 40 and 40HC."))
            continue
        number = read_int(count, f"cargo.containers.{kind}", errors)
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
    require_change(actor, organisation.pk, _("You may not request services for this trade."))
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
    due = read_datetime(deadline, "deadline", errors)
    now = timezone.now()
    if due is not None and due <= now:
        errors.add("deadline", _("The deadline must be in the future."))
    elif due is not None and due > now + dt.timedelta(days=90):
        errors.add("deadline", _("The deadline must be within 90 days."))
    ccy = read_currency(currency or trade.currency_id, "currency", errors)
    notes = (notes or "").strip()
    if len(notes) > 2000:
        errors.add("notes", _("Use at most 2000 characters."))
    spec = _cargo(trade, cargo, errors)
    errors.raise_if_any()

    today = timezone.localdate()
    with transaction.atomic():
        rfq = create_with_reference(
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
    priced, total = read_lines(lines, errors)
    ccy = read_currency(currency, "currency", errors)
    valid = read_date(valid_until, "valid_until", errors)
    today = timezone.localdate()
    if valid is not None and valid < today:
        errors.add("valid_until", _("A quote must be valid today at least."))
    transit = read_int(transit_days, "transit_days", errors, minimum=0)
    if service_type == ServiceType.CARRIAGE and transit is None:
        errors.add("transit_days", _("Give the transit time in days."))
    pickup = read_int(pickup_within_days, "pickup_within_days", errors, minimum=0)
    claims = read_int(claims_response_days, "claims_response_days", errors, minimum=1)
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
        record_for_both(
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
        refresh_quality(invitation.provider_id)
    return quote


def confirm_quote(*, actor: Actor, quote: Quote, valid_until: dt.date | str | None = None) -> Quote:
    """The provider confirms its indicative quote as firm: a firm quote with the same lines (valid until
    `valid_until`, else the indicative quote's validity)."""
    require_change(actor, quote.provider_id, _("Only the provider that made this quote may confirm it."))
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
    require_change(actor, invitation.provider_id, _("You may not answer for this provider."))
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
        record_for_both(
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
        refresh_quality(invitation.provider_id)
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
