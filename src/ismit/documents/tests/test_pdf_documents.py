"""The four PDF documents (documents/generators/pdf.py): rendered from a real trade, read back with pypdf."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from conftest import cashew_trade_data
from ismit.documents.data import ITEM_FIELDS, DocumentData, PartyView, document_data
from ismit.documents.generators import all_generators, get_generator
from ismit.documents.generators.pdf_layout import SIGNATURE_BOX, Formats

pytestmark = pytest.mark.django_db

KINDS = {
    # kind: (is_declaration, English title)
    "commercial_invoice": (False, "Commercial invoice"),
    "packing_list": (False, "Packing list"),
    "coo_application": (False, "Application for a certificate of origin"),
    "export_declaration": (True, "Export declaration (summary)"),
}


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, spaces normalised (no-break spaces become spaces, runs of blanks one space)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text().replace("\u00a0", " ")) for page in reader.pages]


def text_of(pdf: bytes) -> str:
    return " ".join(pages_text(pdf))


def norm(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("\u00a0", " "))


def translated(msgid: str, language: str) -> str:
    with translation.override(language):
        return gettext(msgid)


@pytest.fixture
def cashew_data(cashew_trade):
    return {lang: document_data(cashew_trade, language=lang) for lang in ("en", "fr")}


def test_the_four_generators_are_registered_as_pdf():
    pdfs = {g.kind: g for g in all_generators() if g.format == "pdf"}
    assert set(pdfs) == set(KINDS)
    for kind, (is_declaration, _title) in KINDS.items():
        generator = get_generator(kind, "pdf")
        assert generator is pdfs[kind]
        assert generator.media_type == "application/pdf"
        assert generator.is_declaration is is_declaration
        assert generator.reads and len(set(generator.reads)) == len(generator.reads)


# -- the cashew trade, in English and in French ---------------------------------------------------------

EXPECTED = {
    # kind: texts that must be on the document, as (English, French)
    "commercial_invoice": [
        ("INV-2026-041", "INV-2026-041"),
        ("Provence Fruits Secs SAS", "Provence Fruits Secs SAS"),
        ("FR40303265045", "FR40303265045"),
        ("6.20", "6,20"),
        ("1.45", "1,45"),
        ("93,000.00", "93 000,00"),
        ("100,250.00", "100 250,00"),
        ("15,000 KGM", "15 000 KGM"),
        ("750 BG", "750 BG"),
        ("CIF Marseille (FRMRS)", "CIF Marseille (FRMRS)"),
        ("Cost, Insurance and Freight", "Coût, assurance et fret"),
        ("Documentary letter of credit", "Lettre de crédit documentaire"),
        ("Seller", "Vendeur"),
        ("Buyer", "Acheteur"),
        ("Unit price", "Prix unitaire"),
        ("Invoice date", "Date de facture"),
        ("2026-11-02", "02/11/2026"),
    ],
    "packing_list": [
        ("750 BG", "750 BG"),
        ("62 BG", "62 BG"),
        ("812", "812"),
        ("15,450", "15 450"),
        ("20,570", "20 570"),
        ("20,000", "20 000"),
        ("Gross mass (kg)", "Masse brute (kg)"),
        ("Net mass (kg)", "Masse nette (kg)"),
        ("Consignee", "Destinataire"),
    ],
    "coo_application": [
        ("Côte d'Ivoire (CI)", "Côte d'Ivoire (CI)"),
        ("Country of origin", "Pays d'origine"),
        ("20,570", "20 570"),
        ("INV-2026-041", "INV-2026-041"),
        ("Maritime transport (1)", "Transport maritime (1)"),
        ("Abidjan (CIABJ)", "Abidjan (CIABJ)"),
    ],
    "export_declaration": [
        ("France (FR)", "France (FR)"),
        ("Côte d'Ivoire (CI)", "Côte d'Ivoire (CI)"),
        ("100,250.00", "100 250,00"),
        ("7,250.00", "7 250,00"),
        ("15,450", "15 450"),
        ("5,000 KGM", "5 000 KGM"),
        ("2026-12-01", "01/12/2026"),
        ("Place of loading", "Lieu de chargement"),
    ],
}
# Labels every document carries, with their French from the catalogue today.
EVERY_DOCUMENT = [
    ("HS code", "Code SH"),
    ("Description of goods", "Désignation des marchandises"),
    ("Page 1 of 1", "Page 1 sur 1"),
    ("Mode of transport", "Mode de transport"),
]
# Messages new with these documents: whatever the catalogue makes of them must be printed.
NEW_LABELS = {
    "commercial_invoice": ["Terms of delivery", "Total amount", "Place and date of issue", "Signature"],
    "packing_list": ["Number and kind of packages", "Totals", "Country of destination"],
    "coo_application": ["Exporter", "Declaration by the exporter", "For official use"],
    "export_declaration": ["Declarant", "Country of export", "Supplementary quantity", "Declaration"],
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_cashew_trade_prints_its_data_and_labels_in_the_language(cashew_data, kind, language):
    data = cashew_data[language]
    pdf = get_generator(kind, "pdf").render(data, language=language)
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    assert len(pages) == 1
    text = pages[0]
    assert translated(KINDS[kind][1], language) in text
    column = 0 if language == "en" else 1
    for pair in [*EXPECTED[kind], *EVERY_DOCUMENT]:
        assert pair[column] in text, pair[column]
    for msgid in NEW_LABELS[kind]:
        assert translated(msgid, language) in text, msgid
    # The data common to all four: the reference, both ends of the trade, every line.
    assert data.reference in text
    assert "Anacarde Abidjan SARL" in text
    for item in data.items:
        assert item.description in text and item.hs_code in text
    if language == "fr":
        # Labels really are French, dates and numbers French-style.
        assert "Description of goods" not in text and "Page 1 of 1" not in text
        assert "2026-11-02" not in text
        assert "02/11/2026" in text
    else:
        assert "02/11/2026" not in text


def test_the_packing_list_shows_no_price(cashew_data):
    text = text_of(get_generator("packing_list", "pdf").render(cashew_data["en"], language="en"))
    for absent in ("6.20", "1.45", "93,000.00", "100,250.00", "Unit price", "EUR"):
        assert absent not in text


def test_the_coo_application_carries_the_exporters_declaration(cashew_data):
    text = text_of(get_generator("coo_application", "pdf").render(cashew_data["en"], language="en"))
    assert "declares that these goods originate in Côte d'Ivoire (CI)" in text
    assert "Exporter" in text and "Anacarde Abidjan SARL" in text


def test_the_export_declaration_names_the_declarant_with_its_identifiers(cashew_data):
    data = cashew_data["en"]
    issuer = dataclasses.replace(data.issuer, identifiers={"eori": "CI1234567890123", "tax": "1234567A"})
    text = text_of(
        get_generator("export_declaration", "pdf").render(
            dataclasses.replace(data, issuer=issuer), language="en"
        )
    )
    assert "Declarant" in text
    assert "EORI number: CI1234567890123" in text
    assert "Tax identification number: 1234567A" in text


# -- what each generator reads --------------------------------------------------------------------------


def resolve(data: DocumentData, path: str) -> list[object]:
    """The values at a `reads` path; fails if the path names nothing on DocumentData."""
    if path.startswith("items[]."):
        name = path.removeprefix("items[].")
        assert name in ITEM_FIELDS, path
        return [getattr(item, name) for item in data.items]
    head, _, attribute = path.partition(".")
    assert hasattr(DocumentData, head) or head in {f.name for f in dataclasses.fields(DocumentData)}, path
    value = getattr(data, head)
    if attribute:
        assert "." not in attribute, path
        if value is None:  # a party the trade does not name (consignee)
            return []
        assert attribute in {f.name for f in dataclasses.fields(value)}, path
        value = getattr(value, attribute)
    return [value]


def test_every_path_read_resolves_on_document_data(cashew_data):
    for generator in all_generators():
        if generator.format != "pdf":
            continue
        for path in generator.reads:
            resolve(cashew_data["en"], path)
    with pytest.raises(AssertionError):
        resolve(cashew_data["en"], "seller.colour")
    with pytest.raises(AssertionError):
        resolve(cashew_data["en"], "items[].colour")


AMOUNTS = {"line_amount", "total_amount"}
PRICES = {"unit_price"}


def printed_forms(path: str, value: object) -> list[str]:
    """How a value of this path appears on an English document."""
    f = Formats("en")
    name = path.rsplit(".", 1)[-1]
    if value in (None, "", {}):
        return []
    if name == "payment_terms":
        from ismit.trades.models import PaymentTerms

        return [str(PaymentTerms(value).label)]
    if isinstance(value, dict):
        return [str(v) for v in value.values() if v]
    if isinstance(value, dt.date):
        return [f.date(value)]
    if isinstance(value, Decimal):
        if name in AMOUNTS:
            return [f.amount(value)]
        if name in PRICES:
            return [f.price(value)]
        return [f.measure(value)]
    if isinstance(value, int):
        return [f.number(value)]
    return [norm(str(value))]


@pytest.fixture
def trade_with_consignee(cast, exporter_actor):
    from ismit.trades.services import PartyData, create_trade

    data = cashew_trade_data(
        consignee=PartyData(
            name="Entrepôt Frigorifique du Port",
            country="FR",
            city="Marseille",
            postcode="13002",
            street="Môle Léon Gourret",
            identifiers={"eori": "FR12345678901234"},
        )
    )
    return create_trade(actor=exporter_actor, organisation=cast.msme, data=data)


def filled(party: PartyView | None) -> PartyView | None:
    """The party with every optional field set, so that each can be looked for on the document."""
    if party is None:
        return None
    return dataclasses.replace(
        party,
        street=party.street or f"1 rue {party.name[:6]}",
        postcode=party.postcode or f"PC-{party.country}",
        identifiers=party.identifiers or {"tax": f"TX-{party.country}-{len(party.name)}"},
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_path_read_is_printed(cashew_trade, trade_with_consignee, kind):
    """`reads` tells the truth: each value it names is on the document (of a trade that has the value)."""
    generator = get_generator(kind, "pdf")
    rendered = []
    for trade in (cashew_trade, trade_with_consignee):
        data = document_data(trade, language="en")
        data = dataclasses.replace(
            data, **{role: filled(getattr(data, role)) for role in ("issuer", "seller", "buyer", "consignee")}
        )
        rendered.append((data, text_of(generator.render(data, language="en"))))
    for path in generator.reads:
        found = False
        for data, text in rendered:
            forms = [form for value in resolve(data, path) for form in printed_forms(path, value)]
            if forms and all(form in text for form in forms):
                found = True
        assert found, f"{kind} reads {path} but does not print it"


# -- long trades ---------------------------------------------------------------------------------------


@pytest.fixture
def hundred_line_data(cast, exporter_actor):
    from ismit.trades.services import GoodsItemData, create_trade

    items = [
        GoodsItemData(
            description=f"Cashew kernels lot {n:03d}, grade W{240 + n}",
            hs_code="080132",
            origin_country="CI",
            quantity=Decimal("100"),
            unit="KGM",
            packages_count=4,
            package_type="BG",
            net_mass_kg=Decimal("100"),
            gross_mass_kg=Decimal("103.5"),
            unit_price=Decimal("6.20"),
        )
        for n in range(1, 101)
    ]
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(items=items))
    return document_data(trade, language="en")


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_hundred_lines_run_over_pages_with_the_header_repeated_and_numbered(hundred_line_data, kind):
    pdf = get_generator(kind, "pdf").render(hundred_line_data, language="en")
    pages = pages_text(pdf)
    total = len(pages)
    assert total >= 3
    for number, page in enumerate(pages, start=1):
        assert KINDS[kind][1] in page
        assert hundred_line_data.reference in page
        assert "Anacarde Abidjan SARL" in page
        assert "HS code" in page and "Description of goods" in page
        assert f"Page {number} of {total}" in page
        # Totals and the signature box close the last page only.
        assert ("Place and date of issue" in page) is (number == total)
    everything = " ".join(pages)
    for n in range(1, 101):
        assert everything.count(f"Cashew kernels lot {n:03d},") == 1
    assert "Total" in pages[-1]
    assert "400" in pages[-1]  # packages: 100 lines of 4 bags


def test_every_line_is_on_a_page_in_order(hundred_line_data):
    pages = pages_text(get_generator("commercial_invoice", "pdf").render(hundred_line_data, language="fr"))
    seen = [int(m) for page in pages for m in re.findall(r"Cashew kernels lot (\d{3}),", page)]
    assert seen == list(range(1, 101))
    assert "Page 1 sur" in pages[0]
    assert "620 000,00" not in pages[-1]  # 100 x 100 kg x 6.20 = 62 000,00
    assert "62 000,00" in pages[-1]


# -- bytes, fonts, characters, the signature box -------------------------------------------------------


def test_same_data_same_bytes(cashew_data):
    for kind in KINDS:
        generator = get_generator(kind, "pdf")
        first = generator.render(cashew_data["fr"], language="fr")
        assert generator.render(cashew_data["fr"], language="fr") == first
        assert generator.render(cashew_data["en"], language="en") != first


def test_accents_and_signs_render_with_the_embedded_font(cashew_data):
    data = cashew_data["fr"]
    seller = dataclasses.replace(data.seller, name="Société Ivoirienne d’Anacarde – Café", street="Rue Ébrié")
    consignee = PartyView(
        name="Łódź Orzechy Sp. z o.o.",
        street="ulica Świętojańska 5",
        city="Gdańsk",
        postcode="80-001",
        country="PL",
        country_name="Pologne",
    )
    item = dataclasses.replace(data.items[0], description="Noix de cajou « W320 » décortiquées, 6 € le kg")
    data = dataclasses.replace(data, seller=seller, consignee=consignee, items=(item, *data.items[1:]))
    for kind in KINDS:
        pdf = get_generator(kind, "pdf").render(data, language="fr")
        text = text_of(pdf)
        for expected in (
            "Société Ivoirienne d’Anacarde – Café",
            "Rue Ébrié",
            "Côte d'Ivoire",
            "Noix de cajou « W320 » décortiquées, 6 € le kg",
        ):
            assert expected in text, (kind, expected)
        assert "Łódź Orzechy Sp. z o.o." in text and "Gdańsk" in text
        fonts = set(re.findall(rb"/BaseFont /([A-Za-z0-9+-]+)", pdf))
        assert fonts and all(b"DejaVuSansCondensed" in name for name in fonts), fonts
        assert pdf.count(b"/FontFile2") == len(fonts)  # every font embedded


def test_the_signature_box_is_empty_and_ready_for_a_signature_field(hundred_line_data):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    for kind in KINDS:
        generator = get_generator(kind, "pdf")
        assert generator.signature_box == SIGNATURE_BOX
        pdf = generator.render(hundred_line_data, language="en")
        reader = PdfReader(io.BytesIO(pdf))
        x1, y1, x2, y2 = SIGNATURE_BOX
        inside: list[str] = []
        placed: dict[str, tuple[float, float]] = {}

        def visit(text, cm, tm, font, size, inside=inside, placed=placed, box=(x1, y1, x2, y2)):
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            if text.strip():
                placed[text.strip()] = (x, y)
                if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
                    inside.append(text)

        reader.pages[-1].extract_text(visitor_text=visit)
        assert inside == []
        # The caption above the box and the signatory under it are where the box says.
        sx, sy = placed["Signature"]
        assert x1 - 5 < sx < x1 + 5 and y2 < sy < y2 + 20
        bx, by = placed["For and on behalf of Anacarde Abidjan SARL"]
        assert x1 - 5 < bx < x1 + 5 and by < y1
        assert x2 - x1 > 150 and y2 - y1 > 60  # room for a visible signature
        # pyHanko (which signs these documents afterwards) reads them and places a field on the box.
        last = int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"]) - 1
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        append_signature_field(writer, SigFieldSpec("Signature", on_page=last, box=SIGNATURE_BOX))
        out = io.BytesIO()
        writer.write(out)
        assert out.getvalue().startswith(pdf)
