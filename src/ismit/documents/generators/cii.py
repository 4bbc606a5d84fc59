"""The commercial invoice as a UN/CEFACT Cross Industry Invoice (CII D16B) under the EN 16931 core invoice.

The message follows the EN 16931 CIUS (specification identifier ``urn:cen.eu:en16931:2017``): it is valid
against the official D16B schema (read from the operator's standards folder: see standards.py) and
meets the EN 16931 business rules.

VAT. The data set carries no VAT rate, and the platform's invoices are cross-border sales of goods, so the
VAT category follows from where the seller is registered and where the goods go:

- ``G`` (export outside the EU, 0 %) when the seller has an EU VAT number and the goods leave the EU;
- ``K`` (intra-Community supply, 0 %) when seller and buyer have VAT numbers of two different member
  states and the goods go from the seller's member state to another one;
- ``O`` (not subject to VAT) otherwise: a seller established outside the EU, as for a cashew exporter in
  Abidjan invoicing a buyer in Marseille (the buyer pays import VAT at customs clearance). EN 16931
  forbids VAT identifiers (scheme ``VA``) on such an invoice (BR-O-02), so VAT numbers are then given as
  tax registration numbers (scheme ``FC``). A sale taxed inside one member state (category ``S``)
  would need a VAT rate, which the trade does not carry: such sales also come out as ``O``.

Incoterms. EN 16931 has no delivery terms element (``ApplicableTradeDeliveryTerms`` is outside the
profile), so the Incoterms rule and named place travel as an invoice note with subject code ``AAR``
(terms of delivery), which every EN 16931 receiver reads.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

import pycountry
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from lxml import etree

from ismit.documents.data import DocumentData, ItemView, PartyView
from ismit.documents.generators import register
from ismit.trades.models import PaymentTerms

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

EN16931 = "urn:cen.eu:en16931:2017"  # BT-24 specification identifier
COMMERCIAL_INVOICE = "380"  # UNTDID 1001
HS_VERSION = "2022"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# EU member states (ISO 3166-1) and the prefixes of their VAT numbers (Greece uses EL; XI is Northern
# Ireland, which stays in the EU VAT area for goods).
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip
EU_VAT_PREFIXES = (EU_MEMBER_STATES - {"GR"}) | {"EL", "XI"}

_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class VatTreatment:
    category: str  # UNCL 5305
    rate: Decimal | None  # None: the category carries no rate (O)
    exemption_code: str  # CEF VATEX
    exemption_reason: str


def seller_of(data: DocumentData) -> PartyView:
    """The seller, with the issuing organisation's registered identifiers when the seller is that
    organisation (an export entered by the exporter itself) and the trade does not give them."""
    seller, issuer = data.seller, data.issuer
    if (
        data.direction == "export"
        and issuer.identifiers
        and (seller.name, seller.country) == (issuer.name, issuer.country)
    ):
        return replace(seller, identifiers={**issuer.identifiers, **(seller.identifiers or {})})
    return seller


def _vat_number(party: PartyView) -> str:
    """The party's VAT number with its country prefix, as EN 16931 writes it (BR-CO-09); "" if none."""
    raw = "".join(party.identifier("vat").split()).upper()
    if not raw:
        return ""
    if pycountry.countries.get(alpha_2=raw[:2]) or raw[:2] in EU_VAT_PREFIXES:
        return raw
    return ("EL" if party.country == "GR" else party.country) + raw


def _member_state(vat_prefix: str) -> str:
    return {"EL": "GR", "XI": "GB"}.get(vat_prefix, vat_prefix)


def vat_category(data: DocumentData) -> str:
    """The EN 16931 VAT category of every line of this invoice: "G", "K" or "O" (see the module doc)."""
    seller_vat = _vat_number(seller_of(data))[:2]
    if seller_vat not in EU_VAT_PREFIXES:
        return "O"
    destination = data.destination_country
    if destination not in EU_MEMBER_STATES:
        return "G"
    buyer_vat = _vat_number(data.buyer)[:2]
    if buyer_vat in EU_VAT_PREFIXES and buyer_vat != seller_vat and destination != _member_state(seller_vat):
        return "K"
    return "O"


def _vat_treatment(category: str) -> VatTreatment:
    if category == "G":
        return VatTreatment("G", ZERO, "VATEX-EU-G", gettext("Export outside the EU"))
    if category == "K":
        return VatTreatment("K", ZERO, "VATEX-EU-IC", gettext("Intra-Community supply"))
    return VatTreatment("O", None, "VATEX-EU-O", gettext("Not subject to VAT"))


# -- formatting ---------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value).strip()


def _number(value: Decimal) -> str:
    """A decimal as written, never in exponent notation."""
    return format(value, "f")


def _amount(value: Decimal) -> str:
    """A monetary amount to the cent, rounded half up as EN 16931 requires."""
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs or None)
    if text is not None:
        element.text = _text(text)
    return element


def _date_el(parent: etree._Element, tag: str, value: dt.date) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", _date(value), format="102")


# -- parts of the message -----------------------------------------------------------------------------


def _address(parent: etree._Element, party: PartyView) -> None:
    address = _el(parent, "ram:PostalTradeAddress")
    if party.postcode.strip():
        _el(address, "ram:PostcodeCode", party.postcode)
    if party.street.strip():
        _el(address, "ram:LineOne", party.street)
    if party.city.strip():
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)


def _party(
    parent: etree._Element, tag: str, party: PartyView, *, vat_scheme: str, needs_identifier: bool = False
) -> None:
    """A seller or buyer: identifiers, name, legal registration, address, e-mail and tax registrations.

    `vat_scheme` is "VA" when the VAT number is written as a VAT identifier, "FC" when as a tax
    registration number (see the module doc). `needs_identifier`: the seller must be identifiable by an
    identifier, a legal registration or a VAT identifier (BR-CO-26).
    """
    element = _el(parent, tag)
    eori = party.identifier("eori").strip()
    business = party.identifier("business").strip()
    tax = party.identifier("tax").strip()
    vat = _vat_number(party)
    party_id = eori
    if needs_identifier and not (eori or business or (vat and vat_scheme == "VA")):
        # Nothing that EN 16931 counts as identifying the seller: its tax or VAT number if it has one,
        # else its name, which is how the buyer knows it.
        party_id = tax or vat or party.name
    if party_id:
        _el(element, "ram:ID", party_id)
    _el(element, "ram:Name", party.name)
    if business:
        _el(_el(element, "ram:SpecifiedLegalOrganization"), "ram:ID", business)
    _address(element, party)
    if party.email.strip():
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    registrations: list[tuple[str, str]] = []
    if vat:
        registrations.append((vat, vat_scheme))
    if tax and (tax, "FC") not in registrations:
        registrations.append((tax, "FC"))
    for value, scheme in registrations:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", value, schemeID=scheme)


def _line(parent: etree._Element, item: ItemView, vat: VatTreatment) -> None:
    line = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(line, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(item.line_no))

    product = _el(line, "ram:SpecifiedTradeProduct")
    _el(product, "ram:Name", item.description)
    classification = _el(product, "ram:DesignatedProductClassification")
    _el(classification, "ram:ClassCode", item.hs_code, listID="HS", listVersionID=HS_VERSION)
    _el(_el(product, "ram:OriginTradeCountry"), "ram:ID", item.origin_country)

    agreement = _el(line, "ram:SpecifiedLineTradeAgreement")
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _number(item.unit_price))

    delivery = _el(line, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", _number(item.quantity), unitCode=item.unit)

    settlement = _el(line, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", vat.category)
    if vat.rate is not None:
        _el(tax, "ram:RateApplicablePercent", _number(vat.rate))
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(item.line_amount))


def _delivery_terms(data: DocumentData) -> str:
    return gettext("%(rule)s (%(rule_name)s) %(place)s, UN/LOCODE %(code)s, Incoterms® 2020") % {
        "rule": data.incoterm,
        "rule_name": data.incoterm_name,
        "place": data.incoterm_place.name,
        "code": data.incoterm_place.code,
    }


def _payment_terms(data: DocumentData) -> str:
    try:
        terms = str(PaymentTerms(data.payment_terms).label)
    except ValueError:
        terms = data.payment_terms
    if data.payment_days == 0:
        return gettext("%(terms)s, payable on the invoice date") % {"terms": terms}
    return ngettext(
        "%(terms)s, payable %(days)d day after the invoice date",
        "%(terms)s, payable %(days)d days after the invoice date",
        data.payment_days,
    ) % {"terms": terms, "days": data.payment_days}


@dataclass(frozen=True)
class Totals:
    """The invoice's monetary summation (BG-22), to the cent."""

    line_total: Decimal
    tax_basis: Decimal
    tax_total: Decimal
    grand_total: Decimal
    due_payable: Decimal


def totals(data: DocumentData) -> Totals:
    """EN 16931 totals: line sum = basis (no document-level allowances or charges); no VAT is due."""

    def cents(value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

    line_total = cents(sum((cents(i.line_amount) for i in data.items), start=ZERO))
    tax_total = ZERO  # every category used (G, K, O) carries no VAT
    grand_total = line_total + tax_total
    return Totals(line_total, line_total, tax_total, grand_total, grand_total)


def invoice_number(data: DocumentData) -> str:
    """The invoice number typed by the seller; the trade's reference when none was given."""
    return data.invoice_number.strip() or data.reference


def issue_date(data: DocumentData) -> dt.date:
    return data.invoice_date or timezone.localdate()


def build(data: DocumentData) -> etree._Element:
    """The CrossIndustryInvoice element. Translatable texts follow the active language."""
    vat = _vat_treatment(vat_category(data))
    issued = issue_date(data)
    sums = totals(data)

    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice_number(data))
    _el(document, "ram:TypeCode", COMMERCIAL_INVOICE)
    _date_el(document, "ram:IssueDateTime", issued)
    note = _el(document, "ram:IncludedNote")
    _el(note, "ram:Content", _delivery_terms(data))
    _el(note, "ram:SubjectCode", "AAR")

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for item in data.items:
        _line(transaction, item, vat)

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    vat_scheme = "FC" if vat.category == "O" else "VA"
    _party(agreement, "ram:SellerTradeParty", seller_of(data), vat_scheme=vat_scheme, needs_identifier=True)
    _party(agreement, "ram:BuyerTradeParty", data.buyer, vat_scheme=vat_scheme)
    _el(_el(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID", data.reference)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    if data.consignee is not None:
        ship_to = _el(delivery, "ram:ShipToTradeParty")
        _el(ship_to, "ram:Name", data.consignee.name)
        _address(ship_to, data.consignee)
    elif vat.category == "K":
        # An intra-Community supply names the member state the goods go to (BR-IC-12).
        ship_to = _el(delivery, "ram:ShipToTradeParty")
        _el(_el(ship_to, "ram:PostalTradeAddress"), "ram:CountryID", data.destination_country)
    if vat.category == "K":
        # ... and the date of the supply (BR-IC-11): the departure of the goods, else the invoice date.
        _date_el(
            _el(delivery, "ram:ActualDeliverySupplyChainEvent"),
            "ram:OccurrenceDateTime",
            data.planned_departure or issued,
        )

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", data.currency)
    breakdown = _el(settlement, "ram:ApplicableTradeTax")
    _el(breakdown, "ram:CalculatedAmount", _amount(sums.tax_total))
    _el(breakdown, "ram:TypeCode", "VAT")
    _el(breakdown, "ram:ExemptionReason", vat.exemption_reason)
    _el(breakdown, "ram:BasisAmount", _amount(sums.tax_basis))
    _el(breakdown, "ram:CategoryCode", vat.category)
    _el(breakdown, "ram:ExemptionReasonCode", vat.exemption_code)
    if vat.rate is not None:
        _el(breakdown, "ram:RateApplicablePercent", _number(vat.rate))
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", _payment_terms(data))
    _date_el(terms, "ram:DueDateDateTime", issued + dt.timedelta(days=data.payment_days))
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(sums.line_total))
    _el(summation, "ram:TaxBasisTotalAmount", _amount(sums.tax_basis))
    _el(summation, "ram:TaxTotalAmount", _amount(sums.tax_total), currencyID=data.currency)
    _el(summation, "ram:GrandTotalAmount", _amount(sums.grand_total))
    _el(summation, "ram:DuePayableAmount", _amount(sums.due_payable))
    return root


_PARTY_FIELDS = ("name", "street", "city", "postcode", "country", "email", "identifiers")


class CiiInvoiceGenerator:
    kind = "cii_invoice"
    format = "xml"
    media_type = "application/xml"
    is_declaration = False
    reads: tuple[str, ...] = (
        "reference",
        "invoice_number",
        "invoice_date",
        "currency",
        *(f"seller.{f}" for f in _PARTY_FIELDS),
        "issuer.identifiers",  # where the seller is the issuing organisation (see seller_of)
        *(f"buyer.{f}" for f in _PARTY_FIELDS),
        *(f"consignee.{f}" for f in ("name", "street", "city", "postcode", "country")),
        "incoterm",
        "incoterm_name",
        "incoterm_place.code",
        "incoterm_place.name",
        "place_of_discharge.country",  # the VAT category, and the member state of an intra-EU supply
        "planned_departure",  # the date of an intra-EU supply
        "payment_terms",
        "payment_days",
        "items[].line_no",
        "items[].description",
        "items[].hs_code",
        "items[].origin_country",
        "items[].quantity",
        "items[].unit",
        "items[].unit_price",
        "items[].line_amount",
    )

    def render(self, data: DocumentData, *, language: str) -> bytes:
        with translation.override(language):
            root = build(data)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


cii_invoice = register(CiiInvoiceGenerator())
