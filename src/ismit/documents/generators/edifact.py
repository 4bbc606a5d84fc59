"""UN/EDIFACT D96A interchanges: INVOIC (commercial invoice) and CUSDEC (export or import declaration).

Each interchange is UNA + UNB ... UNZ around one message, syntax level UNOC version 3: ISO 8859-1 carries
the accents of the names we write (Côte d'Ivoire, Société, Kouassi), and syntax version 3 is the one D96A
messages travel in; UNOW (UTF-8) exists only from syntax version 4, which D96A receivers do not expect.
Characters outside ISO 8859-1 are transliterated (edifact_directory.latin1). The bytes are ISO 8859-1.

- Sender (UNB S002): the issuer's identifier (EORI, VAT, tax or business number, in that order of
  preference), else its name in capitals; qualifier ZZZ (mutually defined).
- Recipient (S003): INVOIC the buyer (identifier, else name), CUSDEC "CUSTOMS-<export country>"; the
  single window connector passes its own (``recipient=``).
- Control reference (0020, also the UNH message reference): "I" or "C", the trade id and the
  preparation time (seconds), base 36: unique per trade and second, at most 14 characters.

Texts longer than an element are split over the repeats the segment offers (names over 5 x 35, streets
4 x 35, descriptions in IMD 2 x 35 per segment, FTX 5 x 70); what exceeds those is cut.
``build_invoic`` and ``build_cusdec`` return the interchange as text for callers that send it (the
customs connectors); the registered generators return its bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydifact.segments import Segment

from ismit.documents.data import DocumentData, ItemView, PartyView, PlaceView
from ismit.documents.edifact_directory import chunks, latin1, number, segment, write_interchange
from ismit.documents.generators import register

MEDIA_TYPE = "application/EDIFACT"
IDENTIFIER_SCHEMES = ("eori", "vat", "tax", "business")
# Payment terms -> PAI 4439 payment conditions (UNTDID D96A).
PAYMENT_CONDITIONS = {"advance": "31", "lc": "10", "collection": "21", "open_account": "33"}
# Party identifiers -> RFF 1153 reference qualifiers (EORI goes in NAD C082 instead).
REFERENCE_QUALIFIERS = {"vat": "VA", "tax": "FC", "business": "GN"}


def _t(text: str | None, size: int | None = None) -> str:
    text = latin1(text or "").strip()
    return text[:size] if size else text


def _b36(value: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        value, r = divmod(value, 36)
        out = digits[r] + out
        if not value:
            return out


def control_reference(kind: str, trade_id: int, at: dt.datetime) -> str:
    return f"{kind}{_b36(trade_id % 36**6):0>6}{_b36(int(at.timestamp()))}"[:14]


def _party_code(party: PartyView) -> str:
    for scheme in IDENTIFIER_SCHEMES:
        value = _t(party.identifier(scheme), 35)
        if value:
            return value
    ascii_name = unicodedata.normalize("NFKD", party.name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Z0-9]", "", ascii_name.upper())
    return name[:35] or "UNKNOWN"


def _groups(pieces: list[str], size: int) -> list[list[str]]:
    return [pieces[i : i + size] for i in range(0, len(pieces), size)]


def _ymd(day: dt.date) -> list[str]:
    return [f"{day:%Y%m%d}", "102"]


def _place(qualifier: str, place: PlaceView) -> Segment:
    return segment("LOC", qualifier, [_t(place.code, 25), "", "6", _t(place.name, 70)])


def _country(qualifier: str, country: str) -> Segment:
    return segment("LOC", qualifier, [_t(country, 25), "162", "5"])


def _party(qualifier: str, party: PartyView, *, contact: bool = True) -> list[Segment]:
    """NAD, then RFF per identifier, then CTA/COM for the e-mail address (INVOIC SG2-SG5, CUSDEC SG6)."""
    eori = _t(party.identifier("eori"), 35)
    out = [
        segment(
            "NAD",
            qualifier,
            [eori, "", "ZZZ"] if eori else None,
            None,
            chunks(_t(party.name), 35, 5),
            chunks(_t(party.street), 35, 4),
            _t(party.city, 35),
            None,
            _t(party.postcode, 9),
            _t(party.country, 3),
        )
    ]
    for scheme, code in REFERENCE_QUALIFIERS.items():
        value = _t(party.identifier(scheme), 35)
        if value:
            out.append(segment("RFF", [code, value]))
    if contact and party.email:
        out += [segment("CTA", "IC"), segment("COM", [_t(party.email, 512), "EM"])]
    return out


def _package(item: ItemView) -> Segment:
    return segment(
        "PAC", str(item.packages_count), None, [_t(item.package_type, 17), "", "6", _t(item.package_name, 35)]
    )


def _masses(net: Decimal, gross: Decimal) -> list[Segment]:
    return [
        segment("MEA", "WT", "AAL", ["KGM", number(net)]),
        segment("MEA", "WT", "G", ["KGM", number(gross)]),
    ]


def _terms_of_delivery(d: DocumentData) -> list[Segment]:
    return [
        segment("TOD", "6", None, [_t(d.incoterm, 3), "", "", _t(d.incoterm_name, 70)]),
        _place("1", d.incoterm_place),
    ]


# -- INVOIC ----------------------------------------------------------------------------------------


def invoic_segments(d: DocumentData) -> list[Segment]:
    """The INVOIC message body, BGM to the last MOA (UNH and UNT come from write_interchange)."""
    out = [
        segment("BGM", ["380"], _t(d.invoice_number or d.reference, 35), "9"),
        segment("DTM", ["137", *_ymd(d.invoice_date or d.created_at.date())]),
        segment("RFF", ["SS", _t(d.reference, 35)]),  # SG1: the seller's own reference for the trade
    ]
    out += _party("SE", d.seller)  # SG2 (SG3 RFF, SG5 CTA/COM)
    out += _party("BY", d.buyer)
    out += _party("CN", d.consignee_or_buyer)
    out.append(segment("CUX", ["2", d.currency, "4"]))  # SG7: reference currency = invoicing currency
    out.append(segment("PAT", "1", None, ["5", "3", "D", str(d.payment_days)]))  # SG8: N days after invoice
    if d.payment_terms in PAYMENT_CONDITIONS:
        out.append(segment("PAI", [PAYMENT_CONDITIONS[d.payment_terms]]))  # and how
    out.append(segment("TDT", "20", None, [d.transport_mode]))  # SG9: main carriage, Rec 19 mode
    out.append(_place("9", d.place_of_loading))  # SG10
    if d.planned_departure:
        out.append(segment("DTM", ["133", *_ymd(d.planned_departure)]))
    out.append(_place("11", d.place_of_discharge))
    out += _terms_of_delivery(d)  # SG12
    for item in d.items:  # SG25
        out += [
            segment("LIN", str(item.line_no)),
            segment("PIA", "1", [_t(item.hs_code, 35), "HS"]),
        ]
        for pair in _groups(chunks(_t(item.description), 35, 20), 2):  # IMD: 2 x 35, 10 times
            out.append(segment("IMD", "F", None, ["", "", "", *pair]))
        out += _masses(item.net_mass_kg, item.gross_mass_kg)
        out += [
            segment("QTY", ["47", number(item.quantity), item.unit]),
            segment("ALI", item.origin_country),
            segment("MOA", ["203", number(item.line_amount, 2)]),  # SG26
            segment("PRI", ["AAA", number(item.unit_price), "", "", "1", item.unit]),  # SG28
            _package(item),  # SG30
        ]
    out += [
        segment("UNS", "S"),
        segment("CNT", ["2", str(len(d.items))]),
        segment("CNT", ["7", number(d.total_gross_mass_kg), "KGM"]),
        segment("CNT", ["11", str(d.total_packages)]),
        segment("MOA", ["79", number(d.total_amount, 2), d.currency]),  # SG48: total of the lines
        segment("MOA", ["77", number(d.total_amount, 2), d.currency]),  # invoice amount
    ]
    return out


def _sender(d: DocumentData) -> list[str]:
    return [_party_code(d.issuer), "ZZZ"]


def build_invoic(
    d: DocumentData,
    *,
    prepared_at: dt.datetime | None = None,
    recipient: Sequence[str] | None = None,
    reference: str | None = None,
) -> str:
    at = prepared_at or dt.datetime.now(dt.UTC)
    ref = reference or control_reference("I", d.trade_id, at)
    return write_interchange(
        [(ref, ("INVOIC", "D", "96A", "UN"), invoic_segments(d))],
        sender=_sender(d),
        recipient=list(recipient or [_party_code(d.buyer), "ZZZ"]),
        control_reference=ref,
        prepared_at=at,
        application_reference="INVOIC",
    )


# -- CUSDEC ----------------------------------------------------------------------------------------


def cusdec_segments(d: DocumentData, *, prepared_at: dt.datetime) -> list[Segment]:
    """The CUSDEC message body: the declaration (header) and one customs item (SG30) per goods line."""
    export = d.direction != "import"
    out = [
        segment("BGM", ["830" if export else "929"], _t(d.declaration_reference or d.reference, 35), "9"),
        _place("9", d.place_of_loading),
        _place("11", d.place_of_discharge),
        _country("35", d.export_country),
        _country("28", d.destination_country),
        segment("DTM", ["137", f"{prepared_at:%Y%m%d%H%M}", "203"]),
    ]
    if d.planned_departure:
        out.append(segment("DTM", ["133", *_ymd(d.planned_departure)]))
    out += [
        segment("GIS", ["22" if export else "23"]),
        segment("MEA", "WT", "G", ["KGM", number(d.total_gross_mass_kg)]),
        segment("MEA", "WT", "AAL", ["KGM", number(d.total_net_mass_kg)]),
        segment("RFF", ["ABE", _t(d.reference, 35)]),  # SG1: declarant's reference
        segment("TDT", "20", None, [d.transport_mode]),  # SG4
    ]
    if d.invoice_number:  # SG5: the commercial invoice the declaration rests on
        out.append(segment("DOC", ["380"], [_t(d.invoice_number, 35)]))
        if d.invoice_date:
            out.append(segment("DTM", ["3", *_ymd(d.invoice_date)]))
    out += _party("DT", d.issuer)  # SG6
    out += _party("EX", d.seller, contact=False)
    out += _party("CN", d.consignee_or_buyer, contact=False)
    out += _party("BY" if export else "IM", d.buyer, contact=False)
    out += _terms_of_delivery(d)  # SG7
    out += [
        segment("MOA", ["39", number(d.total_amount, 2), d.currency]),  # SG8: invoice total
        segment("CUX", ["2", d.currency, "4"]),  # SG9
        segment("UNS", "D"),
    ]
    for item in d.items:  # SG30: customs items
        out.append(segment("CST", str(item.line_no), [_t(item.hs_code, 18), "169", "1"]))
        for lines in _groups(chunks(_t(item.description), 70, 45), 5):  # FTX: 5 x 70, 9 times
            out.append(segment("FTX", "AAA", None, None, lines))
        out.append(_country("27", item.origin_country))
        out += _masses(item.net_mass_kg, item.gross_mass_kg)
        out += [
            segment("MEA", "AAF", None, [item.unit, number(item.quantity)]),  # supplementary quantity
            _package(item),  # SG31
            segment("MOA", ["38", number(item.line_amount, 2), d.currency]),  # SG33: invoice item amount
            segment("MOA", ["123", number(item.line_amount, 2), d.currency]),  # statistical value
        ]
    out += [
        segment("UNS", "S"),
        segment("CNT", ["5", str(len(d.items))]),
        segment("CNT", ["7", number(d.total_gross_mass_kg), "KGM"]),
        segment("CNT", ["11", str(d.total_packages)]),
    ]
    return out


def build_cusdec(
    d: DocumentData,
    *,
    prepared_at: dt.datetime | None = None,
    recipient: Sequence[str] | None = None,
    reference: str | None = None,
) -> str:
    at = prepared_at or dt.datetime.now(dt.UTC)
    ref = reference or control_reference("C", d.trade_id, at)
    return write_interchange(
        [(ref, ("CUSDEC", "D", "96A", "UN"), cusdec_segments(d, prepared_at=at))],
        sender=_sender(d),
        recipient=list(recipient or [f"CUSTOMS-{d.export_country}", "ZZZ"]),
        control_reference=ref,
        prepared_at=at,
        application_reference="CUSDEC",
    )


# -- the generators --------------------------------------------------------------------------------


def _party_fields(role: str, *, email: bool = True) -> tuple[str, ...]:
    names = ("name", "street", "city", "postcode", "country", "identifiers")
    return tuple(f"{role}.{f}" for f in (*names, "email") if email or f != "email")


_ITEM_COMMON = (
    "line_no",
    "description",
    "hs_code",
    "origin_country",
    "quantity",
    "unit",
    "net_mass_kg",
    "gross_mass_kg",
    "packages_count",
    "package_type",
    "package_name",
    "line_amount",
)
_PLACES = (
    "transport_mode",
    "place_of_loading.code",
    "place_of_loading.name",
    "place_of_discharge.code",
    "place_of_discharge.name",
    "planned_departure",
    "incoterm",
    "incoterm_name",
    "incoterm_place.code",
    "incoterm_place.name",
)

INVOIC_READS: tuple[str, ...] = (
    "trade_id",
    "reference",
    "invoice_number",
    "invoice_date",
    "created_at",
    "issuer.identifiers",
    "issuer.name",
    *_party_fields("seller"),
    *_party_fields("buyer"),
    *_party_fields("consignee"),
    "currency",
    "payment_terms",
    "payment_days",
    *_PLACES,
    *(f"items[].{f}" for f in (*_ITEM_COMMON, "unit_price")),
    "total_amount",
    "total_gross_mass_kg",
    "total_packages",
)
CUSDEC_READS: tuple[str, ...] = (
    "trade_id",
    "reference",
    "declaration_reference",
    "direction",
    "invoice_number",
    "invoice_date",
    *_party_fields("issuer"),
    *_party_fields("seller", email=False),
    *_party_fields("buyer", email=False),
    *_party_fields("consignee", email=False),
    "currency",
    *_PLACES,
    "place_of_loading.country",
    "place_of_discharge.country",
    *(f"items[].{f}" for f in _ITEM_COMMON),
    "total_amount",
    "total_gross_mass_kg",
    "total_net_mass_kg",
    "total_packages",
)


@dataclass(frozen=True)
class EdifactGenerator:
    kind: str
    is_declaration: bool
    reads: tuple[str, ...]
    build: Callable[..., str]
    format: str = "edi"
    media_type: str = MEDIA_TYPE

    def render(self, data: DocumentData, *, language: str) -> bytes:
        # EDIFACT carries no language: names arrive already in the document language (DocumentData).
        return self.build(data).encode("latin-1", errors="replace")


INVOIC = register(EdifactGenerator("edifact_invoic", False, INVOIC_READS, build_invoic))
CUSDEC = register(EdifactGenerator("edifact_cusdec", True, CUSDEC_READS, build_cusdec))
