"""The single data set of a trade as the writes take it (parties, goods lines, the trade), its
validation against the code lists, and the permission check the writes share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.lib.errors import FieldErrors
from ismit.lib.numbers import typed_decimal
from ismit.lib.scoping import CHANGE
from ismit.refdata import lookup
from ismit.refdata.models import (
    Country,
    Currency,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    TransportMode,
    UnitOfMeasure,
)
from ismit.trades.models import (
    Direction,
    PaymentTerms,
)

SEA_ONLY_INCOTERMS = {"FAS", "FOB", "CFR", "CIF"}
WATER_MODES = {"1", "8"}  # Rec 19: maritime, inland water


@dataclass
class PartyData:
    name: str = ""
    country: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    email: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)


@dataclass
class GoodsItemData:
    description: str = ""
    hs_code: str = ""
    origin_country: str = ""
    quantity: Decimal | str | None = None
    unit: str = ""
    packages_count: int | str | None = None
    package_type: str = ""
    net_mass_kg: Decimal | str | None = None
    gross_mass_kg: Decimal | str | None = None
    unit_price: Decimal | str | None = None


@dataclass
class TradeData:
    """Everything an MSME enters once. Codes are plain strings; the service checks each against its list."""

    direction: str = Direction.EXPORT
    reference: str = ""
    seller: PartyData = field(default_factory=PartyData)
    buyer: PartyData = field(default_factory=PartyData)
    consignee: PartyData | None = None
    invoice_number: str = ""
    invoice_date: dt.date | None = None
    currency: str = ""
    incoterm: str = ""
    incoterm_place: str = ""
    transport_mode: str = ""
    place_of_loading: str = ""
    place_of_discharge: str = ""
    planned_departure: dt.date | None = None
    payment_terms: str = ""
    payment_days: int = 0
    items: list[GoodsItemData] = field(default_factory=list)


# -- validation -------------------------------------------------------------------------------------


class Codes:
    """Resolves every code of a data set, all code lists in one query (refdata.lookup)."""

    def __init__(self, data: TradeData | None, extra_items: list[GoodsItemData] = ()):
        items = [*data.items, *extra_items] if data else list(extra_items)
        parties = [p for p in (data.seller, data.buyer, data.consignee) if p] if data else []
        places = {data.incoterm_place, data.place_of_loading, data.place_of_discharge} if data else set()
        found = lookup.resolve(
            {
                Country: {p.country.upper() for p in parties} | {i.origin_country.upper() for i in items},
                HSCode: {digits_of(i.hs_code) for i in items if i.hs_code},
                UnitOfMeasure: {i.unit.upper() for i in items if i.unit},
                PackageType: {i.package_type.upper() for i in items if i.package_type},
                Location: {p.upper().replace(" ", "") for p in places if p},
                Currency: {data.currency.upper()} if data and data.currency else set(),
                Incoterm: {data.incoterm.upper()} if data and data.incoterm else set(),
                TransportMode: {str(data.transport_mode)} if data and data.transport_mode else set(),
            }
        )
        self.countries = found[Country]
        self.hs = found[HSCode]
        self.units = found[UnitOfMeasure]
        self.packages = found[PackageType]
        self.locations = found[Location]
        self.currency = next(iter(found[Currency].values()), None)
        self.incoterm = next(iter(found[Incoterm].values()), None)
        self.mode = next(iter(found[TransportMode].values()), None)


def digits_of(code: str) -> str:
    return "".join(ch for ch in str(code or "") if ch.isdigit())


# Digits and decimal places of each goods-item number, as stored.
NUMBER_FIELDS = {"quantity": (16, 3), "net_mass_kg": (14, 3), "gross_mass_kg": (14, 3), "unit_price": (16, 4)}


def stored_number(field: str, value) -> Decimal:
    """A typed number as stored: decimal comma or point, spaces as thousands separators, rounded."""
    number = typed_decimal(value)
    if number is None:
        raise InvalidOperation(f"not a number: {value!r}")
    places = NUMBER_FIELDS[field][1]
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _decimal(value, path: str, errors: FieldErrors, *, positive: bool = True) -> Decimal | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    field = path.rsplit(".", 1)[-1]
    digits, places = NUMBER_FIELDS[field]
    try:
        number = stored_number(field, value)
    except (InvalidOperation, ValueError):
        errors.add(path, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(path, _("Enter a number."))
        return None
    if abs(number) >= Decimal(10) ** (digits - places):
        errors.add(path, _("This number is too large."))
        return None
    if positive and number <= 0:
        errors.add(path, _("Enter a number greater than zero."))
    return number


def _check_party(
    party: PartyData | None, path: str, codes: Codes, errors: FieldErrors, *, required: bool = True
) -> None:
    if party is None:
        if required:
            errors.add(f"{path}.name", _("This field is required."))
        return
    if not party.name.strip():
        errors.add(f"{path}.name", _("Enter the party's name."))
    if not party.country:
        errors.add(f"{path}.country", _("Choose a country."))
    elif party.country.upper() not in codes.countries:
        errors.add(
            f"{path}.country", _("%(code)s is not an ISO 3166 country code.") % {"code": party.country}
        )


def _check_location(code: str, path: str, codes: Codes, errors: FieldErrors, function: str = "") -> None:
    if not code:
        errors.add(path, _("Choose a UN/LOCODE location."))
        return
    location = codes.locations.get(code.upper().replace(" ", ""))
    if location is None:
        errors.add(path, _("%(code)s is not a UN/LOCODE location.") % {"code": code})
    elif function and not location.has_function(function):
        errors.add(
            path,
            _("%(name)s (%(code)s) is not listed in UN/LOCODE for this mode of transport.")
            % {"name": location.name, "code": location.code},
        )


def check_item(item: GoodsItemData, path: str, codes: Codes, errors: FieldErrors) -> None:
    if not (item.description or "").strip():
        errors.add(f"{path}.description", _("Describe the goods."))
    hs = digits_of(item.hs_code)
    if not hs:
        errors.add(f"{path}.hs_code", _("Enter the HS code."))
    elif len(hs) != 6:
        errors.add(f"{path}.hs_code", _("Enter the 6-digit HS subheading."))
    elif hs not in codes.hs:
        errors.add(f"{path}.hs_code", _("%(code)s is not an HS subheading.") % {"code": item.hs_code})
    if not item.origin_country:
        errors.add(f"{path}.origin_country", _("Choose the country of origin."))
    elif item.origin_country.upper() not in codes.countries:
        errors.add(
            f"{path}.origin_country",
            _("%(code)s is not an ISO 3166 country code.") % {"code": item.origin_country},
        )
    _decimal(item.quantity, f"{path}.quantity", errors)
    if not item.unit or item.unit.upper() not in codes.units:
        errors.add(f"{path}.unit", _("Choose a unit of measure (UNECE Rec 20)."))
    try:
        packages = int(str(item.packages_count))
        if packages < 0:
            errors.add(f"{path}.packages_count", _("Enter zero or more packages."))
    except (TypeError, ValueError):
        errors.add(f"{path}.packages_count", _("Enter a whole number of packages."))
    if not item.package_type or item.package_type.upper() not in codes.packages:
        errors.add(f"{path}.package_type", _("Choose a package type (UNECE Rec 21)."))
    net = _decimal(item.net_mass_kg, f"{path}.net_mass_kg", errors)
    gross = _decimal(item.gross_mass_kg, f"{path}.gross_mass_kg", errors)
    if net is not None and gross is not None and gross < net:
        errors.add(f"{path}.gross_mass_kg", _("Gross mass cannot be less than net mass."))
    _decimal(item.unit_price, f"{path}.unit_price", errors)


def validate_trade_data(data: TradeData) -> Codes:
    """Check every field against its code list; raise ValidationError with all field errors."""
    errors = FieldErrors()
    codes = Codes(data)
    if data.direction not in Direction.values:
        errors.add("direction", _("Choose export or import."))
    if len(data.reference) > 40:
        errors.add("reference", _("Use at most 40 characters."))
    _check_party(data.seller, "seller", codes, errors)
    _check_party(data.buyer, "buyer", codes, errors)
    if data.consignee and (data.consignee.name or data.consignee.country):
        _check_party(data.consignee, "consignee", codes, errors)
    if codes.currency is None:
        errors.add("currency", _("Choose an ISO 4217 currency."))
    if codes.incoterm is None:
        errors.add("incoterm", _("Choose an Incoterms 2020 rule."))
    if codes.mode is None:
        errors.add("transport_mode", _("Choose a mode of transport (UNECE Rec 19)."))
    elif codes.incoterm and codes.incoterm.code in SEA_ONLY_INCOTERMS and codes.mode.code not in WATER_MODES:
        errors.add(
            "incoterm",
            _("%(rule)s is for sea and inland waterway transport only; use %(alt)s.")
            % {
                "rule": codes.incoterm.code,
                "alt": {"FOB": "FCA", "CFR": "CPT", "CIF": "CIP"}.get(codes.incoterm.code, "FCA"),
            },
        )
    function = codes.mode.locode_function if codes.mode else ""
    _check_location(data.incoterm_place, "incoterm_place", codes, errors)
    _check_location(data.place_of_loading, "place_of_loading", codes, errors, function)
    _check_location(data.place_of_discharge, "place_of_discharge", codes, errors, function)
    if data.payment_terms not in PaymentTerms.values:
        errors.add("payment_terms", _("Choose the payment terms."))
    try:
        payment_days = int(data.payment_days or 0)
    except (TypeError, ValueError):
        payment_days = -1
    if not 0 <= payment_days <= 365:
        errors.add("payment_days", _("Enter a number of days between 0 and 365."))
    if not data.items:
        errors.add("items", _("Add at least one goods item."))
    for index, item in enumerate(data.items):
        check_item(item, f"items[{index}]", codes, errors)
    errors.raise_if_any()
    return codes


def in_order(fields: tuple[str, ...], **values) -> tuple:
    """The values of a row to insert, in the order of the model's fields after its id (KeyError for a
    field not given: a column added to the model must be given here too)."""
    return tuple(values[name] for name in fields[1:])


def require_change(actor: Actor, organisation_id: int) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(_("You may not change this organisation's trades."))
