"""The CII D16B invoice: valid against the official XSD and the EN 16931 business rules, data carried over."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ismit.documents.data import DocumentData, ItemView, PartyView, PlaceView, document_data
from ismit.documents.generators import get_generator
from ismit.documents.generators.cii import RAM, RSM, UDT, cii_invoice, vat_category
from ismit.documents.tests.en16931 import en16931_failures, fatal_failures, official_xsd_errors
from ismit.documents.tests.strategies import document_datas
from ismit.documents.validation import validate_xml

NS = {"rsm": RSM, "ram": RAM, "udt": UDT}
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
LINES = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"


def render(data: DocumentData, language: str = "en") -> bytes:
    return cii_invoice.render(data, language=language)


def tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text for e in root.xpath(path, namespaces=NS)]


def one(root: etree._Element, path: str) -> str:
    values = texts(root, path)
    assert len(values) == 1, (path, values)
    return values[0]


def assert_valid(xml: bytes) -> None:
    assert official_xsd_errors(xml) == []
    assert validate_xml(xml, "cii-d16b") == []
    fatal = fatal_failures(xml)
    assert fatal == [], "\n".join(f"{a.id}: {a.text}" for a in fatal)


@pytest.fixture
def cashew_data(cashew_trade) -> DocumentData:
    return document_data(cashew_trade)


def _eu_seller(data: DocumentData) -> DocumentData:
    """The cashew data turned into a sale by a French trader with a French VAT number."""
    seller = dataclasses.replace(
        data.seller, name="Négoce Méditerranée SARL", country="FR", identifiers={"vat": "FR12345678901"}
    )
    return dataclasses.replace(data, seller=seller, issuer=seller)


def _to(data: DocumentData, code: str, name: str) -> DocumentData:
    place = PlaceView(code=code, name=name, country=code[:2])
    return dataclasses.replace(data, place_of_discharge=place, incoterm_place=place)


# -- the cashew trade ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_cashew_invoice_is_valid_and_meets_en16931(cashew_data, language):
    xml = render(cashew_data, language)
    assert_valid(xml)
    # Not even a warning: everything written belongs to the EN 16931 profile.
    assert en16931_failures(xml) == []
    root = tree(xml)
    assert root.tag == f"{{{RSM}}}CrossIndustryInvoice"
    assert one(root, "rsm:ExchangedDocumentContext/*/ram:ID") == "urn:cen.eu:en16931:2017"
    assert one(root, "rsm:ExchangedDocument/ram:TypeCode") == "380"


@pytest.mark.django_db
def test_cashew_invoice_carries_the_trade(cashew_data):
    data = cashew_data
    root = tree(render(data))

    assert one(root, "rsm:ExchangedDocument/ram:ID") == data.invoice_number == "INV-2026-041"
    assert one(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261102"
    assert one(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == "EUR"
    assert one(root, f"{AGREEMENT}/ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == data.reference

    # totals: the XML's equal the data set's, to the cent
    total = f"{data.total_amount:.2f}"
    assert total == "100250.00"
    for name in ("LineTotalAmount", "TaxBasisTotalAmount", "GrandTotalAmount", "DuePayableAmount"):
        assert one(root, f"{SUMMATION}/ram:{name}") == total, name
    assert one(root, f"{SUMMATION}/ram:TaxTotalAmount") == "0.00"
    assert root.xpath(f"{SUMMATION}/ram:TaxTotalAmount/@currencyID", namespaces=NS) == ["EUR"]
    assert texts(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount") == [total]

    # lines: number, name, HS code, origin, quantity and Rec 20 unit, price, amount
    lines = root.xpath(LINES, namespaces=NS)
    assert len(lines) == len(data.items) == 2
    for line, item in zip(lines, data.items, strict=True):
        assert one(line, "ram:AssociatedDocumentLineDocument/ram:LineID") == str(item.line_no)
        assert one(line, "ram:SpecifiedTradeProduct/ram:Name") == item.description
        code = line.xpath(
            "ram:SpecifiedTradeProduct/ram:DesignatedProductClassification/ram:ClassCode", namespaces=NS
        )
        assert [(c.text, c.get("listID")) for c in code] == [(item.hs_code, "HS")]
        assert (
            one(line, "ram:SpecifiedTradeProduct/ram:OriginTradeCountry/ram:ID")
            == item.origin_country
            == "CI"
        )
        quantity = line.xpath("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", namespaces=NS)
        assert [(Decimal(q.text), q.get("unitCode")) for q in quantity] == [(item.quantity, "KGM")]
        price = one(line, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount")
        assert Decimal(price) == item.unit_price
        amount = one(line, "ram:SpecifiedLineTradeSettlement/*/ram:LineTotalAmount")
        assert amount == f"{item.line_amount:.2f}"
    assert [i.hs_code for i in data.items] == ["080132", "080131"]

    # parties: names and country codes; the buyer's French VAT number, as a tax registration (category O)
    assert one(root, f"{AGREEMENT}/ram:SellerTradeParty/ram:Name") == "Anacarde Abidjan SARL"
    assert one(root, f"{AGREEMENT}/ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID") == "CI"
    assert one(root, f"{AGREEMENT}/ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert one(root, f"{AGREEMENT}/ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CityName") == "Marseille"
    registration = root.xpath(
        f"{AGREEMENT}/ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS
    )
    assert [(r.text, r.get("schemeID")) for r in registration] == [("FR40303265045", "FC")]

    # VAT: a seller outside the EU, not registered for EU VAT: not subject to VAT
    assert vat_category(data) == "O"
    assert texts(root, "//ram:ApplicableTradeTax/ram:CategoryCode") == ["O", "O", "O"]
    assert one(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-O"

    # payment: letter of credit, due 60 days after the invoice date; Incoterms in a delivery-terms note
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"
    assert one(root, f"{terms}/ram:DueDateDateTime/udt:DateTimeString") == "20270101"
    assert "60 days" in one(root, f"{terms}/ram:Description")
    assert one(root, "rsm:ExchangedDocument/ram:IncludedNote/ram:SubjectCode") == "AAR"
    assert "CIF" in one(root, "rsm:ExchangedDocument/ram:IncludedNote/ram:Content")
    assert "FRMRS" in one(root, "rsm:ExchangedDocument/ram:IncludedNote/ram:Content")


@pytest.mark.django_db
def test_without_invoice_number_or_date_the_reference_and_today_are_used(cashew_data):
    data = dataclasses.replace(cashew_data, invoice_number="", invoice_date=None, payment_days=30)
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        xml = render(data)
    root = tree(xml)
    assert one(root, "rsm:ExchangedDocument/ram:ID") == data.reference
    assert one(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20260310"
    assert one(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*") == "20260409"
    assert_valid(xml)


@pytest.mark.django_db
def test_consignee_is_the_ship_to_party(cashew_data):
    consignee = PartyView(
        name="Entrepôt Fos & Cie",
        street="Port de Fos",
        city="Fos-sur-Mer",
        postcode="13270",
        country="FR",
        country_name="France",
    )
    xml = render(dataclasses.replace(cashew_data, consignee=consignee))
    assert_valid(xml)
    ship_to = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty"
    root = tree(xml)
    assert one(root, f"{ship_to}/ram:Name") == "Entrepôt Fos & Cie"
    assert one(root, f"{ship_to}/ram:PostalTradeAddress/ram:PostcodeCode") == "13270"
    assert one(root, f"{ship_to}/ram:PostalTradeAddress/ram:CountryID") == "FR"


@pytest.mark.django_db
def test_seller_registered_identifiers_come_from_the_issuing_organisation(cashew_data):
    issuer = dataclasses.replace(cashew_data.issuer, identifiers={"tax": "CI1234567A", "eori": "CI0012345"})
    root = tree(render(dataclasses.replace(cashew_data, issuer=issuer)))
    seller = f"{AGREEMENT}/ram:SellerTradeParty"
    assert one(root, f"{seller}/ram:ID") == "CI0012345"
    assert root.xpath(f"{seller}/ram:SpecifiedTaxRegistration/ram:ID/@schemeID", namespaces=NS) == ["FC"]
    assert one(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID") == "CI1234567A"


# -- VAT categories -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_eu_seller_exporting_outside_the_eu_is_g(cashew_data):
    data = _to(_eu_seller(cashew_data), "CIABJ", "Abidjan")
    assert vat_category(data) == "G"
    xml = render(data)
    assert_valid(xml)
    root = tree(xml)
    assert set(texts(root, "//ram:ApplicableTradeTax/ram:CategoryCode")) == {"G"}
    assert set(texts(root, "//ram:ApplicableTradeTax/ram:RateApplicablePercent")) == {"0.00"}
    vat_ids = root.xpath("//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()", namespaces=NS)
    assert vat_ids == ["FR12345678901", "FR40303265045"]  # the seller's, then the buyer's (BT-31, BT-48)


@pytest.mark.django_db
def test_eu_seller_to_a_buyer_registered_in_another_member_state_is_k(cashew_data):
    data = _eu_seller(cashew_data)
    data = dataclasses.replace(
        data, buyer=dataclasses.replace(data.buyer, country="NL", identifiers={"vat": "NL123456789B01"})
    )
    data = _to(data, "NLRTM", "Rotterdam")
    assert vat_category(data) == "K"
    xml = render(data)
    assert_valid(xml)
    root = tree(xml)
    delivery = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"
    assert one(root, f"{delivery}/ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == "NL"
    assert one(root, f"{delivery}/ram:ActualDeliverySupplyChainEvent/*/udt:DateTimeString") == "20261201"


@pytest.mark.django_db
def test_non_eu_seller_with_a_vat_number_is_o_and_the_number_is_a_tax_registration(cashew_data):
    seller = dataclasses.replace(cashew_data.seller, identifiers={"vat": "CI0101010X"})
    data = dataclasses.replace(cashew_data, seller=seller)
    assert vat_category(data) == "O"
    xml = render(data)
    assert_valid(xml)
    assert tree(xml).xpath("//ram:ID[@schemeID='VA']", namespaces=NS) == []


# -- the checkers themselves bite ---------------------------------------------------------------------


def _edit(xml: bytes, path: str, text: str | None = None, *, remove: bool = False) -> bytes:
    root = tree(xml)
    (element,) = root.xpath(path, namespaces=NS)
    if remove:
        element.getparent().remove(element)
    else:
        element.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.django_db
def test_en16931_rules_catch_broken_invoices(cashew_data):
    xml = render(cashew_data)
    wrong_total = _edit(xml, f"{SUMMATION}/ram:LineTotalAmount", "100250.01")
    assert "BR-CO-10" in {a.id for a in fatal_failures(wrong_total)}
    root = tree(xml)
    (buyer_tax,) = root.xpath(
        f"{AGREEMENT}/ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS
    )
    buyer_tax.set("schemeID", "VA")  # a buyer VAT identifier on a "not subject to VAT" invoice
    assert "BR-O-02" in {a.id for a in fatal_failures(etree.tostring(root))}
    no_seller_id = _edit(xml, f"{AGREEMENT}/ram:SellerTradeParty/ram:ID", remove=True)
    assert "BR-CO-26" in {a.id for a in fatal_failures(no_seller_id)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "text", "remove"),
    [
        ("rsm:ExchangedDocument/ram:ID", None, True),  # a required element missing
        ("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", None, True),
        (f"{SUMMATION}/ram:GrandTotalAmount", "a lot", False),  # not a decimal
        (f"{LINES}[1]/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", "many", False),
    ],
)
def test_product_and_official_xsd_validators_agree(cashew_data, path, text, remove):
    xml = render(cashew_data)
    assert official_xsd_errors(xml) == [] and validate_xml(xml, "cii-d16b") == []
    broken = _edit(xml, path, text, remove=remove)
    assert official_xsd_errors(broken) != []
    assert validate_xml(broken, "cii-d16b") != []


def test_product_validator_accepts_the_official_examples_and_rejects_junk():
    from ismit.documents.tests.en16931 import REFDATA

    examples = sorted((REFDATA / "examples").glob("*.xml"))
    assert len(examples) >= 10
    for example in examples:
        xml = example.read_bytes()
        assert validate_xml(xml, "cii-d16b") == official_xsd_errors(xml) == [], example.name
    assert validate_xml(b"<not-closed>", "cii-d16b")[0].startswith("not well-formed")
    with pytest.raises(LookupError):
        validate_xml(b"<a/>", "no-such-schema")


# -- registration and the fields it reads -------------------------------------------------------------


def test_registered_with_the_contract():
    generator = get_generator("cii_invoice", "xml")
    assert generator is cii_invoice
    assert (generator.kind, generator.format, generator.media_type) == (
        "cii_invoice",
        "xml",
        "application/xml",
    )
    assert generator.is_declaration is False


def _field_type(path: str):
    types = {
        "items[]": ItemView,
        "seller": PartyView,
        "buyer": PartyView,
        "consignee": PartyView,
        "issuer": PartyView,
        "incoterm_place": PlaceView,
        "place_of_discharge": PlaceView,
    }
    head, _, tail = path.rpartition(".")
    owner = types[head] if head else DocumentData
    return {f.name for f in dataclasses.fields(owner)}, tail


def _mutated(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, Decimal):
        return value + 1
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, dict):
        return {**value, "eori": "ZZ0000000"}
    if isinstance(value, str) and len(value) == 2 and value.isupper():
        return "US"  # a country: one outside the EU
    return f"{value}Z"


def _with(data: DocumentData, path: str) -> DocumentData | None:
    """`data` with the field at `path` changed (the first goods line for items[].*); None if it has none."""
    head, _, name = path.rpartition(".")
    if head and head != "items[]" and getattr(data, head) is None:
        return None
    if not head:
        return dataclasses.replace(data, **{name: _mutated(getattr(data, name))})
    if head == "items[]":
        first = data.items[0]
        changed = dataclasses.replace(first, **{name: _mutated(getattr(first, name))})
        return dataclasses.replace(data, items=(changed, *data.items[1:]))
    part = getattr(data, head)
    return dataclasses.replace(
        data, **{head: dataclasses.replace(part, **{name: _mutated(getattr(part, name))})}
    )


@pytest.mark.django_db
def test_reads_names_real_fields_each_of_which_changes_the_invoice(cashew_data):
    # Two data sets between them use every field: the cashew export (category O, seller without
    # identifiers) and an intra-EU sale with a consignee and e-mail addresses (category K).
    consignee = PartyView(
        name="Dock 7",
        street="Quai 1",
        city="Rotterdam",
        postcode="3011",
        country="NL",
        country_name="Netherlands",
    )
    intra_eu = _eu_seller(cashew_data)
    intra_eu = dataclasses.replace(
        intra_eu,
        seller=dataclasses.replace(intra_eu.seller, email="sales@negoce.example"),
        buyer=dataclasses.replace(
            intra_eu.buyer, country="NL", email="buy@nl.example", identifiers={"vat": "NL123456789B01"}
        ),
        consignee=consignee,
    )
    intra_eu = _to(intra_eu, "NLRTM", "Rotterdam")
    assert vat_category(intra_eu) == "K"
    data_sets = [cashew_data, intra_eu]
    outputs = [render(d) for d in data_sets]

    assert len(set(cii_invoice.reads)) == len(cii_invoice.reads)
    for path in cii_invoice.reads:
        names, name = _field_type(path)
        assert name in names, path
        variants = [(_with(d, path), out) for d, out in zip(data_sets, outputs, strict=True)]
        changed = [render(variant) != out for variant, out in variants if variant is not None]
        assert any(changed), f"{path} is declared as read but changing it changes nothing"


@pytest.mark.django_db
def test_same_data_same_bytes(cashew_data):
    assert render(cashew_data) == render(cashew_data)


# -- property: any valid transaction ------------------------------------------------------------------


def _sold_from_the_eu(data: DocumentData) -> DocumentData:
    """The same trade sold by a French VAT-registered trader: exports (G), intra-EU (K) or domestic (O)."""
    seller = dataclasses.replace(data.seller, country="FR", identifiers={"vat": "FR12345678901"})
    return dataclasses.replace(data, seller=seller, issuer=seller)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(document_datas(), document_datas().map(_sold_from_the_eu)))
def test_any_valid_transaction_yields_a_valid_en16931_invoice(data):
    xml = render(data)
    assert_valid(xml)
    root = tree(xml)
    total = f"{data.total_amount:.2f}"
    assert one(root, f"{SUMMATION}/ram:LineTotalAmount") == total
    assert one(root, f"{SUMMATION}/ram:DuePayableAmount") == total
    units = root.xpath(f"{LINES}/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode", namespaces=NS)
    assert units == [i.unit for i in data.items]
    assert texts(root, f"{LINES}//ram:ClassCode") == [i.hs_code for i in data.items]
    assert texts(root, f"{LINES}//ram:OriginTradeCountry/ram:ID") == [i.origin_country for i in data.items]
    assert (
        one(root, f"{AGREEMENT}/ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID")
        == data.buyer.country
    )
