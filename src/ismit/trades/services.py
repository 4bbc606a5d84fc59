"""Writes of the trades app: the single data set of a trade transaction, and its checklist."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation, OrganisationKind
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.prepared import instance
from ismit.lib.rows import insert_rows, update_rows
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
from ismit.trades import checklist
from ismit.trades.models import (
    SCOPE_PROVIDER_TYPES,
    ChecklistStep,
    Direction,
    GoodsItem,
    Party,
    PaymentTerms,
    StepStatus,
    Trade,
    TradeGrant,
    TradeStatus,
)
from ismit.trades.queries import ITEM_FIELDS, PARTY_FIELDS, STEP_FIELDS, GoodsItemRow, StepRow, TradeRecord

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


class _Codes:
    """Resolves every code of a data set, all code lists in one query (refdata.lookup)."""

    def __init__(self, data: TradeData | None, extra_items: list[GoodsItemData] = ()):
        items = [*data.items, *extra_items] if data else list(extra_items)
        parties = [p for p in (data.seller, data.buyer, data.consignee) if p] if data else []
        places = {data.incoterm_place, data.place_of_loading, data.place_of_discharge} if data else set()
        found = lookup.resolve(
            {
                Country: {p.country.upper() for p in parties} | {i.origin_country.upper() for i in items},
                HSCode: {_hs(i.hs_code) for i in items if i.hs_code},
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


def _hs(code: str) -> str:
    return "".join(ch for ch in str(code or "") if ch.isdigit())


# Digits and decimal places of each goods-item number, as stored.
NUMBER_FIELDS = {"quantity": (16, 3), "net_mass_kg": (14, 3), "gross_mass_kg": (14, 3), "unit_price": (16, 4)}


def _number(field: str, value) -> Decimal:
    """A typed number as stored: decimal comma or point, spaces as thousands separators, rounded."""
    text = str(value).replace(",", ".").replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    places = NUMBER_FIELDS[field][1]
    return Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _decimal(value, path: str, errors: FieldErrors, *, positive: bool = True) -> Decimal | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    field = path.rsplit(".", 1)[-1]
    digits, places = NUMBER_FIELDS[field]
    try:
        number = _number(field, value)
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
    party: PartyData | None, path: str, codes: _Codes, errors: FieldErrors, *, required: bool = True
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


def _check_location(code: str, path: str, codes: _Codes, errors: FieldErrors, function: str = "") -> None:
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


def check_item(item: GoodsItemData, path: str, codes: _Codes, errors: FieldErrors) -> None:
    if not (item.description or "").strip():
        errors.add(f"{path}.description", _("Describe the goods."))
    hs = _hs(item.hs_code)
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


def validate_trade_data(data: TradeData) -> _Codes:
    """Check every field against its code list; raise ValidationError with all field errors."""
    errors = FieldErrors()
    codes = _Codes(data)
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


# -- writes -----------------------------------------------------------------------------------------


def _save_party(organisation: Organisation, party: PartyData, codes: _Codes) -> Party:
    return _save_parties(organisation, [party], codes)[0]


def _save_parties(
    organisation: Organisation, parties: list[PartyData | None], codes: _Codes
) -> list[Party | None]:
    """The parties stored in one statement (None for an absent or unnamed party)."""
    rows = [_party_row(organisation, p, codes) for p in parties if p and p.name]
    ids = iter(insert_rows(Party, PARTY_FIELDS[1:], rows))
    saved = iter([instance(Party, PARTY_FIELDS, (next(ids), *row)) for row in rows])
    return [next(saved) if p and p.name else None for p in parties]


def _party_row(organisation: Organisation, party: PartyData, codes: _Codes) -> tuple:
    """A party's stored values, in the order of PARTY_FIELDS after the id."""
    return _in_order(
        PARTY_FIELDS,
        organisation_id=organisation.pk,
        linked_organisation_id=None,
        name=party.name.strip(),
        street=party.street.strip(),
        city=party.city.strip(),
        postcode=party.postcode.strip(),
        country_id=codes.countries[party.country.upper()].pk,
        identifiers={k: v for k, v in (party.identifiers or {}).items() if v},
        email=party.email.strip(),
    )


def _item_fields(item: GoodsItemData, codes: _Codes) -> dict:
    return dict(
        description=item.description.strip(),
        hs_code=codes.hs[_hs(item.hs_code)],
        origin_country=codes.countries[item.origin_country.upper()],
        quantity=_number("quantity", item.quantity),
        unit=codes.units[item.unit.upper()],
        packages_count=int(str(item.packages_count)),
        package_type=codes.packages[item.package_type.upper()],
        net_mass_kg=_number("net_mass_kg", item.net_mass_kg),
        gross_mass_kg=_number("gross_mass_kg", item.gross_mass_kg),
        unit_price=_number("unit_price", item.unit_price),
    )


def _next_reference(organisation: Organisation, direction: str) -> str:
    prefix = "EXP" if direction == Direction.EXPORT else "IMP"
    year = timezone.now().year
    stem = f"{prefix}-{year}-"
    last = (
        Trade.objects.filter(organisation=organisation, reference__startswith=stem)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"{stem}{number:05d}"


def _insert_items(trade: Trade, items: list[GoodsItemData], codes: _Codes) -> list[GoodsItemRow]:
    """A new trade's goods lines, stored in one statement (lib.rows) and answered as rows."""
    rows = [
        _in_order(ITEM_FIELDS, trade_id=trade.pk, line_no=n, **_stored(_item_fields(item, codes)))
        for n, item in enumerate(items, start=1)
    ]
    ids = insert_rows(GoodsItem, ITEM_FIELDS[1:], rows)
    return [GoodsItemRow(pk, *row) for pk, row in zip(ids, rows, strict=True)]


def _stored(fields: dict) -> dict:
    """Model field values as stored: a code-list row by its key (`hs_code` -> `hs_code_id`)."""
    return {
        (f"{name}_id" if isinstance(value, models.Model) else name): (
            value.pk if isinstance(value, models.Model) else value
        )
        for name, value in fields.items()
    }


def _in_order(fields: tuple[str, ...], **values) -> tuple:
    """The values of a row to insert, in the order of the model's fields after its id (KeyError for a
    field not given: a column added to the model must be given here too)."""
    return tuple(values[name] for name in fields[1:])


def _header_fields(data: TradeData, codes: _Codes) -> dict:
    return dict(
        direction=data.direction,
        invoice_number=data.invoice_number.strip(),
        invoice_date=data.invoice_date,
        currency=codes.currency,
        incoterm=codes.incoterm,
        incoterm_place=codes.locations[data.incoterm_place.upper().replace(" ", "")],
        transport_mode=codes.mode,
        place_of_loading=codes.locations[data.place_of_loading.upper().replace(" ", "")],
        place_of_discharge=codes.locations[data.place_of_discharge.upper().replace(" ", "")],
        planned_departure=data.planned_departure,
        payment_terms=data.payment_terms,
        payment_days=int(data.payment_days or 0),
    )


def _require_change(actor: Actor, organisation_id: int) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(_("You may not change this organisation's trades."))


def create_trade(*, actor: Actor, organisation: Organisation, data: TradeData) -> Trade:
    """Record a trade transaction once, with its goods and its checklist."""
    return create_trade_record(actor=actor, organisation=organisation, data=data).trade


def create_trade_record(*, actor: Actor, organisation: Organisation, data: TradeData) -> TradeRecord:
    """create_trade, answering with the rows it wrote (for callers that show them, with no read-back)."""
    _require_change(actor, organisation.id)
    reference = data.reference.strip()
    for _attempt in range(3):
        codes = validate_trade_data(data)
        try:
            with transaction.atomic():
                seller, buyer, consignee = _save_parties(
                    organisation, [data.seller, data.buyer, data.consignee], codes
                )
                trade = Trade.objects.create(
                    organisation=organisation,
                    reference=reference or _next_reference(organisation, data.direction),
                    seller=seller,
                    buyer=buyer,
                    consignee=consignee,
                    created_by=actor.user,
                    **_header_fields(data, codes),
                )
                items = _insert_items(trade, data.items, codes)
                steps = _insert_steps(trade)
                record_event(
                    actor=actor,
                    organisation_id=organisation.id,
                    action="trade.created",
                    obj=trade,
                    changes={"reference": trade.reference, "data": _audit_data(data)},
                )
                return TradeRecord(trade=trade, items=items, steps=steps)
        except IntegrityError:
            if reference and Trade.objects.filter(organisation=organisation, reference=reference).exists():
                raise ValidationError({"reference": [_("Another trade already uses this reference.")]})
            # A concurrent request took the reference allocated, or a code kept by this process was removed
            # from its list since (a UN/LOCODE release loaded): validate again from the database.
            lookup.clear_cache()
    raise ValidationError({"reference": [_("Could not allocate a reference; try again.")]})


def _audit_data(data: TradeData) -> dict:
    """The data set as entered: what dataclasses.asdict gives, without its deep copy of every value."""
    parties = {name: getattr(data, name) for name in ("seller", "buyer", "consignee")}
    return {
        **vars(data),
        **{name: None if party is None else dict(vars(party)) for name, party in parties.items()},
        "items": [dict(vars(item)) for item in data.items],
    }


@transaction.atomic
def update_trade(*, actor: Actor, trade: Trade, data: TradeData) -> Trade:
    """Replace the trade's data set (header, parties and goods) with a corrected one."""
    _require_change(actor, trade.organisation_id)
    trade = Trade.objects.select_for_update().get(pk=trade.pk)
    if trade.status in (TradeStatus.COMPLETED, TradeStatus.CANCELLED):
        raise ValidationError({"__all__": [_("A completed or cancelled trade cannot be changed.")]})
    codes = validate_trade_data(data)
    reference = data.reference.strip() or trade.reference
    if (
        reference != trade.reference
        and Trade.objects.filter(organisation_id=trade.organisation_id, reference=reference).exists()
    ):
        raise ValidationError({"reference": [_("Another trade already uses this reference.")]})
    before = trade_data_from(trade)
    old_parties = [trade.seller_id, trade.buyer_id, trade.consignee_id]
    trade.reference = reference
    for name, value in _header_fields(data, codes).items():
        setattr(trade, name, value)
    trade.seller = _save_party(trade.organisation, data.seller, codes)
    trade.buyer = _save_party(trade.organisation, data.buyer, codes)
    trade.consignee = (
        _save_party(trade.organisation, data.consignee, codes)
        if data.consignee and data.consignee.name
        else None
    )
    trade.updated_at = timezone.now()
    trade.save()
    Party.objects.filter(pk__in=[p for p in old_parties if p]).delete()
    trade.items.all().delete()
    GoodsItem.objects.bulk_create(
        GoodsItem(trade=trade, line_no=n, **_item_fields(item, codes)) for n, item in enumerate(data.items, 1)
    )
    sync_checklist(trade=trade)
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.updated",
        obj=trade,
        changes=_diff(asdict(before), asdict(replace(data, reference=reference))),
    )
    return trade


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if _norm(before.get(k)) != _norm(v)}


_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def _norm(value):
    """Comparable form of a value: a stored 15000.000 and a typed "15000" are the same quantity."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        return format(Decimal(str(value).strip().replace(",", ".")).normalize(), "f")
    return str(value)


def trade_data_from(trade: Trade) -> TradeData:
    """The data set of an existing trade, as entered (used to edit and to duplicate)."""

    def party(p: Party | None) -> PartyData | None:
        if p is None:
            return None
        return PartyData(
            name=p.name,
            country=p.country_id,
            street=p.street,
            city=p.city,
            postcode=p.postcode,
            email=p.email,
            identifiers=dict(p.identifiers),
        )

    return TradeData(
        direction=trade.direction,
        reference=trade.reference,
        seller=party(trade.seller),
        buyer=party(trade.buyer),
        consignee=party(trade.consignee),
        invoice_number=trade.invoice_number,
        invoice_date=trade.invoice_date,
        currency=trade.currency_id,
        incoterm=trade.incoterm_id,
        incoterm_place=trade.incoterm_place_id,
        transport_mode=trade.transport_mode_id,
        place_of_loading=trade.place_of_loading_id,
        place_of_discharge=trade.place_of_discharge_id,
        planned_departure=trade.planned_departure,
        payment_terms=trade.payment_terms,
        payment_days=trade.payment_days,
        items=[
            GoodsItemData(
                description=i.description,
                hs_code=i.hs_code_id,
                origin_country=i.origin_country_id,
                quantity=i.quantity,
                unit=i.unit_id,
                packages_count=i.packages_count,
                package_type=i.package_type_id,
                net_mass_kg=i.net_mass_kg,
                gross_mass_kg=i.gross_mass_kg,
                unit_price=i.unit_price,
            )
            for i in trade.items.all()
        ],
    )


def duplicate_trade(*, actor: Actor, trade: Trade, reference: str = "") -> Trade:
    """Start a repeat order from an earlier trade: same parties, goods and terms; new dates and invoice."""
    data = replace(
        trade_data_from(trade),
        reference=reference,
        invoice_number="",
        invoice_date=None,
        planned_departure=None,
    )
    new = create_trade(actor=actor, organisation=trade.organisation, data=data)
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.duplicated",
        obj=new,
        changes={"from": trade.reference, "to": new.reference},
    )
    return new


# -- goods items one by one (API) -------------------------------------------------------------------


@transaction.atomic
def add_goods_item(*, actor: Actor, trade: Trade, item: GoodsItemData) -> GoodsItem:
    _require_change(actor, trade.organisation_id)
    trade = Trade.objects.select_for_update().get(pk=trade.pk)
    errors = FieldErrors()
    codes = _Codes(None, [item])
    check_item(item, "item", codes, errors)
    errors.raise_if_any()
    last = trade.items.order_by("-line_no").values_list("line_no", flat=True).first() or 0
    goods = GoodsItem.objects.create(trade=trade, line_no=last + 1, **_item_fields(item, codes))
    _touch(trade)
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.item_added",
        obj=goods,
        changes={"trade": trade.reference, "item": asdict(item)},
    )
    return goods


@transaction.atomic
def update_goods_item(*, actor: Actor, goods: GoodsItem, item: GoodsItemData) -> GoodsItem:
    _require_change(actor, goods.trade.organisation_id)
    errors = FieldErrors()
    codes = _Codes(None, [item])
    check_item(item, "item", codes, errors)
    errors.raise_if_any()
    before = {k: str(getattr(goods, f"{k}_id", getattr(goods, k, ""))) for k in asdict(item)}
    for name, value in _item_fields(item, codes).items():
        setattr(goods, name, value)
    goods.save()
    _touch(goods.trade)
    record_event(
        actor=actor,
        organisation_id=goods.trade.organisation_id,
        action="trade.item_updated",
        obj=goods,
        changes=_diff(before, asdict(item)),
    )
    return goods


@transaction.atomic
def delete_goods_item(*, actor: Actor, goods: GoodsItem) -> None:
    trade = goods.trade
    _require_change(actor, trade.organisation_id)
    if trade.items.count() <= 1:
        raise ValidationError({"items": [_("A trade keeps at least one goods item.")]})
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.item_deleted",
        obj=goods,
        changes={"trade": trade.reference, "line_no": goods.line_no, "description": goods.description},
    )
    goods.delete()
    _touch(trade)


def _touch(trade: Trade) -> None:
    Trade.objects.filter(pk=trade.pk).update(updated_at=timezone.now())


@transaction.atomic
def delete_trade(*, actor: Actor, trade: Trade) -> None:
    """Drafts can be deleted; anything further along is cancelled instead."""
    _require_change(actor, trade.organisation_id)
    if trade.status != TradeStatus.DRAFT:
        raise ValidationError({"__all__": [_("Only a draft can be deleted; cancel the trade instead.")]})
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="trade.deleted",
        obj=trade,
        changes={"reference": trade.reference},
    )
    parties = [trade.seller_id, trade.buyer_id, trade.consignee_id]
    try:
        trade.delete()
    except ProtectedError:  # issued documents, declarations…: what was sent to others stays on record
        raise ValidationError(
            {"__all__": [_("Documents were issued for this trade: it cannot be deleted; cancel it instead.")]}
        )
    Party.objects.filter(pk__in=[p for p in parties if p]).delete()


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


def _insert_steps(trade: Trade) -> list[StepRow]:
    """A new trade's steps, stored in one statement (lib.rows) and answered as rows."""
    now = timezone.now()
    ours = checklist.our_side(trade)
    rows = []
    for position, definition in enumerate(checklist.STEPS, start=1):
        responsible = definition.responsible(trade)
        rows.append(
            _in_order(
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
    _require_change(actor, step.trade.organisation_id)
    if step.code not in checklist.COMMERCIAL_CODES:
        raise PermissionDenied(_("This step is updated by the platform, not by hand."))
    if step.status == StepStatus.NOT_NEEDED:
        raise ValidationError({"status": [_("This step does not apply to this trade.")]})
    if status == StepStatus.NOT_NEEDED:
        raise ValidationError({"status": [_("Choose to do, in progress, done or blocked.")]})
    return set_step_status(
        actor=actor, step=step, status=status, note=note, acting_organisation=step.trade.organisation
    )


# -- grants: an organisation appointed on one trade (a customs broker) --------------------------------


def _grant_changes(grant: TradeGrant, trade: Trade, organisation: Organisation) -> dict:
    return {
        "trade": trade.reference,
        "trade_id": trade.pk,
        "organisation": organisation.pk,
        "organisation_name": organisation.legal_name,
        "scope": grant.scope,
    }


def _notify(organisation: Organisation, *, kind: str, title, trade: Trade) -> None:
    """An in-app and e-mail notice to the appointed organisation, where accounts offers notify()."""
    from ismit.accounts import services as accounts_services

    notify = getattr(accounts_services, "notify", None)
    if notify is not None:
        notify(
            organisation_id=organisation.pk,
            kind=kind,
            title=title,
            url=reverse("trades:detail", args=[trade.pk]),
        )


def appoint(*, actor: Actor, trade: Trade, organisation: Organisation | None, scope: str) -> TradeGrant:
    """Appoint a verified provider (a customs broker for scope "customs") on one trade of the owner's.

    Only a member who may change the trade's owner organisation appoints. `organisation` None means an id
    that matched no provider: the same error as a provider that may not be appointed."""
    _require_change(actor, trade.organisation_id)
    errors = FieldErrors()
    provider_types = SCOPE_PROVIDER_TYPES.get(scope)
    if provider_types is None:
        errors.add("scope", _("Unknown scope: %(scope)s") % {"scope": scope})
    elif (
        organisation is None
        or organisation.kind != OrganisationKind.PROVIDER
        or not set(provider_types) & set(organisation.provider_types or [])
        or organisation.pk == trade.organisation_id
    ):
        errors.add("organisation", _("Choose a customs broker registered on the platform."))
    elif not organisation.is_verified:
        errors.add("organisation", _("This organisation is not verified yet: it cannot be appointed."))
    errors.raise_if_any()
    already = _("This organisation is already appointed on this trade.")
    with transaction.atomic():
        if TradeGrant.objects.active().filter(trade=trade, organisation=organisation, scope=scope).exists():
            raise ValidationError({"organisation": [already]})
        try:
            with transaction.atomic():
                grant = TradeGrant.objects.create(
                    trade=trade, organisation=organisation, scope=scope, granted_by=actor.user
                )
        except IntegrityError:  # appointed by a concurrent request
            raise ValidationError({"organisation": [already]})
        changes = _grant_changes(grant, trade, organisation)
        # In both organisations' logs: the owner's, and the appointed organisation's own.
        for organisation_id in (trade.organisation_id, organisation.pk):
            record_event(
                actor=actor,
                organisation_id=organisation_id,
                action="trade.grant_created",
                obj=grant,
                changes=changes,
            )
        _notify(
            organisation,
            kind="trade.grant_created",
            title=format_lazy(  # in each member's language (notify renders it per member)
                gettext_lazy("{owner} appointed you on trade {reference}"),
                owner=trade.organisation.legal_name,
                reference=trade.reference,
            ),
            trade=trade,
        )
    return grant


def revoke_grant(*, actor: Actor, grant: TradeGrant) -> TradeGrant:
    """End an appointment: the organisation loses access to the trade at once. Kept on record."""
    trade = grant.trade
    _require_change(actor, trade.organisation_id)
    now = timezone.now()
    with transaction.atomic():
        revoked = TradeGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor.user
        )
        if not revoked:
            raise ValidationError({"__all__": [_("This appointment was already revoked.")]})
        grant.revoked_at, grant.revoked_by = now, actor.user
        organisation = grant.organisation
        changes = _grant_changes(grant, trade, organisation)
        for organisation_id in (trade.organisation_id, organisation.pk):
            record_event(
                actor=actor,
                organisation_id=organisation_id,
                action="trade.grant_revoked",
                obj=grant,
                changes=changes,
            )
        _notify(
            organisation,
            kind="trade.grant_revoked",
            title=format_lazy(
                gettext_lazy("{owner} ended your appointment on trade {reference}"),
                owner=trade.organisation.legal_name,
                reference=trade.reference,
            ),
            trade=trade,
        )
    return grant
