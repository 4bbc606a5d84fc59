"""API of the trades app: the trade data set, its goods items and its checklist.

Handlers parse the payload into the services' dataclasses, call one service, and answer with the
object read back through trades.queries (a fixed number of queries, whatever the number of items).
A trade's answer is built field by field from the rows of queries.get_trade_record_for (see _trade_out).
Decimals are JSON strings, dates ISO 8601. Objects the actor may not see answer 404; objects the
actor may see but not change answer 403.
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of, organisation_for_write
from ismit.lib.api import BodySchema, PagePagination, errors_relocated
from ismit.lib.idempotency import idempotent
from ismit.trades import checklist, queries, services
from ismit.trades.models import Direction, TradeStatus

router = Router(tags=["trades"])

CODE = 20  # longest code accepted; the services check every code against its list


# -- input ------------------------------------------------------------------------------------------


class PartyIn(BodySchema):
    name: str = Field(max_length=200)
    country: str = Field(max_length=CODE, description="ISO 3166-1 alpha-2")
    street: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    postcode: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    identifiers: dict[str, str] = Field({}, description='{"vat": "…", "eori": "…"}')


class GoodsItemIn(BodySchema):
    description: str = Field(max_length=300)
    hs_code: str = Field(max_length=CODE, description="6-digit HS subheading")
    origin_country: str = Field(max_length=CODE, description="ISO 3166-1 alpha-2")
    quantity: Decimal = Field(max_digits=16, decimal_places=3)
    unit: str = Field(max_length=CODE, description="UNECE Rec 20 unit code, e.g. KGM")
    packages_count: int = Field(ge=0)
    package_type: str = Field(max_length=CODE, description="UNECE Rec 21 package code, e.g. BG")
    net_mass_kg: Decimal = Field(max_digits=14, decimal_places=3)
    gross_mass_kg: Decimal = Field(max_digits=14, decimal_places=3)
    unit_price: Decimal = Field(max_digits=16, decimal_places=4)


class TradeIn(BodySchema):
    """The whole data set of a trade, as an MSME enters it once."""

    direction: str = Field(Direction.EXPORT, max_length=8, description="export or import")
    reference: str = Field("", max_length=40, description="Empty: the next EXP-/IMP- number")
    seller: PartyIn
    buyer: PartyIn
    consignee: PartyIn | None = None
    invoice_number: str = Field("", max_length=40)
    invoice_date: dt.date | None = None
    currency: str = Field(max_length=CODE, description="ISO 4217")
    incoterm: str = Field(max_length=CODE, description="Incoterms 2020 rule")
    incoterm_place: str = Field(max_length=CODE, description="UN/LOCODE")
    transport_mode: str = Field(max_length=CODE, description="UNECE Rec 19 code")
    place_of_loading: str = Field(max_length=CODE, description="UN/LOCODE")
    place_of_discharge: str = Field(max_length=CODE, description="UN/LOCODE")
    planned_departure: dt.date | None = None
    payment_terms: str = Field(max_length=16, description="advance, lc, collection or open_account")
    payment_days: int = 0
    items: list[GoodsItemIn] = Field(max_length=1000)


class TradeCreateIn(TradeIn):
    organisation: int | None = Field(
        None, description="The organisation's id; else the X-ISMIT-Organisation header, else your first one"
    )


class DuplicateIn(Schema):
    reference: str = Field("", max_length=40)


class StepPatchIn(Schema):
    status: str = Field(max_length=12, description="todo, in_progress, done or blocked")
    note: str | None = Field(None, max_length=300, description="Omitted: the note is kept")


class TradeFilters(FilterSchema):
    status: Literal[tuple(TradeStatus.values)] | None = None  # type: ignore[valid-type]
    direction: Literal[tuple(Direction.values)] | None = None  # type: ignore[valid-type]
    q: Annotated[str | None, FilterLookup(["reference__icontains", "buyer__name__icontains"])] = Field(
        None, description="Part of the reference or of the buyer's name"
    )


def _party(payload: PartyIn | None) -> services.PartyData | None:
    return services.PartyData(**payload.model_dump()) if payload is not None else None


def _item(payload: GoodsItemIn) -> services.GoodsItemData:
    return services.GoodsItemData(**payload.model_dump())


def _trade_data(payload: TradeIn) -> services.TradeData:
    fields = payload.model_dump(exclude={"seller", "buyer", "consignee", "items", "organisation"})
    return services.TradeData(
        **fields,
        seller=_party(payload.seller),
        buyer=_party(payload.buyer),
        consignee=_party(payload.consignee),
        items=[_item(item) for item in payload.items],
    )


# -- output -----------------------------------------------------------------------------------------


class PartyOut(Schema):
    name: str
    country: str = Field(alias="country_id")
    street: str
    city: str
    postcode: str
    email: str
    identifiers: dict[str, str]


class GoodsItemOut(Schema):
    line_no: int
    description: str
    hs_code: str = Field(alias="hs_code_id")
    origin_country: str = Field(alias="origin_country_id")
    quantity: Decimal
    unit: str = Field(alias="unit_id")
    packages_count: int
    package_type: str = Field(alias="package_type_id")
    net_mass_kg: Decimal
    gross_mass_kg: Decimal
    unit_price: Decimal
    line_amount: Decimal


class StepOut(Schema):
    code: str
    label: str
    category: str
    position: int
    responsible: str = Field(description="seller or buyer")
    status: str
    note: str
    manual: bool = Field(description="True for the steps you mark yourself (PATCH)")
    acting_organisation: int | None = Field(alias="acting_organisation_id")
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    updated_at: dt.datetime

    @staticmethod
    def resolve_label(obj) -> str:
        return str(checklist.label_for(obj.code))

    @staticmethod
    def resolve_manual(obj) -> bool:
        return obj.code in checklist.COMMERCIAL_CODES


class TotalsOut(Schema):
    amount: Decimal
    net_mass_kg: Decimal
    gross_mass_kg: Decimal
    packages: int
    lines: int


class TradeOut(Schema):
    id: int
    organisation: int = Field(alias="organisation_id")
    reference: str
    direction: str
    status: str
    seller: PartyOut
    buyer: PartyOut
    consignee: PartyOut | None
    invoice_number: str
    invoice_date: dt.date | None
    currency: str = Field(alias="currency_id")
    incoterm: str = Field(alias="incoterm_id")
    incoterm_place: str = Field(alias="incoterm_place_id")
    transport_mode: str = Field(alias="transport_mode_id")
    place_of_loading: str = Field(alias="place_of_loading_id")
    place_of_discharge: str = Field(alias="place_of_discharge_id")
    planned_departure: dt.date | None
    payment_terms: str
    payment_days: int
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[GoodsItemOut]
    totals: TotalsOut
    checklist: list[StepOut]

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.items.all())

    @staticmethod
    def resolve_totals(obj) -> dict:
        return queries.totals(obj)

    @staticmethod
    def resolve_checklist(obj) -> list:
        return list(obj.steps.all())


class TradeListOut(Schema):
    id: int
    organisation: int = Field(alias="organisation_id")
    reference: str
    direction: str
    status: str
    seller_name: str
    buyer_name: str
    currency: str = Field(alias="currency_id")
    incoterm: str = Field(alias="incoterm_id")
    place_of_loading: str = Field(alias="place_of_loading_id")
    place_of_discharge: str = Field(alias="place_of_discharge_id")
    item_count: int
    steps_done: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_seller_name(obj) -> str:
        return obj.seller.name

    @staticmethod
    def resolve_buyer_name(obj) -> str:
        return obj.buyer.name


# -- answers ---------------------------------------------------------------------------------------
# The trade's answer is built from the rows read by queries.get_trade_record_for, field by field, rather
# than by the schemas' resolvers from model instances: the same document, for a fraction of the time.


_ENCODE = DjangoJSONEncoder().default  # dates, times and decimals exactly as the API renderer writes them


def _v(value):
    return None if value is None else _ENCODE(value)


def _party_out(party) -> dict | None:
    if party is None:
        return None
    return {
        "name": party.name,
        "country": party.country_id,
        "street": party.street,
        "city": party.city,
        "postcode": party.postcode,
        "email": party.email,
        "identifiers": party.identifiers,
    }


def _item_out(item) -> dict:
    return {
        "line_no": item.line_no,
        "description": item.description,
        "hs_code": item.hs_code_id,
        "origin_country": item.origin_country_id,
        "quantity": _v(item.quantity),
        "unit": item.unit_id,
        "packages_count": item.packages_count,
        "package_type": item.package_type_id,
        "net_mass_kg": _v(item.net_mass_kg),
        "gross_mass_kg": _v(item.gross_mass_kg),
        "unit_price": _v(item.unit_price),
        "line_amount": _v(item.line_amount),
    }


def _step_out(step) -> dict:
    return {
        "code": step.code,
        "label": StepOut.resolve_label(step),
        "category": step.category,
        "position": step.position,
        "responsible": step.responsible,
        "status": step.status,
        "note": step.note,
        "manual": StepOut.resolve_manual(step),
        "acting_organisation": step.acting_organisation_id,
        "started_at": _v(step.started_at),
        "completed_at": _v(step.completed_at),
        "updated_at": _v(step.updated_at),
    }


def _trade_out(record: queries.TradeRecord, status: int = 200) -> HttpResponse:
    """The TradeOut document, written straight to JSON (the schema documents it; the test
    test_api_trade_answer checks that both agree)."""
    trade = record.trade
    totals = queries.totals_of(record.items)
    document = {
        "id": trade.id,
        "organisation": trade.organisation_id,
        "reference": trade.reference,
        "direction": trade.direction,
        "status": trade.status,
        "seller": _party_out(trade.seller),
        "buyer": _party_out(trade.buyer),
        "consignee": _party_out(trade.consignee),
        "invoice_number": trade.invoice_number,
        "invoice_date": _v(trade.invoice_date),
        "currency": trade.currency_id,
        "incoterm": trade.incoterm_id,
        "incoterm_place": trade.incoterm_place_id,
        "transport_mode": trade.transport_mode_id,
        "place_of_loading": trade.place_of_loading_id,
        "place_of_discharge": trade.place_of_discharge_id,
        "planned_departure": _v(trade.planned_departure),
        "payment_terms": trade.payment_terms,
        "payment_days": trade.payment_days,
        "created_at": _v(trade.created_at),
        "updated_at": _v(trade.updated_at),
        "items": [_item_out(item) for item in record.items],
        "totals": {k: v if k in ("packages", "lines") else _v(v) for k, v in totals.items()},
        "checklist": [_step_out(step) for step in record.steps],
    }
    return HttpResponse(json.dumps(document), status=status, content_type="application/json; charset=utf-8")


def _trade_answer(actor, trade_id: int, status: int = 200) -> HttpResponse:
    return _trade_out(queries.get_trade_record_for(actor, trade_id), status=status)


# -- trades -----------------------------------------------------------------------------------------


@router.get("", response=list[TradeListOut])
@paginate(PagePagination)
def list_trades(request, filters: Query[TradeFilters]):
    return filters.filter(queries.trades_visible_to(actor_of(request)))


@router.post("", response={201: TradeOut})
@idempotent
def create_trade(request, payload: TradeCreateIn):
    actor = actor_of(request)
    organisation = organisation_for_write(request, payload.organisation)
    record = services.create_trade_record(actor=actor, organisation=organisation, data=_trade_data(payload))
    return _trade_out(record, status=201)


@router.get("/{int:trade_id}", response=TradeOut)
def get_trade(request, trade_id: int):
    return _trade_answer(actor_of(request), trade_id)


@router.put("/{int:trade_id}", response=TradeOut)
def replace_trade(request, trade_id: int, payload: TradeIn):
    actor = actor_of(request)
    trade = queries.get_trade_for(actor, trade_id)
    services.update_trade(actor=actor, trade=trade, data=_trade_data(payload))
    return _trade_answer(actor, trade_id)


@router.delete("/{int:trade_id}", response={204: None})
def delete_trade(request, trade_id: int):
    actor = actor_of(request)
    services.delete_trade(actor=actor, trade=queries.get_trade_for(actor, trade_id))


@router.post("/{int:trade_id}/duplicate", response={201: TradeOut})
def duplicate_trade(request, trade_id: int, payload: DuplicateIn | None = None):
    actor = actor_of(request)
    reference = payload.reference if payload else ""
    new = services.duplicate_trade(
        actor=actor, trade=queries.get_trade_for(actor, trade_id), reference=reference
    )
    return _trade_answer(actor, new.pk, status=201)


# -- goods items ------------------------------------------------------------------------------------


@router.get("/{int:trade_id}/items", response=list[GoodsItemOut])
def list_items(request, trade_id: int):
    return queries.get_trade_record_for(actor_of(request), trade_id).items


@router.post("/{int:trade_id}/items", response={201: GoodsItemOut})
def add_item(request, trade_id: int, payload: GoodsItemIn):
    actor = actor_of(request)
    trade = queries.get_trade_for(actor, trade_id)
    with errors_relocated("item"):
        goods = services.add_goods_item(actor=actor, trade=trade, item=_item(payload))
    return queries.get_goods_item_for(actor, trade_id, goods.line_no)


@router.get("/{int:trade_id}/items/{int:line_no}", response=GoodsItemOut)
def get_item(request, trade_id: int, line_no: int):
    return queries.get_goods_item_for(actor_of(request), trade_id, line_no)


@router.put("/{int:trade_id}/items/{int:line_no}", response=GoodsItemOut)
def replace_item(request, trade_id: int, line_no: int, payload: GoodsItemIn):
    actor = actor_of(request)
    goods = queries.get_goods_item_for(actor, trade_id, line_no)
    with errors_relocated("item"):
        services.update_goods_item(actor=actor, goods=goods, item=_item(payload))
    return queries.get_goods_item_for(actor, trade_id, line_no)


@router.delete("/{int:trade_id}/items/{int:line_no}", response={204: None})
def delete_item(request, trade_id: int, line_no: int):
    actor = actor_of(request)
    services.delete_goods_item(actor=actor, goods=queries.get_goods_item_for(actor, trade_id, line_no))


# -- checklist --------------------------------------------------------------------------------------


@router.get("/{int:trade_id}/checklist", response=list[StepOut])
def list_steps(request, trade_id: int):
    return queries.get_trade_record_for(actor_of(request), trade_id).steps


@router.patch("/{int:trade_id}/checklist/{code}", response=StepOut)
def mark_step(request, trade_id: int, code: str, payload: StepPatchIn):
    """Mark one of your commercial steps (manual = true); the platform moves the others."""
    actor = actor_of(request)
    step = queries.get_step_for(actor, trade_id, code)
    note = step.note if payload.note is None else payload.note
    return services.mark_commercial_step(actor=actor, step=step, status=payload.status, note=note)
