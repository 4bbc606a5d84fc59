"""The trade as every document generator sees it: one read-only snapshot, codes resolved to names.

Generators never query the database: `document_data(trade)` reads everything once, and each generator
declares (in `reads`) which of these fields it writes into its document. Field paths are the attribute
names below, dotted for parties and places (``seller.name``, ``incoterm_place.code``) and prefixed with
``items[].`` for goods lines (``items[].hs_code``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from ismit.accounts.models import Organisation, OrganisationIdentifier
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split
from ismit.refdata import lookup
from ismit.refdata.models import Country, HSCode, Location, PackageType, TransportMode, UnitOfMeasure
from ismit.trades.models import ChecklistStep, GoodsItem, Party, Trade

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PartyView:
    name: str
    street: str
    city: str
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    country_name: str
    email: str = ""
    identifiers: dict[str, str] | None = None  # scheme -> value: "vat", "eori", "tax", "business"

    def identifier(self, scheme: str) -> str:
        return (self.identifiers or {}).get(scheme, "")


@dataclass(frozen=True)
class PlaceView:
    code: str  # UN/LOCODE, five characters: country + place
    name: str
    country: str


@dataclass(frozen=True)
class ItemView:
    line_no: int
    description: str
    hs_code: str  # HS 2022 subheading, six digits
    hs_description: str
    origin_country: str
    quantity: Decimal
    unit: str  # UN/ECE Rec 20 code
    unit_name: str
    packages_count: int
    package_type: str  # UN/ECE Rec 21 code
    package_name: str
    net_mass_kg: Decimal
    gross_mass_kg: Decimal
    unit_price: Decimal
    line_amount: Decimal  # quantity x unit price, to the cent: derived, never typed


@dataclass(frozen=True)
class DocumentData:
    trade_id: int
    reference: str
    direction: str  # "export" or "import"
    issuer: PartyView  # the organisation that owns the trade and issues its documents
    seller: PartyView
    buyer: PartyView
    consignee: PartyView | None
    invoice_number: str
    invoice_date: dt.date | None
    currency: str  # ISO 4217
    incoterm: str  # Incoterms 2020 rule, e.g. "FOB"
    incoterm_name: str
    incoterm_place: PlaceView
    transport_mode: str  # UN/ECE Rec 19 code
    transport_mode_name: str
    place_of_loading: PlaceView
    place_of_discharge: PlaceView
    planned_departure: dt.date | None
    payment_terms: str  # "advance", "lc", "collection", "open_account"
    payment_days: int
    items: tuple[ItemView, ...]
    created_at: dt.datetime
    # The declarant's reference of this declaration (LRN, DE 2/5) when it is not the trade's own: a new
    # declaration after a rejection needs one of its own (a window refuses an LRN used again).
    declaration_reference: str = ""

    # -- derived: never typed by anyone --------------------------------------------------------------

    @property
    def total_amount(self) -> Decimal:
        return sum((i.line_amount for i in self.items), start=Decimal("0.00"))

    @property
    def total_net_mass_kg(self) -> Decimal:
        return sum((i.net_mass_kg for i in self.items), start=Decimal(0))

    @property
    def total_gross_mass_kg(self) -> Decimal:
        return sum((i.gross_mass_kg for i in self.items), start=Decimal(0))

    @property
    def total_packages(self) -> int:
        return sum(i.packages_count for i in self.items)

    @property
    def export_country(self) -> str:
        return self.place_of_loading.country

    @property
    def destination_country(self) -> str:
        return self.place_of_discharge.country

    @property
    def consignee_or_buyer(self) -> PartyView:
        return self.consignee or self.buyer


PARTY_TYPED = ("name", "street", "city", "postcode", "country")

# Fields an MSME types (the denominator of the single entry ratio): everything on the trade form.
TYPED_HEADER_FIELDS: tuple[str, ...] = (
    "direction",
    *(f"{role}.{f}" for role in ("seller", "buyer", "consignee") for f in PARTY_TYPED),
    "invoice_number",
    "invoice_date",
    "currency",
    "incoterm",
    "incoterm_place",
    "transport_mode",
    "place_of_loading",
    "place_of_discharge",
    "planned_departure",
    "payment_terms",
    "payment_days",
)
TYPED_ITEM_FIELDS: tuple[str, ...] = (
    "description",
    "hs_code",
    "origin_country",
    "quantity",
    "unit",
    "packages_count",
    "package_type",
    "net_mass_kg",
    "gross_mass_kg",
    "unit_price",
)
ITEM_FIELDS = frozenset(f.name for f in fields(ItemView))


def _names(
    *, hs_codes: set[str], units: set[str], packages: set[str], countries: set[str], language: str
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """HS descriptions, unit, package and country names (in the language): code lists as refdata.lookup
    reads them (one UNION ALL query at most, codes found kept a while in each process)."""
    found = lookup.resolve(
        {HSCode: hs_codes, UnitOfMeasure: units, PackageType: packages, Country: countries}
    )
    french = language == "fr"
    return (
        {code: hs.description for code, hs in found[HSCode].items()},
        {code: unit.name for code, unit in found[UnitOfMeasure].items()},
        {code: package.name for code, package in found[PackageType].items()},
        {code: (c.name_fr if french and c.name_fr else c.name) for code, c in found[Country].items()},
    )


def _party(party: Party | None, names: dict[str, str]) -> PartyView | None:
    if party is None:
        return None
    return PartyView(
        name=party.name,
        street=party.street,
        city=party.city,
        postcode=party.postcode,
        country=party.country_id,
        country_name=names.get(party.country_id, party.country_id),
        email=party.email,
        identifiers=dict(party.identifiers or {}),
    )


_IDENTIFIER_ROWS = Prepared(
    lambda organisation_id: (
        OrganisationIdentifier.objects.filter(organisation_id=organisation_id)
        .order_by()
        .values_list("scheme", "value")
    ),
    "organisation_id",
)


def _issuer(organisation: Organisation, names: dict[str, str], identifiers: dict | None = None) -> PartyView:
    if identifiers is None:
        identifiers = dict(_IDENTIFIER_ROWS.rows(organisation_id=organisation.pk))
    return PartyView(
        name=organisation.legal_name,
        street=organisation.street,
        city=organisation.city,
        postcode=organisation.postcode,
        country=organisation.country,
        country_name=names.get(organisation.country, organisation.country),
        email=organisation.email,
        identifiers=identifiers,
    )


TRADE_RELATED = (
    "organisation",
    "seller",
    "buyer",
    "consignee",
    "incoterm",
    "incoterm_place",
    "transport_mode",
    "place_of_loading",
    "place_of_discharge",
)
TRADE_FIELDS = concrete_attnames(Trade)


def _related_fields(name: str) -> tuple[str, ...]:
    return concrete_attnames(Trade._meta.get_field(name).related_model)


_RELATED_FIELDS = {name: _related_fields(name) for name in TRADE_RELATED}
_ROW_SIZES = (len(TRADE_FIELDS), *(len(f) for f in _RELATED_FIELDS.values()))
_ITEM_FIELDS = concrete_attnames(GoodsItem)
_HS_FIELDS = concrete_attnames(HSCode)


_RELATED_WIDTH = sum(_ROW_SIZES)
_WITH_TRADE = ("issuer_identifiers", "step_statuses")
TRADE_ROW_WIDTH = _RELATED_WIDTH + len(_WITH_TRADE)


def _with_trade() -> dict[str, RawSQL]:
    """On PostgreSQL, the issuer's identifiers and the checklist's statuses, as arrays of pairs in the
    trade's row (no query of their own: the document and the compliance check read them); elsewhere NULL,
    and they are read when needed."""
    if connection.vendor != "postgresql":
        return {name: RawSQL("NULL", (), output_field=TextField()) for name in _WITH_TRADE}
    trade = connection.ops.quote_name(Trade._meta.db_table)
    identifiers = connection.ops.quote_name(OrganisationIdentifier._meta.db_table)
    steps = connection.ops.quote_name(ChecklistStep._meta.db_table)
    return {
        "issuer_identifiers": RawSQL(  # noqa: S611 - names from the models
            f"ARRAY(SELECT ARRAY[i.scheme, i.value] FROM {identifiers} i "  # noqa: S608 - model names
            f"WHERE i.organisation_id = {trade}.organisation_id)",
            (),
            output_field=TextField(),
        ),
        "step_statuses": RawSQL(  # noqa: S611 - names from the models
            f"ARRAY(SELECT ARRAY[s.code, s.status] FROM {steps} s WHERE s.trade_id = {trade}.id)",  # noqa: S608
            (),
            output_field=TextField(),
        ),
    }


def trade_values(trades: QuerySet[Trade], *extra: str) -> QuerySet:
    """The trades' rows as trade_of_row reads them (the trade's, then those of TRADE_RELATED: one query,
    as select_related joins them, then what _with_trade reads), then the `extra` paths; for a Prepared
    query (lib.prepared)."""
    related = (path for name, names in _RELATED_FIELDS.items() for path in prefixed(name, names))
    return (
        trades.annotate(**_with_trade()).order_by().values_list(*TRADE_FIELDS, *related, *_WITH_TRADE, *extra)
    )


# Prepared (lib.prepared): every submission of a declaration reads them.
_TRADE_ROWS = Prepared(lambda trade_id: trade_values(Trade.objects.filter(pk=trade_id)), "trade_id")
_LINE_ROWS = Prepared(
    lambda trade_id: (
        GoodsItem.objects.filter(trade_id=trade_id)
        .order_by("line_no")
        .values_list(*_ITEM_FIELDS, *prefixed("hs_code", _HS_FIELDS))
    ),
    "trade_id",
)


def trade_of_row(row) -> Trade:
    """The trade of a row of trade_values (its first TRADE_ROW_WIDTH values), with its goods lines read
    (a prepared query), as trade_for_documents answers it."""
    trade_row, *related_rows = split(row[:_RELATED_WIDTH], *_ROW_SIZES)
    trade = instance(Trade, TRADE_FIELDS, trade_row)
    identifiers, steps = row[_RELATED_WIDTH:TRADE_ROW_WIDTH]
    # Read with the trade (PostgreSQL), else None: the document's issuer and the compliance check read them.
    trade.issuer_identifiers = dict(identifiers) if identifiers is not None else None
    trade.step_statuses = dict(steps) if steps is not None else None
    for (name, names), values in zip(_RELATED_FIELDS.items(), related_rows, strict=True):
        field = Trade._meta.get_field(name)
        field.set_cached_value(
            trade, instance(field.related_model, names, values) if values[0] is not None else None
        )
    items = []
    for line in _LINE_ROWS.rows(trade_id=trade.pk):
        item_row, hs_row = split(line, len(_ITEM_FIELDS), len(_HS_FIELDS))
        item = instance(GoodsItem, _ITEM_FIELDS, item_row)
        GoodsItem.hs_code.field.set_cached_value(
            item, instance(HSCode, _HS_FIELDS, hs_row) if hs_row[0] is not None else None
        )
        GoodsItem.trade.field.set_cached_value(item, trade)
        items.append(item)
    trade._prefetched_objects_cache = {"items": items}
    return trade


def trade_for_documents(pk: int) -> Trade:
    """The trade with what its documents and its compliance check read: parties, terms, places, and its
    goods lines in order with their HS codes (two prepared queries)."""
    rows = _TRADE_ROWS.rows(trade_id=int(pk))
    if not rows:
        raise Trade.DoesNotExist(f"no trade {pk}")
    return trade_of_row(rows[0])


def document_data(trade: Trade, *, language: str = "en", loaded: bool = False) -> DocumentData:
    """Reads the trade once (a handful of queries whatever its size) into a DocumentData snapshot.
    `loaded`: the trade was just read by trade_for_documents, and is not read again."""
    if not loaded:
        trade = trade_for_documents(trade.pk)
    items: list[GoodsItem] = list(trade.items.all())
    countries = {trade.organisation.country, trade.seller.country_id, trade.buyer.country_id}
    countries |= {i.origin_country_id for i in items}
    countries |= {
        loc.country for loc in (trade.incoterm_place, trade.place_of_loading, trade.place_of_discharge)
    }
    if trade.consignee_id:
        countries.add(trade.consignee.country_id)
    hs, units, packages, names = _names(
        hs_codes={i.hs_code_id for i in items},
        units={i.unit_id for i in items},
        packages={i.package_type_id for i in items},
        countries=countries,
        language=language,
    )
    mode: TransportMode = trade.transport_mode
    incoterm = trade.incoterm

    def place(loc: Location) -> PlaceView:
        return PlaceView(code=loc.code, name=loc.name, country=loc.country)

    return DocumentData(
        trade_id=trade.pk,
        reference=trade.reference,
        direction=trade.direction,
        issuer=_issuer(trade.organisation, names, getattr(trade, "issuer_identifiers", None)),
        seller=_party(trade.seller, names),
        buyer=_party(trade.buyer, names),
        consignee=_party(trade.consignee, names),
        invoice_number=trade.invoice_number,
        invoice_date=trade.invoice_date,
        currency=trade.currency_id,
        incoterm=trade.incoterm_id,
        incoterm_name=(incoterm.name_fr if language == "fr" and incoterm.name_fr else incoterm.name),
        incoterm_place=place(trade.incoterm_place),
        transport_mode=mode.code,
        transport_mode_name=(mode.name_fr if language == "fr" and mode.name_fr else mode.name),
        place_of_loading=place(trade.place_of_loading),
        place_of_discharge=place(trade.place_of_discharge),
        planned_departure=trade.planned_departure,
        payment_terms=trade.payment_terms,
        payment_days=trade.payment_days,
        items=tuple(
            ItemView(
                line_no=i.line_no,
                description=i.description,
                hs_code=i.hs_code_id,
                hs_description=hs.get(i.hs_code_id, ""),
                origin_country=i.origin_country_id,
                quantity=i.quantity,
                unit=i.unit_id,
                unit_name=units.get(i.unit_id, i.unit_id),
                packages_count=i.packages_count,
                package_type=i.package_type_id,
                package_name=packages.get(i.package_type_id, i.package_type_id),
                net_mass_kg=i.net_mass_kg,
                gross_mass_kg=i.gross_mass_kg,
                unit_price=i.unit_price,
                line_amount=(i.quantity * i.unit_price).quantize(CENT),
            )
            for i in items
        ),
        created_at=trade.created_at,
    )
