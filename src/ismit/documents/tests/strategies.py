"""Hypothesis strategies: valid trades as documents see them (DocumentData), without the database.

Codes are drawn from real entries of the code lists (HS 2022, UN/LOCODE, Rec 19/20/21, ISO 4217,
Incoterms 2020) so that every generated data set is one the trade services would accept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from ismit.documents.data import CENT, DocumentData, ItemView, PartyView, PlaceView

HS = {
    "080131": "Cashew nuts, in shell",
    "080132": "Cashew nuts, shelled",
    "180100": "Cocoa beans, whole or broken, raw or roasted",
    "060311": "Roses, fresh cut",
    "610910": "T-shirts, singlets and other vests, of cotton, knitted",
    "620342": "Men's trousers, of cotton",
    "090111": "Coffee, not roasted, not decaffeinated",
    "520100": "Cotton, not carded or combed",
}
COUNTRIES = {
    "CI": "Côte d'Ivoire",
    "FR": "France",
    "KE": "Kenya",
    "NL": "Netherlands",
    "BD": "Bangladesh",
    "DE": "Germany",
    "SN": "Senegal",
    "GH": "Ghana",
}
# (code, name, functions it has): sea ports are "1", airports "4", road "3"
PLACES = {
    "1": [
        *[("CIABJ", "Abidjan"), ("FRMRS", "Marseille"), ("NLRTM", "Rotterdam"), ("KEMBA", "Mombasa")],
        *[("BDCGP", "Chattogram"), ("DEHAM", "Hamburg"), ("SNDKR", "Dakar"), ("FRLEH", "Le Havre")],
    ],
    "4": [
        *[("CIABJ", "Abidjan"), ("KENBO", "Nairobi"), ("NLAMS", "Amsterdam")],
        *[("FRCDG", "Charles-de-Gaulle Apt/Paris"), ("BDDAC", "Dhaka"), ("DEFRA", "Frankfurt am Main")],
    ],
}
MODES = {"1": "Maritime transport", "4": "Air transport"}
UNITS = {"KGM": "kilogram", "C62": "one", "TNE": "tonne (metric ton)", "NAR": "number of articles"}
PACKAGES = {"BG": "Bag", "CT": "Carton", "BX": "Box", "PX": "Pallet"}
CURRENCIES = ["EUR", "XOF", "USD", "KES", "BDT"]
INCOTERMS = {
    "1": ["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"],
    "4": ["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP"],
}
INCOTERM_NAMES = {
    "EXW": "Ex Works",
    "FCA": "Free Carrier",
    "CPT": "Carriage Paid To",
    "CIP": "Carriage and Insurance Paid To",
    "DAP": "Delivered at Place",
    "DPU": "Delivered at Place Unloaded",
    "DDP": "Delivered Duty Paid",
    "FAS": "Free Alongside Ship",
    "FOB": "Free On Board",
    "CFR": "Cost and Freight",
    "CIF": "Cost, Insurance and Freight",
}

# Names and addresses: letters with accents, digits, and the characters documents must escape
# (EDIFACT ' + : ?, XML & < >). Never empty after stripping.
_text_chars = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éèàçôÉ'+:?&<>-./")
)


def text(min_size: int = 1, max_size: int = 35) -> st.SearchStrategy[str]:
    return (
        st.text(_text_chars, min_size=min_size, max_size=max_size)
        .map(lambda s: " ".join(s.split()))
        .filter(lambda s: len(s) >= min_size)
    )


def decimals(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def parties(draw, country: str | None = None, with_ids: bool = False) -> PartyView:
    code = country or draw(st.sampled_from(sorted(COUNTRIES)))
    identifiers = {}
    if with_ids:
        identifiers = draw(
            st.sampled_from(
                [{}, {"eori": f"{code}1234567890"}, {"tax": "1234567A"}, {"vat": f"{code}12345678"}]
            )
        )
    return PartyView(
        name=draw(text(2, 60)),
        street=draw(text(0, 60)),
        city=draw(text(2, 35)),
        postcode=draw(st.text("0123456789", max_size=6)),
        country=code,
        country_name=COUNTRIES[code],
        email="",
        identifiers=identifiers,
    )


@st.composite
def items(draw, line_no: int) -> ItemView:
    hs = draw(st.sampled_from(sorted(HS)))
    unit = draw(st.sampled_from(sorted(UNITS)))
    package = draw(st.sampled_from(sorted(PACKAGES)))
    quantity = draw(decimals("0.001", "1000000", 3))
    price = draw(decimals("0.0001", "100000", 4))
    net = draw(decimals("0.001", "100000", 3))
    gross = net + draw(decimals("0", "1000", 3))
    return ItemView(
        line_no=line_no,
        description=draw(text(3, 120)),
        hs_code=hs,
        hs_description=HS[hs],
        origin_country=draw(st.sampled_from(sorted(COUNTRIES))),
        quantity=quantity,
        unit=unit,
        unit_name=UNITS[unit],
        packages_count=draw(st.integers(1, 10_000)),
        package_type=package,
        package_name=PACKAGES[package],
        net_mass_kg=net,
        gross_mass_kg=gross,
        unit_price=price,
        line_amount=(quantity * price).quantize(CENT),
    )


@st.composite
def document_datas(draw, max_items: int = 12) -> DocumentData:
    mode = draw(st.sampled_from(sorted(MODES)))
    loading_code, loading_name = draw(st.sampled_from(PLACES[mode]))
    discharge_code, discharge_name = draw(
        st.sampled_from([p for p in PLACES[mode] if p[0][:2] != loading_code[:2]])
    )
    loading = PlaceView(code=loading_code, name=loading_name, country=loading_code[:2])
    discharge = PlaceView(code=discharge_code, name=discharge_name, country=discharge_code[:2])
    incoterm = draw(st.sampled_from(INCOTERMS[mode]))
    # E-group and F-group rules are named at the origin; C- and D-group rules at the destination.
    named = loading if incoterm in {"EXW", "FCA", "FAS", "FOB"} else discharge
    seller = draw(parties(country=loading.country, with_ids=True))
    buyer = draw(parties(country=discharge.country, with_ids=True))
    consignee = draw(st.one_of(st.none(), parties(country=discharge.country)))
    n = draw(st.integers(1, max_items))
    lines = tuple(draw(items(line_no)) for line_no in range(1, n + 1))
    invoice_date = draw(st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31))))
    return DocumentData(
        trade_id=draw(st.integers(1, 10**9)),
        reference=draw(st.from_regex(r"[A-Z]{3}-[0-9]{4}-[0-9]{4}", fullmatch=True)),
        direction="export",
        issuer=seller,
        seller=seller,
        buyer=buyer,
        consignee=consignee,
        invoice_number=draw(st.one_of(st.just(""), st.from_regex(r"INV-[0-9]{1,8}", fullmatch=True))),
        invoice_date=invoice_date,
        currency=draw(st.sampled_from(CURRENCIES)),
        incoterm=incoterm,
        incoterm_name=INCOTERM_NAMES[incoterm],
        incoterm_place=named,
        transport_mode=mode,
        transport_mode_name=MODES[mode],
        place_of_loading=loading,
        place_of_discharge=discharge,
        planned_departure=draw(st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)))),
        payment_terms=draw(st.sampled_from(["advance", "lc", "collection", "open_account"])),
        payment_days=draw(st.integers(0, 180)),
        items=lines,
        created_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
    )
