"""Writes of a trade's data set: create, update, duplicate, delete; its goods lines one by one (API)."""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.prepared import instance
from ismit.lib.rows import insert_rows
from ismit.refdata import lookup
from ismit.trades.models import (
    Direction,
    GoodsItem,
    Party,
    Trade,
    TradeStatus,
)
from ismit.trades.queries import ITEM_FIELDS, PARTY_FIELDS, GoodsItemRow, TradeRecord
from ismit.trades.services.data import (
    Codes,
    GoodsItemData,
    PartyData,
    TradeData,
    check_item,
    digits_of,
    in_order,
    require_change,
    stored_number,
    validate_trade_data,
)
from ismit.trades.services.steps import insert_steps, sync_checklist

# -- writes -----------------------------------------------------------------------------------------


def _save_party(organisation: Organisation, party: PartyData, codes: Codes) -> Party:
    return _save_parties(organisation, [party], codes)[0]


def _save_parties(
    organisation: Organisation, parties: list[PartyData | None], codes: Codes
) -> list[Party | None]:
    """The parties stored in one statement (None for an absent or unnamed party)."""
    rows = [_party_row(organisation, p, codes) for p in parties if p and p.name]
    ids = iter(insert_rows(Party, PARTY_FIELDS[1:], rows))
    saved = iter([instance(Party, PARTY_FIELDS, (next(ids), *row)) for row in rows])
    return [next(saved) if p and p.name else None for p in parties]


def _party_row(organisation: Organisation, party: PartyData, codes: Codes) -> tuple:
    """A party's stored values, in the order of PARTY_FIELDS after the id."""
    return in_order(
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


def _item_fields(item: GoodsItemData, codes: Codes) -> dict:
    return dict(
        description=item.description.strip(),
        hs_code=codes.hs[digits_of(item.hs_code)],
        origin_country=codes.countries[item.origin_country.upper()],
        quantity=stored_number("quantity", item.quantity),
        unit=codes.units[item.unit.upper()],
        packages_count=int(str(item.packages_count)),
        package_type=codes.packages[item.package_type.upper()],
        net_mass_kg=stored_number("net_mass_kg", item.net_mass_kg),
        gross_mass_kg=stored_number("gross_mass_kg", item.gross_mass_kg),
        unit_price=stored_number("unit_price", item.unit_price),
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


def _insert_items(trade: Trade, items: list[GoodsItemData], codes: Codes) -> list[GoodsItemRow]:
    """A new trade's goods lines, stored in one statement (lib.rows) and answered as rows."""
    rows = [
        in_order(ITEM_FIELDS, trade_id=trade.pk, line_no=n, **_stored(_item_fields(item, codes)))
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


def _header_fields(data: TradeData, codes: Codes) -> dict:
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


def create_trade(*, actor: Actor, organisation: Organisation, data: TradeData) -> Trade:
    """Record a trade transaction once, with its goods and its checklist."""
    return create_trade_record(actor=actor, organisation=organisation, data=data).trade


def create_trade_record(*, actor: Actor, organisation: Organisation, data: TradeData) -> TradeRecord:
    """create_trade, answering with the rows it wrote (for callers that show them, with no read-back)."""
    require_change(actor, organisation.id)
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
                steps = insert_steps(trade)
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
    require_change(actor, trade.organisation_id)
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
    require_change(actor, trade.organisation_id)
    trade = Trade.objects.select_for_update().get(pk=trade.pk)
    errors = FieldErrors()
    codes = Codes(None, [item])
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
    require_change(actor, goods.trade.organisation_id)
    errors = FieldErrors()
    codes = Codes(None, [item])
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
    require_change(actor, trade.organisation_id)
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
    require_change(actor, trade.organisation_id)
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
