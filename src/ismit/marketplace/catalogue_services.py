"""Writes of the catalogue: offerings with their lanes and rate lines, and providers' standing in the
marketplace (entry, suspension, reinstatement, exit).

A provider organisation changes its own catalogue (members with the right to change). It must be verified
and have a provider type that PROVIDER_TYPES_OF_SERVICE allows for the service. Its Provider row is made
when it first publishes an offering (or by an operator). Operators suspend, reinstate and record the exit
of providers; a provider may leave by itself. Every change is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.scoping import ADMIN, CHANGE
from ismit.marketplace.models import (
    PROVIDER_TYPES_OF_SERVICE,
    Contract,
    ContractStatus,
    Lane,
    Provider,
    ProviderStatus,
    Quote,
    QuoteStatus,
    RateBasis,
    RateLine,
    RfqInvitation,
    RfqStatus,
    ServiceOffering,
    ServiceType,
)
from ismit.refdata import queries as refdata

MAX_AMOUNT = Decimal(10) ** 10
MAX_LANES = 200
MAX_RATE_LINES = 100


# -- data ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class LaneData:
    origin_country: str = ""
    destination_country: str = ""
    origin_location: str = ""
    destination_location: str = ""


@dataclasses.dataclass
class RateLineData:
    code: str = ""
    description: str = ""
    basis: str = ""
    amount: Decimal | str | None = None
    is_surcharge: bool = False


@dataclasses.dataclass
class OfferingData:
    name: str = ""
    service_type: str = ""
    currency: str = ""
    valid_from: dt.date | str | None = None
    valid_until: dt.date | str | None = None
    modes: list[str] = dataclasses.field(default_factory=list)
    max_mass_kg: Decimal | str | None = None
    max_volume_m3: Decimal | str | None = None
    dangerous_goods: bool = False
    temperature_control: bool = False
    transit_days: int | str | None = None
    terms: str = ""
    lanes: list[LaneData] = dataclasses.field(default_factory=list)
    rate_lines: list[RateLineData] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, offering: ServiceOffering) -> OfferingData:
        """The data of a saved offering (to edit it)."""
        return cls(
            name=offering.name,
            service_type=offering.service_type,
            currency=offering.currency_id,
            valid_from=offering.valid_from,
            valid_until=offering.valid_until,
            modes=list(offering.modes),
            max_mass_kg=_plain(offering.max_mass_kg),
            max_volume_m3=_plain(offering.max_volume_m3),
            dangerous_goods=offering.dangerous_goods,
            temperature_control=offering.temperature_control,
            transit_days=offering.transit_days,
            terms=offering.terms,
            lanes=[lane_data(lane) for lane in offering.lanes.all()],
            rate_lines=[rate_line_data(line) for line in offering.rate_lines.all()],
        )


def lane_data(lane: Lane) -> LaneData:
    return LaneData(
        origin_country=lane.origin_country,
        destination_country=lane.destination_country,
        origin_location=lane.origin_location,
        destination_location=lane.destination_location,
    )


def rate_line_data(line: RateLine) -> RateLineData:
    return RateLineData(
        code=line.code,
        description=line.description,
        basis=line.basis,
        amount=_plain(line.amount),
        is_surcharge=line.is_surcharge,
    )


def _plain(value: Decimal | None) -> Decimal | None:
    """2.3500 → 2.35, 5000.000 → 5000 (for editing)."""
    if value is None:
        return None
    return Decimal(format(value.normalize(), "f"))


# -- validation -------------------------------------------------------------------------------------------


def _decimal(value: Any, path: str, errors: FieldErrors, *, required: bool, positive: bool) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(path, _("This field is required."))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        errors.add(path, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(path, _("Enter a number."))
        return None
    if number < 0 or (positive and number == 0):
        errors.add(
            path, _("Enter a number greater than zero.") if positive else _("Enter a positive number.")
        )
        return None
    if number >= MAX_AMOUNT:
        errors.add(path, _("This number is too large."))
        return None
    return number


def _date(value: Any, path: str, errors: FieldErrors) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value in (None, ""):
        errors.add(path, _("This field is required."))
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(path, _("Enter a date as YYYY-MM-DD."))
        return None


def _place(country: str, location: str, path: str, errors: FieldErrors) -> tuple[str, str]:
    country = (country or "").strip().upper()
    location = (location or "").replace(" ", "").strip().upper()
    if location and not country:
        country = location[:2]
    if not refdata.exists_country(country):
        errors.add(f"{path}_country", _("Choose an ISO 3166 country."))
    if location:
        if not refdata.exists_location(location):
            errors.add(f"{path}_location", _("Choose a UN/LOCODE place."))
        elif location[:2] != country:
            errors.add(f"{path}_location", _("This place is not in the lane's country."))
    return country, location


def validate_offering_data(data: OfferingData) -> dict[str, Any]:
    """Checked and normalised fields of an offering, its lanes and rate lines; ValidationError with every
    problem by field path ("lanes[1].origin_location", "rate_lines[0].amount") otherwise."""
    errors = FieldErrors()
    name = (data.name or "").strip()
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > 120:
        errors.add("name", _("Use at most 120 characters."))
    if data.service_type not in ServiceType.values:
        errors.add("service_type", _("Choose a service."))
    currency = (data.currency or "").strip().upper()
    if not refdata.exists_currency(currency):
        errors.add("currency", _("Choose an ISO 4217 currency."))
    modes = []
    for mode in data.modes or []:
        mode = str(mode).strip()
        if not refdata.exists_transport_mode(mode):
            errors.add("modes", _("Choose transport modes of UN/ECE Recommendation 19."))
        elif mode not in modes:
            modes.append(mode)
    valid_from = _date(data.valid_from, "valid_from", errors)
    valid_until = _date(data.valid_until, "valid_until", errors)
    if valid_from and valid_until and valid_until < valid_from:
        errors.add("valid_until", _("The end of validity cannot be before its start."))
    max_mass = _decimal(data.max_mass_kg, "max_mass_kg", errors, required=False, positive=True)
    max_volume = _decimal(data.max_volume_m3, "max_volume_m3", errors, required=False, positive=True)
    transit_days = None
    if data.transit_days not in (None, ""):
        try:
            transit_days = int(str(data.transit_days).strip())
        except ValueError:
            errors.add("transit_days", _("Enter a whole number."))
        else:
            if not 0 <= transit_days <= 365:
                errors.add("transit_days", _("Enter a number of days from 0 to 365."))
    terms = (data.terms or "").strip()
    if len(terms) > 4000:
        errors.add("terms", _("Use at most 4000 characters."))

    lanes: list[dict[str, str]] = []
    if not data.lanes:
        errors.add("lanes", _("Add at least one lane."))
    elif len(data.lanes) > MAX_LANES:
        errors.add("lanes", _("Use at most %(n)d lanes.") % {"n": MAX_LANES})
    for i, lane in enumerate(data.lanes[:MAX_LANES]):
        oc, ol = _place(lane.origin_country, lane.origin_location, f"lanes[{i}].origin", errors)
        dc, dl = _place(
            lane.destination_country, lane.destination_location, f"lanes[{i}].destination", errors
        )
        row = dict(origin_country=oc, origin_location=ol, destination_country=dc, destination_location=dl)
        if row not in lanes:
            lanes.append(row)

    rate_lines: list[dict[str, Any]] = []
    if not data.rate_lines:
        errors.add("rate_lines", _("Add at least one rate."))
    elif len(data.rate_lines) > MAX_RATE_LINES:
        errors.add("rate_lines", _("Use at most %(n)d rates.") % {"n": MAX_RATE_LINES})
    for i, line in enumerate(data.rate_lines[:MAX_RATE_LINES]):
        path = f"rate_lines[{i}]"
        code = (line.code or "").strip().upper()
        if not code:
            errors.add(f"{path}.code", _("This field is required."))
        elif len(code) > 12:
            errors.add(f"{path}.code", _("Use at most 12 characters."))
        description = (line.description or "").strip() or code
        if len(description) > 120:
            errors.add(f"{path}.description", _("Use at most 120 characters."))
        if line.basis not in RateBasis.values:
            errors.add(f"{path}.basis", _("Choose a basis."))
        amount = _decimal(line.amount, f"{path}.amount", errors, required=True, positive=False)
        surcharge = bool(line.is_surcharge)
        if line.basis == RateBasis.MINIMUM and surcharge:
            errors.add(
                f"{path}.is_surcharge", _("A minimum charge applies to the base rates, not to a surcharge.")
            )
        if line.basis == RateBasis.VALUE_PERCENT and amount is not None and amount > 100:
            errors.add(f"{path}.amount", _("Enter a percentage from 0 to 100."))
        if amount is not None and amount != amount.quantize(Decimal("0.0001")):
            errors.add(f"{path}.amount", _("Use at most 4 decimal places."))
        rate_lines.append(
            dict(code=code, description=description, basis=line.basis, amount=amount, is_surcharge=surcharge)
        )
    errors.raise_if_any()
    return dict(
        fields=dict(
            name=name,
            service_type=data.service_type,
            currency_id=currency,
            modes=modes,
            valid_from=valid_from,
            valid_until=valid_until,
            max_mass_kg=max_mass,
            max_volume_m3=max_volume,
            dangerous_goods=bool(data.dangerous_goods),
            temperature_control=bool(data.temperature_control),
            transit_days=transit_days,
            terms=terms,
        ),
        lanes=lanes,
        rate_lines=rate_lines,
    )


# -- who may publish --------------------------------------------------------------------------------------


def _require_change(actor: Actor, organisation_id: int) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(_("You may not change this provider's catalogue."))


def _check_publisher(organisation: Organisation, service_type: str) -> None:
    """A verified provider organisation of a type allowed for the service, not suspended nor gone."""
    if not organisation.is_verified:
        raise ValidationError(
            {"__all__": [_("Your organisation must be verified before it offers services.")]}
        )
    allowed = PROVIDER_TYPES_OF_SERVICE.get(service_type, ())
    if organisation.kind != "provider" or not set(organisation.provider_types or []) & set(allowed):
        raise ValidationError(
            {
                "service_type": [
                    _("Your organisation's provider type does not allow it to offer this service.")
                ]
            }
        )
    provider = Provider.objects.filter(organisation_id=organisation.pk).first()
    if provider is not None and provider.status == ProviderStatus.SUSPENDED:
        raise ValidationError({"__all__": [_("Your organisation is suspended from the marketplace.")]})
    if provider is not None and provider.status == ProviderStatus.LEFT:
        raise ValidationError(
            {"__all__": [_("Your organisation has left the marketplace; ask the operator to reinstate it.")]}
        )


def _ensure_provider(actor: Actor | None, organisation: Organisation) -> Provider:
    provider, created = Provider.objects.get_or_create(organisation=organisation)
    if created:
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="marketplace.provider_joined",
            obj=provider,
            changes={"organisation": organisation.legal_name},
        )
    return provider


def _write_children(offering: ServiceOffering, lanes: list[dict], rate_lines: list[dict]) -> None:
    offering.lanes.all().delete()
    offering.rate_lines.all().delete()
    Lane.objects.bulk_create(Lane(offering=offering, **lane) for lane in lanes)
    RateLine.objects.bulk_create(RateLine(offering=offering, **line) for line in rate_lines)


def _snapshot(clean: dict[str, Any]) -> dict[str, Any]:
    return {**clean["fields"], "lanes": clean["lanes"], "rate_lines": clean["rate_lines"]}


# -- offerings ----------------------------------------------------------------------------------------------


def create_offering(*, actor: Actor, organisation: Organisation, data: OfferingData) -> ServiceOffering:
    """Publish an offering (with its lanes and rate card). The first one makes the organisation a
    marketplace provider."""
    _require_change(actor, organisation.pk)
    clean = validate_offering_data(data)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        _check_publisher(organisation, clean["fields"]["service_type"])
        _ensure_provider(actor, organisation)
        offering = ServiceOffering.objects.create(organisation=organisation, **clean["fields"])
        _write_children(offering, clean["lanes"], clean["rate_lines"])
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="marketplace.offering_created",
            obj=offering,
            changes=_snapshot(clean),
        )
    return offering


def update_offering(*, actor: Actor, offering: ServiceOffering, data: OfferingData) -> ServiceOffering:
    """Replace an offering's fields, lanes and rate card with `data` (a whole new version)."""
    _require_change(actor, offering.organisation_id)
    clean = validate_offering_data(data)
    with transaction.atomic():
        offering = (
            ServiceOffering.objects.select_for_update().select_related("organisation").get(pk=offering.pk)
        )
        _check_publisher(offering.organisation, clean["fields"]["service_type"])
        for name, value in clean["fields"].items():
            setattr(offering, name, value)
        offering.updated_at = timezone.now()
        offering.save()
        _write_children(offering, clean["lanes"], clean["rate_lines"])
        record_event(
            actor=actor,
            organisation_id=offering.organisation_id,
            action="marketplace.offering_updated",
            obj=offering,
            changes=_snapshot(clean),
        )
    return offering


def set_offering_active(*, actor: Actor, offering: ServiceOffering, active: bool) -> ServiceOffering:
    """Deactivate an offering (it matches no new request; quotes made from it stand) or activate it again."""
    _require_change(actor, offering.organisation_id)
    with transaction.atomic():
        offering = (
            ServiceOffering.objects.select_for_update().select_related("organisation").get(pk=offering.pk)
        )
        if active:
            _check_publisher(offering.organisation, offering.service_type)
        if offering.active == active:
            return offering
        offering.active = active
        offering.updated_at = timezone.now()
        offering.save(update_fields=["active", "updated_at"])
        record_event(
            actor=actor,
            organisation_id=offering.organisation_id,
            action="marketplace.offering_activated" if active else "marketplace.offering_deactivated",
            obj=offering,
            changes={"name": offering.name},
        )
    return offering


def deactivate_offering(*, actor: Actor, offering: ServiceOffering) -> ServiceOffering:
    return set_offering_active(actor=actor, offering=offering, active=False)


def _change_child(actor: Actor, offering: ServiceOffering, action: str, changes: dict) -> ServiceOffering:
    _require_change(actor, offering.organisation_id)
    offering = ServiceOffering.objects.select_for_update().select_related("organisation").get(pk=offering.pk)
    _check_publisher(offering.organisation, offering.service_type)
    offering.updated_at = timezone.now()
    offering.save(update_fields=["updated_at"])
    record_event(
        actor=actor, organisation_id=offering.organisation_id, action=action, obj=offering, changes=changes
    )
    return offering


def _validated_child(offering: ServiceOffering, **replace) -> dict[str, Any]:
    data = OfferingData.of(offering)
    for name, value in replace.items():
        setattr(data, name, value)
    return validate_offering_data(data)


@transaction.atomic
def add_lane(*, actor: Actor, offering: ServiceOffering, data: LaneData) -> Lane:
    _require_change(actor, offering.organisation_id)
    errors = FieldErrors()
    oc, ol = _place(data.origin_country, data.origin_location, "origin", errors)
    dc, dl = _place(data.destination_country, data.destination_location, "destination", errors)
    errors.raise_if_any()
    offering = _change_child(
        actor,
        offering,
        "marketplace.lane_added",
        {"origin": ol or oc, "destination": dl or dc},
    )
    if offering.lanes.count() >= MAX_LANES:
        raise ValidationError({"__all__": [_("Use at most %(n)d lanes.") % {"n": MAX_LANES}]})
    lane, _created = Lane.objects.get_or_create(
        offering=offering,
        origin_country=oc,
        origin_location=ol,
        destination_country=dc,
        destination_location=dl,
    )
    return lane


@transaction.atomic
def delete_lane(*, actor: Actor, lane: Lane) -> None:
    """Remove a lane (an offering keeps at least one)."""
    offering = lane.offering
    _require_change(actor, offering.organisation_id)
    if offering.lanes.count() <= 1:
        raise ValidationError({"__all__": [_("An offering needs at least one lane; deactivate it instead.")]})
    _change_child(actor, offering, "marketplace.lane_deleted", {"lane": str(lane)})
    lane.delete()


@transaction.atomic
def add_rate_line(*, actor: Actor, offering: ServiceOffering, data: RateLineData) -> RateLine:
    _require_change(actor, offering.organisation_id)
    clean = _validated_child(offering, rate_lines=[data])
    line = clean["rate_lines"][0]
    if offering.rate_lines.count() >= MAX_RATE_LINES:
        raise ValidationError({"__all__": [_("Use at most %(n)d rates.") % {"n": MAX_RATE_LINES}]})
    offering = _change_child(actor, offering, "marketplace.rate_line_added", _jsonable_line(line))
    return RateLine.objects.create(offering=offering, **line)


@transaction.atomic
def update_rate_line(*, actor: Actor, rate_line: RateLine, data: RateLineData) -> RateLine:
    offering = rate_line.offering
    _require_change(actor, offering.organisation_id)
    clean = _validated_child(offering, rate_lines=[data])
    line = clean["rate_lines"][0]
    _change_child(
        actor, offering, "marketplace.rate_line_updated", {"id": rate_line.pk, **_jsonable_line(line)}
    )
    for name, value in line.items():
        setattr(rate_line, name, value)
    rate_line.save()
    rate_line.refresh_from_db()
    return rate_line


@transaction.atomic
def delete_rate_line(*, actor: Actor, rate_line: RateLine) -> None:
    """Remove a rate line (an offering keeps at least one)."""
    offering = rate_line.offering
    _require_change(actor, offering.organisation_id)
    if offering.rate_lines.count() <= 1:
        raise ValidationError({"__all__": [_("An offering needs at least one rate; deactivate it instead.")]})
    _change_child(
        actor, offering, "marketplace.rate_line_deleted", {"id": rate_line.pk, "code": rate_line.code}
    )
    rate_line.delete()


def _jsonable_line(line: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in line.items()}


# -- providers: entry, suspension, reinstatement, exit ------------------------------------------------------


def _require_operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise PermissionDenied(_("Only platform operators may do this."))


def _reason(reason: str, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": [_("Give the reason.")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("Use at most 2000 characters.")]})
    return reason


def admit_provider(*, actor: Actor, organisation: Organisation) -> Provider:
    """An operator lists a verified provider organisation in the marketplace before its first offering."""
    _require_operator(actor)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if not organisation.is_verified or organisation.kind != "provider":
            raise ValidationError({"__all__": [_("Only verified provider organisations can be listed.")]})
        return _ensure_provider(actor, organisation)


@dataclasses.dataclass(frozen=True)
class StandingChange:
    provider: Provider
    withdrawn_quotes: int = 0
    declined_invitations: int = 0
    deactivated_offerings: int = 0
    notified_organisations: tuple[int, ...] = ()


def _withdraw_open_business(organisation_id: int, now: dt.datetime) -> tuple[int, int, set[int]]:
    """Withdraw the provider's submitted quotes and open invitations; the MSMEs affected (with those, or
    with contracts in progress)."""
    quotes = Quote.objects.filter(provider_id=organisation_id, status=QuoteStatus.SUBMITTED)
    invitations = RfqInvitation.objects.filter(
        provider_id=organisation_id, declined=False, rfq__status=RfqStatus.OPEN
    )
    affected = set(quotes.values_list("rfq__organisation_id", flat=True))
    affected |= set(invitations.values_list("rfq__organisation_id", flat=True))
    affected |= set(
        Contract.objects.filter(provider_id=organisation_id, status=ContractStatus.ACTIVE).values_list(
            "organisation_id", flat=True
        )
    )
    withdrawn = quotes.update(status=QuoteStatus.WITHDRAWN, decided_at=now)
    declined = invitations.filter(responded_at__isnull=True).update(declined=True, responded_at=now)
    declined += invitations.update(declined=True)  # those answered already keep their answer's time
    return withdrawn, declined, affected


def _tell_msmes(affected: set[int], provider: Organisation, *, left: bool, reason: str) -> None:
    if left:
        title = format_lazy(gettext_lazy("{provider} has left the marketplace"), provider=provider.legal_name)
    else:
        title = format_lazy(
            gettext_lazy("{provider} is suspended from the marketplace"), provider=provider.legal_name
        )
    body = format_lazy(
        gettext_lazy(
            "Reason: {reason}. Its open quotes to you are withdrawn. Contracts in progress with it stay in "
            "force until completed; you may cancel them."
        ),
        reason=reason,
    )
    for organisation_id in sorted(affected):
        notify(
            organisation_id=organisation_id,
            kind="marketplace.provider_left" if left else "marketplace.provider_suspended",
            title=title,
            body=body,
            url=f"/marketplace/providers/{provider.pk}/",
        )


def _set_standing(
    *, actor: Actor, organisation: Organisation, status: str, reason: str, action: str
) -> StandingChange:
    now = timezone.now()
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        provider, _created = Provider.objects.select_for_update().get_or_create(organisation=organisation)
        before = provider.status
        if before == status:
            raise ValidationError({"__all__": [_("The provider already has this standing.")]})
        provider.status = status
        provider.status_reason = reason
        provider.status_changed_at = now
        provider.status_changed_by = actor.user
        provider.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
        withdrawn = declined = deactivated = 0
        affected: set[int] = set()
        if status in (ProviderStatus.SUSPENDED, ProviderStatus.LEFT):
            withdrawn, declined, affected = _withdraw_open_business(organisation.pk, now)
        if status == ProviderStatus.LEFT:
            deactivated = ServiceOffering.objects.filter(organisation=organisation, active=True).update(
                active=False, updated_at=now
            )
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action=action,
            obj=provider,
            changes={
                "status": [before, status],
                "reason": reason,
                "withdrawn_quotes": withdrawn,
                "declined_invitations": declined,
                "deactivated_offerings": deactivated,
                "notified_organisations": sorted(affected),
            },
        )
        if affected:
            _tell_msmes(affected, organisation, left=status == ProviderStatus.LEFT, reason=reason)
        notify(
            organisation_id=organisation.pk,
            kind=action,
            title=format_lazy(
                gettext_lazy("Your standing in the marketplace is now: {status}"),
                status=ProviderStatus(status).label,
            ),
            body=reason,
            url=f"/marketplace/providers/{organisation.pk}/",
        )
    return StandingChange(
        provider=provider,
        withdrawn_quotes=withdrawn,
        declined_invitations=declined,
        deactivated_offerings=deactivated,
        notified_organisations=tuple(sorted(affected)),
    )


def suspend_provider(*, actor: Actor, organisation: Organisation, reason: str) -> StandingChange:
    """Operator: suspend a provider. It gets no new requests; its submitted quotes are withdrawn and its
    open invitations declined; contracts in progress stay in force, and their MSMEs are told they may
    cancel them."""
    _require_operator(actor)
    return _set_standing(
        actor=actor,
        organisation=organisation,
        status=ProviderStatus.SUSPENDED,
        reason=_reason(reason),
        action="marketplace.provider_suspended",
    )


def reinstate_provider(*, actor: Actor, organisation: Organisation, reason: str = "") -> StandingChange:
    """Operator: make a suspended (or departed) provider active again. Its offerings stay as they are."""
    _require_operator(actor)
    if (
        not Provider.objects.filter(organisation_id=organisation.pk)
        .exclude(status=ProviderStatus.ACTIVE)
        .exists()
    ):
        raise ValidationError({"__all__": [_("The provider is not suspended.")]})
    return _set_standing(
        actor=actor,
        organisation=organisation,
        status=ProviderStatus.ACTIVE,
        reason=_reason(reason, required=False),
        action="marketplace.provider_reinstated",
    )


def record_provider_exit(*, actor: Actor, organisation: Organisation, reason: str) -> StandingChange:
    """Operator: record that a provider leaves the marketplace (as a suspension, and its offerings are
    deactivated)."""
    _require_operator(actor)
    return _set_standing(
        actor=actor,
        organisation=organisation,
        status=ProviderStatus.LEFT,
        reason=_reason(reason),
        action="marketplace.provider_exit",
    )


def leave_marketplace(*, actor: Actor, organisation: Organisation, reason: str = "") -> StandingChange:
    """A provider's owner takes it out of the marketplace (as record_provider_exit)."""
    if not actor.can(ADMIN, organisation.pk):
        raise PermissionDenied(_("Only the organisation's owners may do this."))
    if (
        not Provider.objects.filter(organisation_id=organisation.pk)
        .exclude(status=ProviderStatus.LEFT)
        .exists()
    ):
        raise ValidationError({"__all__": [_("Your organisation is not in the marketplace.")]})
    return _set_standing(
        actor=actor,
        organisation=organisation,
        status=ProviderStatus.LEFT,
        reason=_reason(reason, required=False) or _("Left at its own request."),
        action="marketplace.provider_left",
    )


def provider_types_for(service_type: str) -> tuple[str, ...]:
    return PROVIDER_TYPES_OF_SERVICE.get(service_type, ())


def publishable_services(organisation: Organisation) -> list[str]:
    """The services the organisation's provider types allow it to offer."""
    types = set(organisation.provider_types or [])
    return [s for s, allowed in PROVIDER_TYPES_OF_SERVICE.items() if types & set(allowed)]
