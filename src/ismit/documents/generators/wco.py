"""The export declaration as WCO Data Model 3.6 XML, shaped as the UK customs declarations API takes it.

The message is the API's submission body: a `md:MetaData` envelope (WCO DocumentMetaData DMS 2) holding
one `Declaration` (WCO DEC DMS 2), valid against the schema that API publishes (checked by
`ismit.documents.wco_schema.validate_wco` where the operator configures the schemas). Element
choices follow the API's annotated export scenarios (TT_EX*): function code 9, type EX + additional type,
declarant / exporter / consignee, one GovernmentAgencyGoodsItem per goods line with requested and
additional procedure, and DUCR as previous document.

A trade data set does not hold everything a customs declaration asks for (offices, goods location,
procedure…). Those come from `DeclarationOptions`: `DEFAULTS` lists every such value with the reason for
it, `COUNTRY_OPTIONS` overrides them per export country, and a caller (the single window connector) can
pass its own options to `render_declaration`.

Choices worth knowing:
- Commodity code: the data set holds the HS 2022 subheading (six digits), written with the UN/EDIFACT 7143
  type "HS". The UK wants its eight-digit commodity code under type "TSP"; padding six digits with zeros
  would declare a code nobody chose, so a country profile that needs a national code must supply it.
- Statistical value and item amount: the goods line amount in the invoice currency (the data set holds
  no exchange rates; the UK asks for GBP, a national connector converts).
- Transport mode: UN/ECE Rec 19 codes are the WCO mode codes (DE 7/4), one digit; the mapping is kept
  explicit in `MODE_CODES`.
- Texts are cut to the schema's lengths (names 70, street 70, city 35, postcode 9 characters); an
  identifier longer than 17 characters, or an e-mail address longer than 50, is left out rather than cut.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from ismit.documents.data import DocumentData, ItemView, PartyView
from ismit.documents.generators import register

MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
DS_NS = "urn:wco:datamodel:WCO:Declaration_DS:DMS:2"  # holds DateTimeString
NSMAP = {"md": MD_NS, None: DEC_NS, "p1": DS_NS}

MAX_GOODS_ITEMS = 999  # GovernmentAgencyGoodsItem maxOccurs

# UN/ECE Recommendation 19 code -> WCO mode of transport code (DE 7/4). WCO 3.6 takes Rec 19 as its
# code list, so the mapping is the identity; it stays a table so a country profile can differ.
MODE_CODES: dict[str, str] = {code: code for code in "0123456789"}


class WcoRenderError(ValueError):
    """The data set cannot be written as a schema-valid declaration (e.g. more than 999 goods items)."""


@dataclass(frozen=True)
class DeclarationOptions:
    """Declaration facts a trade data set does not hold. Each default below says why it is what it is."""

    # -- the envelope ---------------------------------------------------------------------------------
    # MetaData ResponsibleAgencyName: the customs administration of the export country.
    responsible_agency: str = "Customs"
    # MetaData AgencyAssignedCustomizationVersionCode: the version of the UK DMS customisation the message
    # conforms to (the published schema is version 2.1).
    customization_version: str = "v2.1"

    # -- the declaration ------------------------------------------------------------------------------
    function_code: str = "9"  # 9 = original declaration (13 = amendment / request)
    # DE 2/5 LRN (FunctionalReferenceID): None = the trade reference (at most 35 characters).
    lrn: str | None = None
    declaration_type: str | None = None  # DE 1/1: None = "EX" for exports, "IM" for imports
    # DE 1/2: "D" = standard declaration lodged before the goods are presented (pre-lodged): documents are
    # prepared ahead of departure. "A" once the goods have arrived at the office.
    additional_declaration_type: str = "D"
    # DE 1/10 requested + previous procedure: None = "1040" (permanent export of goods in free
    # circulation) for exports, "4000" (release for free circulation and home use) for imports.
    procedure_code: str | None = None
    additional_procedure_code: str = "000"  # DE 1/11: no additional procedure
    transaction_nature_code: str = "11"  # DE 8/5: outright purchase/sale (the trade has an invoice)
    # DE 7/2: "0" = not in containers. The data set holds no container numbers, which "1" would require.
    container_code: str = "0"
    # DE 5/23 goods location: None = the UN/LOCODE of the place of loading, with qualifier "U"
    # (UN/LOCODE) and type "A" (designated location), as the UK scenarios write it.
    goods_location: str | None = None
    goods_location_type: str = "A"
    goods_location_qualifier: str = "U"
    # DE 5/12 office of exit (exports only): None = the UN/LOCODE of the place of loading, i.e. the port or
    # airport the goods leave from. A national profile maps it to the office code (the UK's "GB000040").
    exit_office: str | None = None
    supervising_office: str | None = None  # DE 5/27: only some procedures need it; left out by default
    declaration_office: str | None = None  # DE 5/26 office of presentation: left out by default
    # DE 2/1 DUCR (previous document Z / DCR): None = the WCO UCR form year digit + export country +
    # exporter identifier + "-" + trade reference, at most 35 characters.
    ducr: str | None = None
    # DE 6/14 commodity code type: "HS" (UN/EDIFACT 7143, Harmonized System) for the six-digit subheading.
    classification_type: str = "HS"
    origin_type_code: str = "1"  # DE 5/15: 1 = non-preferential country of origin
    # DE 6/11 shipping marks: the data set holds none; "N/M" is the customary "no marks".
    marks: str = "N/M"
    # DE 2/2 statement when the declarant is the exporter (self-representation), as the UK writes it.
    self_representation_statement: str | None = "00400"
    # DE 3/21 when the issuer declares for another exporter: 2 = direct representation.
    representation_code: str = "2"
    # Which party identifier goes into the WCO ID (at most 17 characters), in order of preference.
    party_id_schemes: tuple[str, ...] = ("eori", "tax", "vat", "business")


DEFAULTS = DeclarationOptions()

# Per export country overrides of DEFAULTS (field name -> value). The single window connector can make
# these configurable; only values known for certain are set here.
COUNTRY_OPTIONS: dict[str, dict[str, object]] = {
    "GB": {"responsible_agency": "HMRC"},
}


def options_for(country: str, **overrides) -> DeclarationOptions:
    """DEFAULTS, then the export country's overrides, then the caller's."""
    return dataclasses.replace(DEFAULTS, **{**COUNTRY_OPTIONS.get(country, {}), **overrides})


# -- text and numbers as the schema takes them ----------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: object, max_length: int) -> str:
    """One line, no characters XML cannot carry, at most `max_length` characters; "" when blank."""
    text = " ".join(_NOT_XML.sub(" ", str(value or "")).split())
    return text[:max_length].rstrip()


def _number(value: Decimal, *, places: int, digits: int, what: str) -> str:
    """A decimal in plain notation within the schema's totalDigits / fractionDigits."""
    try:
        value = Decimal(value)
        if value.as_tuple().exponent < -places:  # more decimals than the schema takes: round
            value = value.quantize(Decimal(1).scaleb(-places))
    except (InvalidOperation, TypeError):
        raise WcoRenderError(f"{what} {value} is not a number the declaration can carry")
    text = format(value, "f")
    integer, _, fraction = text.lstrip("-").partition(".")
    if len(integer.lstrip("0")) + len(fraction) > digits:
        raise WcoRenderError(f"{what} {text} has more than {digits} digits")
    return text


def _amount(value: Decimal, what: str) -> str:
    return _number(value, places=3, digits=16, what=what)


def _measure(value: Decimal, what: str) -> str:
    return _number(value, places=6, digits=16, what=what)


def _count(value: int, digits: int, what: str) -> str:
    if not 0 <= int(value) < 10**digits:
        raise WcoRenderError(f"{what} {value} does not fit in {digits} digits")
    return str(int(value))


# -- building ---------------------------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None, ns: str = DEC_NS, **attrib: str):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        element.text = text
    return element


def _leaf(parent: etree._Element, tag: str, text: str, **attrib: str) -> None:
    """A simple element, only when it has a value (the schema refuses blank strings)."""
    if text:
        _sub(parent, tag, text, **attrib)


def _party_id(party: PartyView, options: DeclarationOptions) -> str:
    for scheme in options.party_id_schemes:
        value = _text(party.identifier(scheme), 40).replace(" ", "")
        if value and len(value) <= 17:
            return value
    return ""


def _party(
    parent: etree._Element,
    tag: str,
    party: PartyView,
    options: DeclarationOptions,
    *,
    communication: bool = False,
    function_code: str = "",
) -> None:
    """Name, ID, (FunctionCode,) Address (and e-mail where the type has Communication), in schema order."""
    element = _sub(parent, tag)
    _leaf(element, "Name", _text(party.name, 70))
    _leaf(element, "ID", _party_id(party, options))
    _leaf(element, "FunctionCode", function_code)
    address = [
        ("CityName", _text(party.city, 35)),
        ("CountryCode", _text(party.country, 2).upper()),
        ("Line", _text(party.street, 70)),
        ("PostcodeID", _text(party.postcode, 9)),
    ]
    if any(value for _, value in address):
        address_element = _sub(element, "Address")
        for name, value in address:
            _leaf(address_element, name, value)
    email = _text(party.email, 256)
    if communication and email and len(email) <= 50:
        comm = _sub(element, "Communication")
        _sub(comm, "ID", email)
        _sub(comm, "TypeCode", "EM")  # UN/EDIFACT 3155: electronic mail
    if not len(element):
        parent.remove(element)


def _same_party(a: PartyView, b: PartyView, options: DeclarationOptions) -> bool:
    a_id, b_id = _party_id(a, options), _party_id(b, options)
    if a_id and b_id:
        return a_id == b_id
    return _text(a.name, 200).casefold() == _text(b.name, 200).casefold() and a.country == b.country


def default_lrn(reference: str, version: int = 1) -> str:
    """The trade reference as LRN, "-V<n>" after it for the n-th declaration of the trade (a window refuses
    an LRN used again, a rejected declaration's too); a longer one is cut and suffixed with a hash so it
    stays unique."""
    reference = _text(reference, 200)
    if version > 1:
        reference = f"{reference}-V{version}"
    if len(reference) <= 35:
        return reference
    return f"{reference[:26]}-{hashlib.sha256(reference.encode()).hexdigest()[:8].upper()}"


def default_ducr(data: DocumentData, options: DeclarationOptions) -> str:
    when = data.planned_departure or data.invoice_date or data.created_at.date()
    exporter = _party_id(data.seller, options)
    ducr = f"{when.year % 10}{data.export_country}{exporter}-{_text(data.reference, 35)}"
    return ducr[:35].rstrip()


def _procedure(data: DocumentData, options: DeclarationOptions) -> str:
    if options.procedure_code:
        return options.procedure_code
    return "4000" if data.direction == "import" else "1040"


def _goods_item(
    shipment: etree._Element,
    sequence: int,
    item: ItemView,
    data: DocumentData,
    options: DeclarationOptions,
    self_represented: bool,
) -> None:
    currency = _text(data.currency, 3).upper()
    gagi = _sub(shipment, "GovernmentAgencyGoodsItem")
    _sub(gagi, "SequenceNumeric", str(sequence))  # DE 1/6
    money = {"currencyID": currency} if currency else {}
    _sub(gagi, "StatisticalValueAmount", _amount(item.line_amount, "statistical value"), **money)  # DE 8/6
    _leaf(gagi, "TransactionNatureCode", options.transaction_nature_code)  # DE 8/5
    if self_represented and options.self_representation_statement and data.direction != "import":
        info = _sub(gagi, "AdditionalInformation")  # DE 2/2
        _sub(info, "StatementCode", options.self_representation_statement)
        _sub(info, "StatementDescription", "EXPORTER")

    commodity = _sub(gagi, "Commodity")
    _leaf(commodity, "Description", _text(item.description, 512))  # DE 6/8
    hs = "".join(ch for ch in str(item.hs_code or "") if ch.isdigit())
    if hs:
        classification = _sub(commodity, "Classification")  # DE 6/14
        _sub(classification, "ID", hs[:18])
        _sub(classification, "IdentificationTypeCode", options.classification_type)
    measure = _sub(commodity, "GoodsMeasure")
    _sub(measure, "GrossMassMeasure", _measure(item.gross_mass_kg, "gross mass"), unitCode="KGM")  # DE 6/5
    _sub(measure, "NetNetWeightMeasure", _measure(item.net_mass_kg, "net mass"), unitCode="KGM")  # DE 6/1
    if item.quantity:  # DE 6/2, in the goods line's Rec 20 unit (the UK leaves the tariff's unit implied)
        unit = _text(item.unit, 5)
        _sub(
            measure,
            "TariffQuantity",
            _measure(item.quantity, "quantity"),
            **({"unitCode": unit} if unit else {}),
        )
    line = _sub(commodity, "InvoiceLine")
    _sub(line, "ItemChargeAmount", _amount(item.line_amount, "item amount"), **money)  # DE 4/14

    procedure = _sub(gagi, "GovernmentProcedure")  # DE 1/10: requested (2 digits) + previous (2 digits)
    code = _procedure(data, options)
    _sub(procedure, "CurrentCode", code[:2])
    _leaf(procedure, "PreviousCode", code[2:])
    if options.additional_procedure_code:
        _sub(_sub(gagi, "GovernmentProcedure"), "CurrentCode", options.additional_procedure_code)  # DE 1/11
    origin_country = _text(item.origin_country, 4).upper()
    if origin_country:
        origin = _sub(gagi, "Origin")  # DE 5/15
        _sub(origin, "CountryCode", origin_country)
        _leaf(origin, "TypeCode", options.origin_type_code)
    packaging = _sub(gagi, "Packaging")
    _sub(packaging, "SequenceNumeric", "1")
    _leaf(packaging, "MarksNumbersID", _text(options.marks, 512))  # DE 6/11
    _sub(packaging, "QuantityQuantity", _count(item.packages_count or 0, 8, "number of packages"))  # DE 6/10
    _leaf(packaging, "TypeCode", _text(item.package_type, 2).upper())  # DE 6/9: Rec 21


def build_declaration(data: DocumentData, options: DeclarationOptions | None = None) -> etree._Element:
    """The md:MetaData element holding the Declaration, elements in the schema's order."""
    if options is None:
        options = options_for(data.export_country)
    if len(data.items) > MAX_GOODS_ITEMS:
        raise WcoRenderError(f"a declaration holds at most {MAX_GOODS_ITEMS} goods items")
    is_import = data.direction == "import"
    currency = _text(data.currency, 3).upper()
    issuer, exporter = data.issuer, data.seller
    consignee = data.consignee_or_buyer
    self_represented = _same_party(issuer, exporter, options)

    root = etree.Element(f"{{{MD_NS}}}MetaData", nsmap=NSMAP)
    _sub(root, "WCODataModelVersionCode", "3.6", ns=MD_NS)
    _sub(root, "WCOTypeName", "DEC", ns=MD_NS)
    responsible = _text(data.destination_country if is_import else data.export_country, 2).upper()
    if responsible:
        _sub(root, "ResponsibleCountryCode", responsible, ns=MD_NS)
    _sub(root, "ResponsibleAgencyName", _text(options.responsible_agency, 70), ns=MD_NS)
    _sub(root, "AgencyAssignedCustomizationVersionCode", _text(options.customization_version, 35), ns=MD_NS)

    declaration = _sub(root, "Declaration")
    _sub(declaration, "FunctionCode", options.function_code)
    lrn = options.lrn or data.declaration_reference or default_lrn(data.reference)
    _leaf(declaration, "FunctionalReferenceID", _text(lrn, 35))
    kind = options.declaration_type or ("IM" if is_import else "EX")
    _sub(declaration, "TypeCode", f"{kind}{options.additional_declaration_type}"[:3])  # DE 1/1 + 1/2
    _sub(declaration, "GoodsItemQuantity", _count(len(data.items), 5, "goods items"))  # DE 1/9
    _leaf(declaration, "DeclarationOfficeID", _text(options.declaration_office, 17))
    if currency:
        _sub(declaration, "InvoiceAmount", _amount(data.total_amount, "invoice amount"), currencyID=currency)
    _sub(declaration, "TotalPackageQuantity", _count(data.total_packages, 8, "total packages"))  # DE 6/18
    if not self_represented:  # DE 3/19-3/21: the issuer declares as the exporter's representative
        _party(declaration, "Agent", issuer, options, function_code=options.representation_code)
    mode = MODE_CODES.get(_text(data.transport_mode, 1), "")
    if mode:
        _sub(_sub(declaration, "BorderTransportMeans"), "ModeCode", mode)  # DE 7/4
    _party(declaration, "Declarant", issuer, options, communication=True)  # DE 3/17, 3/18
    loading = _text(data.place_of_loading.code, 17).upper()
    exit_office = _text(options.exit_office or loading, 17)
    if exit_office and not is_import:
        _sub(_sub(declaration, "ExitOffice"), "ID", exit_office)  # DE 5/12
    _party(declaration, "Exporter", exporter, options, communication=True)  # DE 3/1, 3/2

    shipment = _sub(declaration, "GoodsShipment")
    if data.consignee is not None:
        _party(shipment, "Buyer", data.buyer, options)  # DE 3/26, when the consignee is someone else
    _party(shipment, "Consignee", consignee, options)  # DE 3/9, 3/10

    consignment = _sub(shipment, "Consignment")
    _sub(consignment, "ContainerCode", options.container_code)  # DE 7/2
    location = _text(options.goods_location or loading, 256)
    if location:
        goods_location = _sub(consignment, "GoodsLocation")  # DE 5/23
        _sub(goods_location, "Name", location)
        _leaf(goods_location, "TypeCode", options.goods_location_type)
        address = _sub(goods_location, "Address")
        _leaf(address, "TypeCode", options.goods_location_qualifier)
        _leaf(address, "CountryCode", _text(data.place_of_loading.country, 2).upper())
    if loading:
        loading_location = _sub(consignment, "LoadingLocation")  # DE 5/21
        _leaf(loading_location, "Name", _text(data.place_of_loading.name, 256))
        _sub(loading_location, "ID", loading)

    destination = _text(data.destination_country, 2).upper()
    if destination:
        _sub(_sub(shipment, "Destination"), "CountryCode", destination)  # DE 5/8
    export_country = _text(data.export_country, 2).upper()
    if export_country:
        _sub(_sub(shipment, "ExportCountry"), "ID", export_country)  # DE 5/14
    for sequence, item in enumerate(data.items, start=1):
        _goods_item(shipment, sequence, item, data, options, self_represented)
    if is_import:
        _party(shipment, "Importer", data.buyer, options)  # DE 3/15, 3/16
    invoice_number = _text(data.invoice_number, 70)
    if invoice_number or data.invoice_date:
        invoice = _sub(shipment, "Invoice")
        _leaf(invoice, "ID", invoice_number)
        if data.invoice_date:
            issued = _sub(invoice, "IssueDateTime")
            _sub(issued, "DateTimeString", data.invoice_date.strftime("%Y%m%d"), ns=DS_NS, formatCode="102")
    ducr = _text(options.ducr or default_ducr(data, options), 35)
    if ducr:
        previous = _sub(shipment, "PreviousDocument")  # DE 2/1: the DUCR
        _sub(previous, "CategoryCode", "Z")
        _sub(previous, "ID", ducr)
        _sub(previous, "TypeCode", "DCR")
    incoterm = _text(data.incoterm, 3).upper()
    if len(incoterm) == 3 and incoterm.isalpha():
        terms = _sub(shipment, "TradeTerms")  # DE 4/1
        _sub(terms, "ConditionCode", incoterm)
        _leaf(terms, "LocationID", _text(data.incoterm_place.code, 17).upper())
        _leaf(terms, "LocationName", _text(data.incoterm_place.name, 256))
    reference = _text(data.reference, 35)
    if reference:
        _sub(_sub(shipment, "UCR"), "TraderAssignedReferenceID", reference)  # DE 2/4
    supervising = _text(options.supervising_office, 17)
    if supervising:
        _sub(_sub(declaration, "SupervisingOffice"), "ID", supervising)  # DE 5/27
    return root


def render_declaration(data: DocumentData, options: DeclarationOptions | None = None) -> bytes:
    return etree.tostring(build_declaration(data, options), xml_declaration=True, encoding="UTF-8")


class WcoDeclarationGenerator:
    kind = "wco_declaration"
    format = "xml"
    media_type = "application/xml"
    is_declaration = True
    reads: tuple[str, ...] = (
        "reference",
        "declaration_reference",
        "direction",
        *(f"issuer.{f}" for f in ("name", "street", "city", "postcode", "country", "email", "identifiers")),
        *(f"seller.{f}" for f in ("name", "street", "city", "postcode", "country", "email", "identifiers")),
        *(f"buyer.{f}" for f in ("name", "street", "city", "postcode", "country", "identifiers")),
        *(f"consignee.{f}" for f in ("name", "street", "city", "postcode", "country", "identifiers")),
        "invoice_number",
        "invoice_date",
        "currency",
        "incoterm",
        "incoterm_place.code",
        "incoterm_place.name",
        "transport_mode",
        "place_of_loading.code",
        "place_of_loading.name",
        "place_of_loading.country",
        "place_of_discharge.country",
        "planned_departure",
        "created_at",
        "items[].description",
        "items[].hs_code",
        "items[].origin_country",
        "items[].quantity",
        "items[].unit",
        "items[].packages_count",
        "items[].package_type",
        "items[].net_mass_kg",
        "items[].gross_mass_kg",
        "items[].line_amount",
        "total_amount",
        "total_packages",
    )

    def render(self, data: DocumentData, *, language: str) -> bytes:
        # Codes and the texts as typed: a customs declaration does not depend on the reader's language.
        return render_declaration(data)


GENERATOR = register(WcoDeclarationGenerator())
