"""The WCO DEC export declaration: valid against the schema the UK customs API publishes, and truthful."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ismit.documents.data import ITEM_FIELDS, DocumentData, ItemView, PartyView, PlaceView, document_data
from ismit.documents.generators import get_generator
from ismit.documents.generators.wco import (
    COUNTRY_OPTIONS,
    DEC_NS,
    DEFAULTS,
    MD_NS,
    DeclarationOptions,
    WcoRenderError,
    options_for,
    render_declaration,
)
from ismit.documents.tests.strategies import document_datas
from ismit.documents.tests.wco_published import EXAMPLES, export_scenarios, published_errors
from ismit.documents.wco_reader import read_declaration
from ismit.documents.wco_schema import validate_wco


def _generator():
    return get_generator("wco_declaration", "xml")


def _dec(xml: bytes) -> etree._Element:
    return etree.fromstring(xml).find(f"{{{DEC_NS}}}Declaration")


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find("/".join(f"{{{DEC_NS}}}{step}" for step in path.split("/")))
    return found.text if found is not None else None


# -- the generator as the registry shows it ---------------------------------------------------------------


def test_registered_as_a_declaration():
    generator = _generator()
    assert (generator.kind, generator.format) == ("wco_declaration", "xml")
    assert generator.media_type == "application/xml"
    assert generator.is_declaration is True


def test_reads_names_only_document_data_fields():
    party_fields = {f.name for f in dataclasses.fields(PartyView)}
    place_fields = {f.name for f in dataclasses.fields(PlaceView)}
    top = {f.name for f in dataclasses.fields(DocumentData)} | {
        name for name, value in vars(DocumentData).items() if isinstance(value, property)
    }
    for path in _generator().reads:
        if path.startswith("items[]."):
            assert path.removeprefix("items[].") in ITEM_FIELDS, path
        elif "." in path:
            head, tail = path.split(".", 1)
            assert head in top, path
            assert tail in (
                party_fields if head in {"issuer", "seller", "buyer", "consignee"} else place_fields
            )
        else:
            assert path in top, path


# -- the cashew trade ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cashew_declaration_is_valid_and_says_what_the_trade_says(cashew_trade):
    data = document_data(cashew_trade)
    xml = _generator().render(data, language="fr")

    assert published_errors(xml) == []
    assert validate_wco(xml) == []
    root = etree.fromstring(xml)
    assert root.tag == f"{{{MD_NS}}}MetaData"
    assert root.findtext(f"{{{MD_NS}}}WCODataModelVersionCode") == "3.6"
    assert root.findtext(f"{{{MD_NS}}}ResponsibleCountryCode") == "CI"

    d = read_declaration(xml)
    assert (d.function_code, d.type_code, d.lrn) == ("9", "EXD", cashew_trade.reference)
    assert d.declarant.name == "Anacarde Abidjan SARL" and d.declarant.country == "CI"
    assert d.exporter.name == "Anacarde Abidjan SARL" and d.exporter.city == "Abidjan"
    assert d.agent.name == ""  # the MSME declares for itself
    assert (d.consignee.name, d.consignee.country, d.consignee.id) == (
        "Provence Fruits Secs SAS",
        "FR",
        "FR40303265045",
    )
    assert (d.export_country, d.destination_country, d.transport_mode) == ("CI", "FR", "1")
    assert (d.incoterm, d.incoterm_location, d.incoterm_location_name) == ("CIF", "FRMRS", "Marseille")
    assert (d.loading_location, d.goods_location, d.exit_office) == ("CIABJ", "CIABJ", "CIABJ")
    assert (d.invoice_number, d.invoice_date) == ("INV-2026-041", dt.date(2026, 11, 2))
    assert (d.invoice_amount, d.invoice_currency) == (Decimal("100250.00"), "EUR")
    assert (d.goods_item_quantity, d.total_packages) == (2, 812)
    assert d.ducr == f"6CI-{cashew_trade.reference}"
    kernels, nuts = d.items
    assert (kernels.commodity_code, kernels.classification_type, nuts.commodity_code) == (
        "080132",
        "HS",
        "080131",
    )
    assert (kernels.gross_mass_kg, kernels.net_mass_kg) == (Decimal("15450.000"), Decimal("15000.000"))
    assert (kernels.statistical_value, kernels.statistical_currency) == (Decimal("93000.00"), "EUR")
    assert (nuts.statistical_value, nuts.item_amount) == (Decimal("7250.00"), Decimal("7250.00"))
    assert (kernels.tariff_quantity, kernels.tariff_unit) == (Decimal("15000.000"), "KGM")
    assert (kernels.packages_count, kernels.package_type, nuts.packages_count) == (750, "BG", 62)
    assert (kernels.origin_country, kernels.procedure_code, kernels.additional_procedure_codes) == (
        "CI",
        "1040",
        ("000",),
    )


@pytest.mark.django_db
def test_render_and_validate_ten_lines_quickly(cashew_trade):
    data = document_data(cashew_trade)
    item = data.items[0]
    data = dataclasses.replace(data, items=tuple(dataclasses.replace(item, line_no=n) for n in range(1, 11)))
    validate_wco(render_declaration(data))  # compile the schema once
    runs = 50
    started = time.perf_counter()
    for _ in range(runs):
        assert validate_wco(render_declaration(data)) == []
    per_declaration_ms = (time.perf_counter() - started) * 1000 / runs
    print(f"WCO declaration, 10 lines, render + validate: {per_declaration_ms:.2f} ms")
    assert per_declaration_ms < 100


# -- any valid transaction -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=document_datas(), direction=st.sampled_from(["export", "export", "import"]))
def test_any_valid_transaction_gives_a_valid_declaration(data, direction):
    data = dataclasses.replace(data, direction=direction)
    xml = render_declaration(data)

    assert published_errors(xml) == []
    assert validate_wco(xml) == []
    d = read_declaration(xml)
    assert d.type_code == ("IMD" if direction == "import" else "EXD")
    assert d.goods_item_quantity == len(d.items) == len(data.items)
    assert [i.hs_code for i in d.items] == [i.hs_code for i in data.items]
    assert [i.gross_mass_kg for i in d.items] == [i.gross_mass_kg for i in data.items]
    assert [i.net_mass_kg for i in d.items] == [i.net_mass_kg for i in data.items]
    assert [i.statistical_value for i in d.items] == [i.line_amount for i in data.items]
    assert [i.tariff_quantity for i in d.items] == [i.quantity for i in data.items]
    assert {i.statistical_currency for i in d.items} == {data.currency}
    assert (d.invoice_amount, d.invoice_currency) == (data.total_amount, data.currency)
    assert d.total_packages == data.total_packages
    assert (d.incoterm, d.incoterm_location) == (data.incoterm, data.incoterm_place.code)
    assert d.transport_mode == data.transport_mode
    assert (d.consignee.country, d.exporter.country) == (data.consignee_or_buyer.country, data.seller.country)
    assert d.exporter.name == " ".join(data.seller.name.split())[:70].rstrip()


# -- reads is truthful ------------------------------------------------------------------------------------


def _full_data() -> DocumentData:
    """A data set with every optional part filled, so that every field the generator reads shows."""
    seller = PartyView(
        name="Anacarde Abidjan SARL",
        street="Zone 4",
        city="Abidjan",
        postcode="01 BP 1",
        country="CI",
        country_name="Côte d'Ivoire",
        email="export@anacarde.example",
        identifiers={"tax": "CI1234567A"},
    )
    buyer = PartyView(
        name="Provence Fruits Secs SAS",
        street="12 quai de la Joliette",
        city="Marseille",
        postcode="13002",
        country="FR",
        country_name="France",
        identifiers={"vat": "FR40303265045"},
    )
    consignee = PartyView(
        name="Entrepôt du Port",
        street="Môle Léon Gourret",
        city="Marseille",
        postcode="13016",
        country="FR",
        country_name="France",
        identifiers={"eori": "FR12345678901234"},
    )
    issuer = dataclasses.replace(seller, email="awa@anacarde.example")
    items = (
        ItemView(
            line_no=1,
            description="Cashew kernels W320, shelled",
            hs_code="080132",
            hs_description="Cashew nuts, shelled",
            origin_country="CI",
            quantity=Decimal("15000.000"),
            unit="KGM",
            unit_name="kilogram",
            packages_count=750,
            package_type="BG",
            package_name="Bag",
            net_mass_kg=Decimal("15000.000"),
            gross_mass_kg=Decimal("15450.000"),
            unit_price=Decimal("6.2000"),
            line_amount=Decimal("93000.00"),
        ),
        ItemView(
            line_no=2,
            description="Cashew nuts in shell",
            hs_code="080131",
            hs_description="Cashew nuts, in shell",
            origin_country="GH",
            quantity=Decimal("5000.000"),
            unit="KGM",
            unit_name="kilogram",
            packages_count=62,
            package_type="BG",
            package_name="Bag",
            net_mass_kg=Decimal("5000.000"),
            gross_mass_kg=Decimal("5120.000"),
            unit_price=Decimal("1.4500"),
            line_amount=Decimal("7250.00"),
        ),
    )
    return DocumentData(
        trade_id=42,
        reference="CI-2026-0042",
        direction="export",
        issuer=issuer,
        seller=seller,
        buyer=buyer,
        consignee=consignee,
        invoice_number="INV-2026-041",
        invoice_date=dt.date(2026, 11, 2),
        currency="EUR",
        incoterm="CIF",
        incoterm_name="Cost, Insurance and Freight",
        incoterm_place=PlaceView("FRMRS", "Marseille", "FR"),
        transport_mode="1",
        transport_mode_name="Maritime transport",
        place_of_loading=PlaceView("CIABJ", "Abidjan", "CI"),
        place_of_discharge=PlaceView("FRMRS", "Marseille", "FR"),
        planned_departure=dt.date(2026, 12, 1),
        payment_terms="lc",
        payment_days=60,
        items=items,
        created_at=dt.datetime(2026, 10, 30, 9, 0, tzinfo=dt.UTC),
    )


# Fields read only when others are empty: the DUCR's year comes from the planned departure, else the
# invoice date, else the day the trade was created.
FALLBACKS = {"created_at": {"planned_departure": None, "invoice_date": None}}


def _changed(value):
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, Decimal):
        return value + Decimal("1.5")
    if isinstance(value, dt.datetime):
        return value - dt.timedelta(days=3 * 365)
    if isinstance(value, dt.date):
        return value - dt.timedelta(days=3 * 365)
    if isinstance(value, dict):
        return {scheme: f"{v}9" for scheme, v in value.items()}
    if isinstance(value, str) and len(value) > 1 and value.isdigit():
        return str(int(value) + 1).zfill(len(value))
    if isinstance(value, str):
        return {
            "export": "import",
            "CI": "GH",
            "FR": "DE",
            "CIF": "CFR",
            "1": "4",
            "EUR": "USD",
            "BG": "CT",
        }.get(value, f"{value}Z")
    raise AssertionError(f"no change for {value!r}")


def _with(data: DocumentData, path: str) -> DocumentData:
    """`data` with the field at `path` changed (in every goods line for an items[] path)."""
    if path.startswith("items[]."):
        name = path.removeprefix("items[].")
        return dataclasses.replace(
            data,
            items=tuple(dataclasses.replace(i, **{name: _changed(getattr(i, name))}) for i in data.items),
        )
    if "." in path:
        head, name = path.split(".", 1)
        part = getattr(data, head)
        return dataclasses.replace(
            data, **{head: dataclasses.replace(part, **{name: _changed(getattr(part, name))})}
        )
    return dataclasses.replace(data, **{path: _changed(getattr(data, path))})


def _all_paths() -> list[str]:
    paths = [f.name for f in dataclasses.fields(DocumentData) if f.name not in {"items", "issuer", "seller"}]
    paths = [p for p in paths if p not in {"buyer", "consignee", "incoterm_place"}]
    paths = [p for p in paths if p not in {"place_of_loading", "place_of_discharge"}]
    for role in ("issuer", "seller", "buyer", "consignee"):
        paths += [f"{role}.{f.name}" for f in dataclasses.fields(PartyView)]
    for place in ("incoterm_place", "place_of_loading", "place_of_discharge"):
        paths += [f"{place}.{f.name}" for f in dataclasses.fields(PlaceView)]
    return paths + [f"items[].{name}" for name in sorted(ITEM_FIELDS)]


@pytest.mark.parametrize("path", _all_paths())
def test_reads_is_truthful(path):
    """A field in `reads` changes the message when it changes; a field not in it never does."""
    data = dataclasses.replace(_full_data(), **FALLBACKS.get(path, {}))
    before = render_declaration(data)
    after = render_declaration(_with(data, path))
    if path in _generator().reads:
        assert after != before, f"{path} is in reads but the declaration does not carry it"
    else:
        assert after == before, f"{path} is not in reads but the declaration changed with it"


def test_derived_totals_are_written():
    data = _full_data()
    declaration = _dec(render_declaration(data))
    assert Decimal(_text(declaration, "InvoiceAmount")) == data.total_amount
    assert int(_text(declaration, "TotalPackageQuantity")) == data.total_packages


# -- defaults and options -------------------------------------------------------------------------------


def test_defaults_are_listed_and_overridable_per_country_and_per_call():
    assert DEFAULTS.procedure_code is None and DEFAULTS.additional_procedure_code == "000"
    assert DEFAULTS.container_code == "0" and DEFAULTS.goods_location is None
    assert options_for("GB").responsible_agency == COUNTRY_OPTIONS["GB"]["responsible_agency"] == "HMRC"
    assert options_for("CI").responsible_agency == DEFAULTS.responsible_agency

    data = _full_data()
    options = options_for(
        "CI",
        lrn="LRN-1",
        exit_office="CIABJ001",
        supervising_office="CIABJ002",
        declaration_office="CIABJ003",
        goods_location="CIABJVRIDI",
        procedure_code="3151",
        additional_declaration_type="A",
        ducr="6CI-TEST",
    )
    xml = render_declaration(data, options)
    assert published_errors(xml) == [] and validate_wco(xml) == []
    d = read_declaration(xml)
    assert (d.lrn, d.type_code, d.exit_office, d.supervising_office) == (
        "LRN-1",
        "EXA",
        "CIABJ001",
        "CIABJ002",
    )
    assert (d.declaration_office, d.goods_location, d.ducr) == ("CIABJ003", "CIABJVRIDI", "6CI-TEST")
    assert {i.procedure_code for i in d.items} == {"3151"}


def test_representative_declares_as_agent():
    data = _full_data()
    broker = PartyView(
        name="Transit Lagunaire",
        street="Rue du Port",
        city="Abidjan",
        postcode="",
        country="CI",
        country_name="Côte d'Ivoire",
        identifiers={"tax": "CI7654321B"},
    )
    xml = render_declaration(dataclasses.replace(data, issuer=broker))
    assert published_errors(xml) == []
    d = read_declaration(xml)
    assert (d.agent.id, d.agent.function_code, d.declarant.id, d.exporter.id) == (
        "CI7654321B",
        "2",
        "CI7654321B",
        "CI1234567A",
    )
    assert b"00400" not in xml  # not self-representation


def test_long_texts_are_cut_to_the_schema_and_long_identifiers_left_out():
    data = _full_data()
    seller = dataclasses.replace(
        data.seller,
        name="N" * 200,
        street="Rue\n" + "s" * 199,
        city="C" * 100,
        postcode="P" * 20,
        email="e" * 60 + "@example.com",
        identifiers={"eori": "X" * 18, "tax": "CI1234567A"},
    )
    xml = render_declaration(dataclasses.replace(data, seller=seller, issuer=seller))
    assert published_errors(xml) == []
    d = read_declaration(xml)
    assert (len(d.exporter.name), len(d.exporter.street), len(d.exporter.city)) == (70, 70, 35)
    assert d.exporter.postcode == "P" * 9
    assert d.exporter.id == "CI1234567A"  # the 18-character EORI does not fit
    assert d.exporter.email == ""


def test_what_the_schema_cannot_hold_is_refused():
    data = _full_data()
    item = data.items[0]
    with pytest.raises(WcoRenderError):
        render_declaration(dataclasses.replace(data, items=(item,) * 1000))
    with pytest.raises(WcoRenderError):
        render_declaration(
            dataclasses.replace(data, items=(dataclasses.replace(item, packages_count=10**8),))
        )
    with pytest.raises(WcoRenderError):
        big = dataclasses.replace(item, line_amount=Decimal("1e14"))
        render_declaration(dataclasses.replace(data, items=(big,)))


# -- the product's validator and the published schema agree -----------------------------------------------


def _faults() -> dict[str, bytes]:
    """The cashew-like declaration with one schema fault each."""
    good = render_declaration(_full_data())

    def edit(change) -> bytes:
        root = etree.fromstring(good)
        change(root.find(f"{{{DEC_NS}}}Declaration"))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def q(path: str) -> str:
        return "/".join(f"{{{DEC_NS}}}{step}" for step in path.split("/"))

    def swap_parties(d):
        exporter = d.find(q("Exporter"))
        d.remove(exporter)
        d.find(q("Declarant")).addprevious(exporter)

    def set_text(path, value):
        return lambda d: setattr(d.find(q(path)), "text", value)

    def unknown(d):
        etree.SubElement(d, f"{{{DEC_NS}}}Colour").text = "blue"

    return {
        "good": good,
        "order": edit(swap_parties),
        "name too long": edit(set_text("Exporter/Name", "N" * 71)),
        "function code": edit(set_text("FunctionCode", "7")),
        "mode code": edit(set_text("BorderTransportMeans/ModeCode", "10")),
        "country code": edit(set_text("GoodsShipment/Destination/CountryCode", "FRA")),
        "blank reference": edit(set_text("FunctionalReferenceID", "   ")),
        "mass decimals": edit(
            set_text(
                "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/GrossMassMeasure", "1.1234567"
            )
        ),
        "currency": edit(lambda d: d.find(q("InvoiceAmount")).set("currencyID", "eur")),
        "unknown element": edit(unknown),
        "package type": edit(set_text("GoodsShipment/GovernmentAgencyGoodsItem/Packaging/TypeCode", "BAG")),
    }


@pytest.mark.parametrize("fault", list(_faults()))
def test_product_validator_agrees_with_the_published_schema_on_faults(fault):
    xml = _faults()[fault]
    product, published = validate_wco(xml), published_errors(xml)
    assert (product == []) == (published == [])
    assert (product == []) == (fault == "good"), product


def _well_formed_examples():
    paths = [*export_scenarios(), *sorted(EXAMPLES.glob("*.xml"))]
    chosen = []
    for path in paths:
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError:
            continue  # two published samples have "--" inside comments
        if root.tag == f"{{{MD_NS}}}MetaData" and root.find(f"{{{DEC_NS}}}Declaration") is not None:
            chosen.append(path)
    return chosen


@pytest.mark.parametrize("path", _well_formed_examples(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_product_validator_agrees_with_the_published_schema_on_the_examples(path):
    xml = path.read_bytes()
    assert (validate_wco(xml) == []) == (published_errors(xml) == [])


def test_product_validator_wants_the_metadata_envelope():
    declaration = _dec(render_declaration(_full_data()))
    bare = etree.tostring(declaration)
    assert validate_wco(bare) and "MetaData" in validate_wco(bare)[0]
    assert validate_wco(b"<not xml")[0].startswith("not well-formed")


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.procedure_code = "1000"  # type: ignore[misc]
    assert isinstance(DEFAULTS, DeclarationOptions)
