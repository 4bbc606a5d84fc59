"""Reads a WCO DEC declaration (DMS 2, as the UK customs declarations API exchanges it) into plain data.

`read_declaration(xml)` gives a `WcoDeclaration`: parties, goods items with commodity code, masses,
quantities, values, procedure, transport, delivery terms. From it, `to_trade_data` builds the data set an
MSME would enter (`ismit.trades.services.TradeData`, codes still to be checked by the trade services),
`to_document_data` the snapshot the document generators take (no database), and `options_from` the
declaration facts a trade does not hold (LRN, type, procedure, offices…), so that
`render_declaration(to_document_data(d), options_from(d))` writes the same declaration back.

The declaration may stand alone or sit inside the `md:MetaData` envelope or any wrapper around it (the
first `Declaration` in the WCO DEC namespace is read). Comments are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from ismit.documents.data import CENT, DocumentData, ItemView, PartyView, PlaceView
from ismit.documents.generators.wco import DeclarationOptions, options_for
from ismit.trades.services import GoodsItemData, PartyData, TradeData

MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
DS_NS = "urn:wco:datamodel:WCO:Declaration_DS:DMS:2"
RES_NS = "urn:wco:datamodel:WCO:RES-DMS:2"

EXPORT_TYPES = ("EX", "CO")  # DE 1/1: export; dispatch to or from a special fiscal territory (UK "CO")


class WcoReadError(ValueError):
    """The bytes are not XML, or hold no WCO DEC declaration."""


@dataclass(frozen=True)
class WcoParty:
    id: str = ""  # the WCO party ID: an EORI in the UK
    name: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    email: str = ""
    function_code: str = ""  # Agent only: DE 3/21 representation status

    def __bool__(self) -> bool:
        return any((self.id, self.name, self.street, self.city, self.postcode, self.country))


@dataclass(frozen=True)
class WcoGoodsItem:
    sequence: int
    description: str = ""
    commodity_code: str = ""  # as declared (the UK's eight-digit code under "TSP")
    classification_type: str = ""
    other_classifications: tuple[tuple[str, str], ...] = ()  # (type, id): TARIC, additional codes…
    origin_country: str = ""
    packages_count: int | None = None  # sum of the item's Packaging quantities
    package_type: str = ""  # first Packaging type (Rec 21)
    marks: str = ""
    gross_mass_kg: Decimal | None = None
    net_mass_kg: Decimal | None = None
    tariff_quantity: Decimal | None = None  # DE 6/2 supplementary units
    tariff_unit: str = ""
    statistical_value: Decimal | None = None
    statistical_currency: str = ""
    item_amount: Decimal | None = None
    item_currency: str = ""
    procedure_code: str = ""  # DE 1/10 requested + previous, e.g. "1040"
    additional_procedure_codes: tuple[str, ...] = ()  # DE 1/11, e.g. ("000",)
    transaction_nature_code: str = ""

    @property
    def hs_code(self) -> str:
        """The HS subheading: the first six digits of the commodity code."""
        return "".join(ch for ch in self.commodity_code if ch.isdigit())[:6]


@dataclass(frozen=True)
class WcoDeclaration:
    function_code: str = ""
    lrn: str = ""  # FunctionalReferenceID, DE 2/5
    mrn: str = ""  # Declaration ID, assigned by customs
    type_code: str = ""  # DE 1/1 + 1/2, e.g. "EXD"
    responsible_country: str = ""
    responsible_agency: str = ""
    customization_version: str = ""
    declarant: WcoParty = field(default_factory=WcoParty)
    exporter: WcoParty = field(default_factory=WcoParty)
    agent: WcoParty = field(default_factory=WcoParty)
    consignee: WcoParty = field(default_factory=WcoParty)
    buyer: WcoParty = field(default_factory=WcoParty)
    seller: WcoParty = field(default_factory=WcoParty)
    importer: WcoParty = field(default_factory=WcoParty)
    goods_item_quantity: int | None = None
    total_packages: int | None = None
    invoice_amount: Decimal | None = None
    invoice_currency: str = ""
    invoice_number: str = ""
    invoice_date: dt.date | None = None
    transport_mode: str = ""  # BorderTransportMeans ModeCode, DE 7/4
    inland_transport_mode: str = ""  # DepartureTransportMeans ModeCode, DE 7/5
    container_code: str = ""
    incoterm: str = ""
    incoterm_location: str = ""  # UN/LOCODE
    incoterm_location_name: str = ""
    destination_country: str = ""
    export_country: str = ""
    loading_location: str = ""  # UN/LOCODE, DE 5/21
    loading_location_name: str = ""
    goods_location: str = ""
    goods_location_type: str = ""
    goods_location_qualifier: str = ""
    goods_location_country: str = ""
    exit_office: str = ""
    supervising_office: str = ""
    declaration_office: str = ""
    ducr: str = ""
    ucr: str = ""
    issued_at: dt.datetime | None = None
    items: tuple[WcoGoodsItem, ...] = ()

    @property
    def declaration_type(self) -> str:
        return self.type_code[:2]

    @property
    def is_export_declaration(self) -> bool:
        """An original export declaration (not an amendment or a cancellation request)."""
        return self.function_code == "9" and self.declaration_type in EXPORT_TYPES

    @property
    def currency(self) -> str:
        """The currency of the goods values: the items' statistical value currency, else the invoice's."""
        for item in self.items:
            if item.statistical_currency:
                return item.statistical_currency
        return self.invoice_currency

    @property
    def procedure_code(self) -> str:
        return next((i.procedure_code for i in self.items if i.procedure_code), "")


# -- parsing ------------------------------------------------------------------------------------------------


_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)


_TAG = re.compile(rb"<(/?)([^\s/>!?]+)[^>]*?(/?)>")


def _drop_stray_end_tags(data: bytes) -> bytes:
    """Removes end tags that close no open element (left behind when a start tag sat in a comment)."""
    stack: list[bytes] = []
    out, last = [], 0
    for match in _TAG.finditer(data):
        closing, name, empty = match.groups()
        if not closing:
            if not empty:
                stack.append(name)
        elif name in stack:
            while stack and stack.pop() != name:
                pass
        else:
            out.append(data[last : match.start()])
            last = match.end()
    out.append(data[last:])
    return b"".join(out)


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        recover=recover,
    )


def _q(path: str) -> str:
    """ "A/B/C" -> the same path with each step in the WCO DEC namespace."""
    return "/".join(f"{{{DEC_NS}}}{step}" if step not in (".", "..") else step for step in path.split("/"))


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(_q(path))
    return " ".join((found.text or "").split()) if found is not None else ""


def _attr(element: etree._Element | None, path: str, name: str) -> str:
    if element is None:
        return ""
    found = element.find(_q(path))
    return (found.get(name) or "").strip() if found is not None else ""


def _decimal(element: etree._Element | None, path: str) -> Decimal | None:
    text = _text(element, path)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _int(element: etree._Element | None, path: str) -> int | None:
    number = _decimal(element, path)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _date(element: etree._Element | None, path: str) -> dt.datetime | None:
    """A DateTimeString (p1 namespace) under `path`: format 102 (CCYYMMDD) or 304 (with time and zone)."""
    if element is None:
        return None
    holder = element.find(_q(path))
    if holder is None:
        return None
    string = holder.find(f"{{{DS_NS}}}DateTimeString")
    if string is None:
        string = holder.find(_q("DateTimeString"))
    text = (string.text or "").strip() if string is not None else ""
    try:
        if len(text) == 8:
            return dt.datetime.strptime(text, "%Y%m%d").replace(tzinfo=dt.UTC)
        if len(text) >= 14:
            moment = dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S")
            zone = text[14:]
            offset = dt.timedelta(hours=int(zone)) if zone not in ("", "Z") else dt.timedelta(0)
            return moment.replace(tzinfo=dt.timezone(offset))
    except ValueError:
        return None
    return None


def _party(element: etree._Element | None) -> WcoParty:
    if element is None:
        return WcoParty()
    return WcoParty(
        id=_text(element, "ID"),
        name=_text(element, "Name"),
        street=_text(element, "Address/Line"),
        city=_text(element, "Address/CityName"),
        postcode=_text(element, "Address/PostcodeID"),
        country=_text(element, "Address/CountryCode").upper(),
        email=_text(element, "Communication/ID") if _text(element, "Communication/TypeCode") == "EM" else "",
        function_code=_text(element, "FunctionCode"),
    )


def _goods_item(element: etree._Element, position: int) -> WcoGoodsItem:
    classifications = [
        (_text(c, "IdentificationTypeCode"), _text(c, "ID"))
        for c in element.findall(_q("Commodity/Classification"))
    ]
    # The commodity code: the UK's "TSP" (combined nomenclature), or the HS code, or the first one given.
    main = next((c for c in classifications if c[0] in ("TSP", "HS")), None)
    if main is None:
        main = next((c for c in classifications if c[1][:6].isdigit()), ("", ""))
    # DE 1/10 is a requested + previous procedure (2 + 2 characters); DE 1/11 a three-character code.
    procedure, additional = "", []
    for gp in element.findall(_q("GovernmentProcedure")):
        current, previous = _text(gp, "CurrentCode"), _text(gp, "PreviousCode")
        if len(current) == 3 and not previous:
            additional.append(current)
        elif current and not procedure:
            procedure = f"{current}{previous}"
    packagings = element.findall(_q("Packaging"))
    counts = [_int(p, "QuantityQuantity") for p in packagings]
    origin = next(
        (o for o in element.findall(_q("Origin")) if _text(o, "TypeCode") in ("", "1")),
        element.find(_q("Origin")),
    )
    return WcoGoodsItem(
        sequence=_int(element, "SequenceNumeric") or position,
        description=_text(element, "Commodity/Description"),
        commodity_code=main[1],
        classification_type=main[0],
        other_classifications=tuple(c for c in classifications if c != main),
        origin_country=_text(origin, "CountryCode").upper() if origin is not None else "",
        packages_count=sum(c for c in counts if c is not None)
        if any(c is not None for c in counts)
        else None,
        package_type=next((_text(p, "TypeCode") for p in packagings if _text(p, "TypeCode")), ""),
        marks=next((_text(p, "MarksNumbersID") for p in packagings if _text(p, "MarksNumbersID")), ""),
        gross_mass_kg=_decimal(element, "Commodity/GoodsMeasure/GrossMassMeasure"),
        net_mass_kg=_decimal(element, "Commodity/GoodsMeasure/NetNetWeightMeasure"),
        tariff_quantity=_decimal(element, "Commodity/GoodsMeasure/TariffQuantity"),
        tariff_unit=_attr(element, "Commodity/GoodsMeasure/TariffQuantity", "unitCode"),
        statistical_value=_decimal(element, "StatisticalValueAmount"),
        statistical_currency=_attr(element, "StatisticalValueAmount", "currencyID"),
        item_amount=_decimal(element, "Commodity/InvoiceLine/ItemChargeAmount"),
        item_currency=_attr(element, "Commodity/InvoiceLine/ItemChargeAmount", "currencyID"),
        procedure_code=procedure,
        additional_procedure_codes=tuple(additional),
        transaction_nature_code=_text(element, "TransactionNatureCode"),
    )


def _find_declaration(root: etree._Element) -> etree._Element | None:
    """The first DEC Declaration that is not quoted inside a notification (a RES Response)."""
    for element in root.iter(f"{{{DEC_NS}}}Declaration"):
        if not any(a.tag == f"{{{RES_NS}}}Response" for a in element.iterancestors()):
            return element
    return None


def read_declaration(xml: bytes | str | Path, *, recover: bool = False) -> WcoDeclaration:
    """Parses a WCO DEC declaration. `recover=True` reads past well-formedness errors (some published
    samples have "--" inside comments); never use it on a message that is to be acted upon."""
    data = xml.read_bytes() if isinstance(xml, Path) else xml.encode() if isinstance(xml, str) else xml
    if recover:
        # A comment ends at the first "-->" whatever it holds: drop comments before parsing, so that
        # one with "--" inside does not end the document.
        data = _drop_stray_end_tags(_COMMENT.sub(b"", data))
    try:
        root = etree.fromstring(data, _parser(recover))
    except etree.XMLSyntaxError as exc:
        raise WcoReadError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise WcoReadError("no XML element")
    declaration = _find_declaration(root)
    if declaration is None:
        raise WcoReadError("no WCO DEC Declaration element")
    metadata = declaration.getparent()
    if metadata is None or metadata.tag != f"{{{MD_NS}}}MetaData":
        metadata = None

    def meta(name: str) -> str:
        found = metadata.find(f"{{{MD_NS}}}{name}") if metadata is not None else None
        return " ".join((found.text or "").split()) if found is not None else ""

    shipment = declaration.find(_q("GoodsShipment"))
    consignment = shipment.find(_q("Consignment")) if shipment is not None else None
    previous = shipment.findall(_q("PreviousDocument")) if shipment is not None else []
    ducr = next((_text(p, "ID") for p in previous if _text(p, "TypeCode") == "DCR"), "")
    items = (
        [_goods_item(e, n) for n, e in enumerate(shipment.findall(_q("GovernmentAgencyGoodsItem")), 1)]
        if shipment is not None
        else []
    )
    invoice_date = _date(shipment, "Invoice/IssueDateTime")
    return WcoDeclaration(
        function_code=_text(declaration, "FunctionCode"),
        lrn=_text(declaration, "FunctionalReferenceID"),
        mrn=_text(declaration, "ID"),
        type_code=_text(declaration, "TypeCode").upper(),
        responsible_country=meta("ResponsibleCountryCode"),
        responsible_agency=meta("ResponsibleAgencyName"),
        customization_version=meta("AgencyAssignedCustomizationVersionCode"),
        declarant=_party(declaration.find(_q("Declarant"))),
        exporter=_party(declaration.find(_q("Exporter"))),
        agent=_party(declaration.find(_q("Agent"))),
        consignee=_party(shipment.find(_q("Consignee")) if shipment is not None else None),
        buyer=_party(shipment.find(_q("Buyer")) if shipment is not None else None),
        seller=_party(shipment.find(_q("Seller")) if shipment is not None else None),
        importer=_party(shipment.find(_q("Importer")) if shipment is not None else None),
        goods_item_quantity=_int(declaration, "GoodsItemQuantity"),
        total_packages=_int(declaration, "TotalPackageQuantity"),
        invoice_amount=_decimal(declaration, "InvoiceAmount"),
        invoice_currency=_attr(declaration, "InvoiceAmount", "currencyID"),
        invoice_number=_text(shipment, "Invoice/ID"),
        invoice_date=invoice_date.date() if invoice_date else None,
        transport_mode=_text(declaration, "BorderTransportMeans/ModeCode"),
        inland_transport_mode=_text(consignment, "DepartureTransportMeans/ModeCode"),
        container_code=_text(consignment, "ContainerCode"),
        incoterm=_text(shipment, "TradeTerms/ConditionCode").upper(),
        incoterm_location=_text(shipment, "TradeTerms/LocationID").upper(),
        incoterm_location_name=_text(shipment, "TradeTerms/LocationName"),
        destination_country=_text(shipment, "Destination/CountryCode").upper(),
        export_country=_text(shipment, "ExportCountry/ID").upper(),
        loading_location=_text(consignment, "LoadingLocation/ID").upper(),
        loading_location_name=_text(consignment, "LoadingLocation/Name"),
        goods_location=_text(consignment, "GoodsLocation/Name") or _text(consignment, "GoodsLocation/ID"),
        goods_location_type=_text(consignment, "GoodsLocation/TypeCode"),
        goods_location_qualifier=_text(consignment, "GoodsLocation/Address/TypeCode"),
        goods_location_country=_text(consignment, "GoodsLocation/Address/CountryCode").upper(),
        exit_office=_text(declaration, "ExitOffice/ID"),
        supervising_office=_text(declaration, "SupervisingOffice/ID"),
        declaration_office=_text(declaration, "DeclarationOfficeID"),
        ducr=ducr,
        ucr=_text(shipment, "UCR/TraderAssignedReferenceID") or _text(shipment, "UCR/ID"),
        issued_at=_date(declaration, "IssueDateTime"),
        items=tuple(items),
    )


# -- into the platform's structures --------------------------------------------------------------------


def _export_country(d: WcoDeclaration) -> str:
    return d.export_country or d.goods_location_country or d.exporter.country or d.responsible_country


def _party_data(party: WcoParty) -> PartyData:
    return PartyData(
        name=party.name,
        country=party.country,
        street=party.street,
        city=party.city,
        postcode=party.postcode,
        email=party.email,
        identifiers={"eori": party.id} if party.id else {},
    )


def to_trade_data(d: WcoDeclaration) -> TradeData:
    """The data set an MSME would have entered, as far as a declaration states it. Codes are as declared
    and `create_trade` checks them (a UK eight-digit commodity code is cut to its HS subheading). Not in a
    declaration: payment terms and days, planned departure, and the place of discharge (taken from the
    delivery terms' place when it lies in the country of destination); the caller completes them."""
    buyer = d.buyer or d.consignee
    return TradeData(
        direction="import" if d.declaration_type == "IM" else "export",
        reference=d.lrn or d.ucr,
        seller=_party_data(d.exporter),
        buyer=_party_data(buyer),
        consignee=_party_data(d.consignee) if d.buyer and d.consignee else None,
        invoice_number=d.invoice_number,
        invoice_date=d.invoice_date,
        currency=d.currency,
        incoterm=d.incoterm,
        incoterm_place=d.incoterm_location,
        transport_mode=d.transport_mode,
        place_of_loading=d.loading_location,
        place_of_discharge=_discharge(d),
        items=[
            GoodsItemData(
                description=i.description,
                hs_code=i.hs_code,
                origin_country=i.origin_country,
                quantity=i.tariff_quantity,
                unit=i.tariff_unit,
                packages_count=i.packages_count,
                package_type=i.package_type,
                net_mass_kg=i.net_mass_kg,
                gross_mass_kg=i.gross_mass_kg,
                unit_price=(
                    (_value(i) / i.tariff_quantity).quantize(Decimal("0.0001"))
                    if _value(i) is not None and i.tariff_quantity
                    else None
                ),
            )
            for i in d.items
        ],
    )


def _discharge(d: WcoDeclaration) -> str:
    """The declaration names no place of discharge; the delivery terms' place is one when it lies in the
    country of destination (C and D rules: CIF Marseille)."""
    if d.incoterm_location and d.incoterm_location[:2] == d.destination_country:
        return d.incoterm_location
    return ""


def _value(item: WcoGoodsItem) -> Decimal | None:
    return item.statistical_value if item.statistical_value is not None else item.item_amount


def _party_view(party: WcoParty) -> PartyView:
    return PartyView(
        name=party.name,
        street=party.street,
        city=party.city,
        postcode=party.postcode,
        country=party.country,
        country_name=party.country,
        email=party.email,
        identifiers={"eori": party.id} if party.id else {},
    )


def to_document_data(d: WcoDeclaration, *, trade_id: int = 0) -> DocumentData:
    """The snapshot the generators take, built from the declaration alone (no database). Values the
    declaration lacks stay empty or zero; the goods line amount is the item's statistical value."""
    export_country = _export_country(d)
    buyer = d.buyer or d.consignee
    items = []
    for i in d.items:
        value = _value(i) or Decimal(0)
        quantity = i.tariff_quantity or Decimal(0)
        items.append(
            ItemView(
                line_no=i.sequence,
                description=i.description,
                hs_code=i.hs_code,
                hs_description="",
                origin_country=i.origin_country,
                quantity=quantity,
                unit=i.tariff_unit if quantity else "",
                unit_name=i.tariff_unit,
                packages_count=i.packages_count or 0,
                package_type=i.package_type,
                package_name=i.package_type,
                net_mass_kg=i.net_mass_kg or Decimal(0),
                gross_mass_kg=i.gross_mass_kg or Decimal(0),
                unit_price=(value / quantity).quantize(Decimal("0.0001")) if quantity else value,
                line_amount=value.quantize(CENT) if value.as_tuple().exponent < -2 else value,
            )
        )
    return DocumentData(
        trade_id=trade_id,
        reference=d.lrn or d.ucr,
        direction="import" if d.declaration_type == "IM" else "export",
        issuer=_party_view(d.declarant or d.exporter),
        seller=_party_view(d.exporter),
        buyer=_party_view(buyer),
        consignee=_party_view(d.consignee) if d.buyer and d.consignee else None,
        invoice_number=d.invoice_number,
        invoice_date=d.invoice_date,
        currency=d.currency,
        incoterm=d.incoterm,
        incoterm_name=d.incoterm,
        incoterm_place=PlaceView(
            code=d.incoterm_location, name=d.incoterm_location_name, country=d.incoterm_location[:2]
        ),
        transport_mode=d.transport_mode,
        transport_mode_name=d.transport_mode,
        place_of_loading=PlaceView(
            code=d.loading_location, name=d.loading_location_name, country=export_country
        ),
        place_of_discharge=PlaceView(code=_discharge(d), name="", country=d.destination_country),
        planned_departure=None,
        payment_terms="",
        payment_days=0,
        items=tuple(items),
        created_at=d.issued_at or dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )


def options_from(d: WcoDeclaration) -> DeclarationOptions:
    """The declaration facts a trade does not hold, as this declaration states them."""
    first = next(iter(d.items), None)
    overrides: dict[str, object] = {
        "function_code": d.function_code or "9",
        "lrn": d.lrn or None,
        "declaration_type": d.declaration_type or None,
        "additional_declaration_type": d.type_code[2:],
        "procedure_code": d.procedure_code or None,
        "additional_procedure_code": first.additional_procedure_codes[0]
        if first and first.additional_procedure_codes
        else "",
        "transaction_nature_code": first.transaction_nature_code if first else "",
        "container_code": d.container_code or DeclarationOptions.container_code,
        "goods_location": d.goods_location or None,
        "goods_location_type": d.goods_location_type,
        "goods_location_qualifier": d.goods_location_qualifier,
        "exit_office": d.exit_office or None,
        "supervising_office": d.supervising_office or None,
        "declaration_office": d.declaration_office or None,
        "ducr": d.ducr or None,
        "marks": first.marks if first and first.marks else DeclarationOptions.marks,
    }
    if d.responsible_agency:
        overrides["responsible_agency"] = d.responsible_agency
    if d.customization_version:
        overrides["customization_version"] = d.customization_version
    return options_for(_export_country(d), **overrides)
