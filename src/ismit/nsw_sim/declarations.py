"""Declarations as the single window reads them: WCO DEC XML and UN/EDIFACT CUSDEC, read into one plain
model, checked with the simulator's own rules (not the published schema), and routed by the risk rules.

`read_wco(body)` / `read_cusdec(body)` raise `Malformed` for what is not a declaration at all (not
well-formed XML or EDIFACT, no WCO DEC Declaration, no CUSDEC message): the intake answers 400. Everything
else is a `Declaration`, and `check(declaration)` lists its `Problem`s: a declaration with problems is
received, then rejected by notification.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree

from ismit.nsw_sim import codes
from ismit.nsw_sim.codes import SECTION, TAG

log = logging.getLogger(__name__)

MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
NS = {"d": DEC_NS}


class Malformed(ValueError):
    """Not a declaration this window can read at all (answered 400)."""


@dataclass(frozen=True)
class Problem:
    code: str  # codes.VALIDATION key
    text: str  # what is wrong, in plain language
    pointer: tuple[tuple[str, int | None, str | None], ...] = ()  # (section, sequence, tag id)
    item: int | None = None  # goods item number, None for the declaration


@dataclass
class Item:
    sequence: str = ""
    commodity_code: str = ""
    description: str = ""
    gross_mass: str = ""
    net_mass: str = ""
    statistical_value: str = ""
    statistical_currency: str = ""
    amount: str = ""
    amount_currency: str = ""
    origin_country: str = ""


@dataclass
class Party:
    id: str = ""
    name: str = ""
    country: str = ""

    def identified(self) -> bool:
        return bool(self.id or (self.name and self.country))


@dataclass
class Declaration:
    format: str  # "wco" or "cusdec"
    function_code: str = ""
    type_code: str = ""  # WCO DE 1/1 + 1/2 (EXD...); CUSDEC: EX / IM from BGM 1001
    lrn: str = ""
    declarant: Party = field(default_factory=Party)
    exporter: Party = field(default_factory=Party)
    declared_items: str = ""  # GoodsItemQuantity / CNT+5
    invoice_amount: str = ""
    invoice_currency: str = ""
    invoice_number: str = ""
    transport_mode: str = ""
    export_country: str = ""
    destination_country: str = ""
    responsible_country: str = ""
    answer: str = ""  # explanation in a correction (WCO AdditionalInformation AES, CUSDEC FTX+ACB)
    items: list[Item] = field(default_factory=list)
    other_countries: list[tuple[str, str]] = field(default_factory=list)  # (where, code) e.g. party addresses
    # CUSDEC envelope facts (for the CUSRES answer)
    sender: str = ""
    message_reference: str = ""
    envelope_problems: list[Problem] = field(default_factory=list)

    @property
    def currency(self) -> str:
        if self.invoice_currency:
            return self.invoice_currency
        return next((i.statistical_currency or i.amount_currency for i in self.items if i), "")

    def facts(self) -> dict:
        """What later checks (FX reports, VAT claims) compare against; stored with the conversation."""
        amount = _decimal(self.invoice_amount)
        if amount is None:
            values = [_decimal(i.amount or i.statistical_value) for i in self.items]
            amount = sum(values, Decimal(0)) if values and None not in values else None
        return {
            "lrn": self.lrn,
            "invoice_number": self.invoice_number,
            "currency": self.currency,
            "amount": str(amount) if amount is not None else "",
            "export_country": self.export_country,
            "exporter_id": self.exporter.id,
            "declarant_id": self.declarant.id,
            "items": len(self.items),
        }


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# -- WCO DEC XML ----------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@lru_cache(maxsize=256)
def _clark(path: str) -> str:
    """ "d:A/d:B" -> "{urn...DEC-DMS:2}A/{urn...}B" (lxml finds Clark paths faster than prefixed ones)."""
    return "/".join(f"{{{DEC_NS}}}{step[2:]}" if step.startswith("d:") else step for step in path.split("/"))


def _t(element, path: str) -> str:
    if element is None:
        return ""
    value = element.findtext(_clark(path))
    return " ".join(value.split()) if value else ""


def _attr(element, path: str, name: str) -> str:
    if element is None:
        return ""
    found = element.find(_clark(path))
    return (found.get(name) or "").strip() if found is not None else ""


def _party(element) -> Party:
    if element is None:
        return Party()
    return Party(
        id=_t(element, "d:ID"), name=_t(element, "d:Name"), country=_t(element, "d:Address/d:CountryCode")
    )


def read_wco(body: bytes) -> Declaration:
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise Malformed(f"not well-formed XML: {exc}")
    if root.tag == f"{{{DEC_NS}}}Declaration":
        dec, envelope = root, None
    elif root.tag == f"{{{MD_NS}}}MetaData":
        dec, envelope = root.find("d:Declaration", NS), root
        if dec is None:
            raise Malformed(f"the md:MetaData envelope holds no {{{DEC_NS}}}Declaration")
    else:
        raise Malformed(f"the root element must be {{{MD_NS}}}MetaData holding a WCO DEC Declaration")
    shipment = dec.find("d:GoodsShipment", NS)
    d = Declaration(
        format="wco",
        function_code=_t(dec, "d:FunctionCode"),
        type_code=_t(dec, "d:TypeCode"),
        lrn=_t(dec, "d:FunctionalReferenceID"),
        declarant=_party(dec.find("d:Declarant", NS)),
        exporter=_party(dec.find("d:Exporter", NS)),
        declared_items=_t(dec, "d:GoodsItemQuantity"),
        invoice_amount=_t(dec, "d:InvoiceAmount"),
        invoice_currency=_attr(dec, "d:InvoiceAmount", "currencyID"),
        invoice_number=_t(shipment, "d:Invoice/d:ID"),
        transport_mode=_t(dec, "d:BorderTransportMeans/d:ModeCode"),
        export_country=_t(shipment, "d:ExportCountry/d:ID"),
        destination_country=_t(shipment, "d:Destination/d:CountryCode"),
        responsible_country=envelope.findtext(f"{{{MD_NS}}}ResponsibleCountryCode", "").strip()
        if envelope is not None
        else "",
    )
    for info in dec.findall("d:AdditionalInformation", NS):
        if _t(info, "d:StatementTypeCode") == "AES":
            d.answer = " ".join(filter(None, [d.answer, _t(info, "d:StatementDescription")]))
    if shipment is not None:
        consignee = shipment.find("d:Consignee", NS)
        if consignee is not None:
            d.other_countries.append(("consignee", _t(consignee, "d:Address/d:CountryCode")))
        for item in shipment.findall("d:GovernmentAgencyGoodsItem", NS):
            commodity = item.find("d:Commodity", NS)
            d.items.append(
                Item(
                    sequence=_t(item, "d:SequenceNumeric"),
                    commodity_code=_t(commodity, "d:Classification/d:ID"),
                    description=_t(commodity, "d:Description"),
                    gross_mass=_t(commodity, "d:GoodsMeasure/d:GrossMassMeasure"),
                    net_mass=_t(commodity, "d:GoodsMeasure/d:NetNetWeightMeasure"),
                    statistical_value=_t(item, "d:StatisticalValueAmount"),
                    statistical_currency=_attr(item, "d:StatisticalValueAmount", "currencyID"),
                    amount=_t(commodity, "d:InvoiceLine/d:ItemChargeAmount"),
                    amount_currency=_attr(commodity, "d:InvoiceLine/d:ItemChargeAmount", "currencyID"),
                    origin_country=_t(item, "d:Origin/d:CountryCode"),
                )
            )
    return d


# -- UN/EDIFACT CUSDEC ----------------------------------------------------------------------------------


def read_cusdec(body: bytes) -> Declaration:
    from pydifact.exceptions import EDISyntaxError

    from ismit.documents.edifact_directory import component, messages_of, parse_segments

    try:
        segments = parse_segments(body)
    except (EDISyntaxError, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise Malformed(f"not a well-formed UN/EDIFACT interchange: {exc}")
    segments = [s for s in segments if s.tag != "UNA"]
    if not segments or segments[0].tag != "UNB":
        raise Malformed("the interchange does not start with UNB")
    unb = segments[0]
    messages = messages_of(segments)
    cusdecs = [m for m in messages if component(m[0], 1, 0) == "CUSDEC"]
    if not cusdecs:
        raise Malformed("the interchange holds no CUSDEC message")
    message = cusdecs[0]
    d = Declaration(format="cusdec", sender=component(unb, 1, 0), message_reference=component(message[0], 0))
    d.envelope_problems = _envelope(segments, messages)

    def text(seg, element: int) -> str:
        value = seg.elements[element] if element < len(seg.elements) else ""
        return " ".join(("".join(value) if isinstance(value, list) else value).split())

    item: Item | None = None
    for seg in message:
        tag = seg.tag
        if tag == "UNS":
            continue
        if tag == "BGM":
            document = component(seg, 0, 0)
            d.type_code = {"830": "EX", "929": "IM"}.get(document, document)
            d.lrn = d.lrn or component(seg, 1)
            d.function_code = component(seg, 2)
        elif tag == "RFF" and component(seg, 0, 0) == "ABE" and item is None:
            d.lrn = d.lrn or component(seg, 0, 1)
        elif tag == "LOC":
            qualifier, code = component(seg, 0), component(seg, 1, 0)
            if item is not None and qualifier == "27":
                item.origin_country = code
            elif qualifier == "35":
                d.export_country = code
            elif qualifier == "28":
                d.destination_country = code
        elif tag == "TDT" and component(seg, 0) == "20":
            d.transport_mode = component(seg, 2, 0)
        elif tag == "DOC" and component(seg, 0, 0) == "380":
            d.invoice_number = component(seg, 1, 0)
        elif tag == "NAD":
            party = Party(id=component(seg, 1, 0), name=text(seg, 3), country=component(seg, 8))
            role = component(seg, 0)
            if role == "DT":
                d.declarant = party
            elif role == "EX":
                d.exporter = party
            else:
                d.other_countries.append((f"party {role}", party.country))
        elif tag == "FTX":
            if item is not None and component(seg, 0) == "AAA":
                item.description = " ".join(filter(None, [item.description, text(seg, 3)]))
            elif component(seg, 0) == "ACB":  # additional information: the answer to a query
                d.answer = " ".join(filter(None, [d.answer, text(seg, 3)]))
        elif tag == "MOA":
            qualifier, amount, currency = component(seg, 0, 0), component(seg, 0, 1), component(seg, 0, 2)
            if item is None and qualifier == "39":
                d.invoice_amount, d.invoice_currency = amount, currency
            elif item is not None and qualifier == "38":
                item.amount, item.amount_currency = amount, currency
            elif item is not None and qualifier == "123":
                item.statistical_value, item.statistical_currency = amount, currency
        elif tag == "CUX" and not d.invoice_currency:
            d.invoice_currency = component(seg, 0, 1)
        elif tag == "CST":
            item = Item(sequence=component(seg, 0), commodity_code=component(seg, 1, 0))
            d.items.append(item)
        elif tag == "MEA" and item is not None and component(seg, 0) == "WT":
            if component(seg, 1) == "AAL":
                item.net_mass = component(seg, 2, 1)
            elif component(seg, 1) == "G":
                item.gross_mass = component(seg, 2, 1)
        elif tag == "CNT" and component(seg, 0, 0) == "5":
            d.declared_items = component(seg, 0, 1)
    d.responsible_country = d.export_country
    return d


def _envelope(segments, messages) -> list[Problem]:
    """UNB/UNZ and UNH/UNT references and counts, checked whether or not the D96A directory is at hand."""
    from ismit.documents.edifact_directory import component

    problems = []
    unb, unz = segments[0], segments[-1]
    if unz.tag != "UNZ":
        problems.append(Problem("NSW10014", "the interchange does not end with UNZ"))
    else:
        if component(unz, 0) != str(len(messages)):
            problems.append(
                Problem(
                    "NSW10014",
                    f"UNZ counts {component(unz, 0)} messages, the interchange has {len(messages)}",
                )
            )
        if component(unz, 1) != component(unb, 4):
            problems.append(Problem("NSW10014", "the UNZ reference differs from the UNB control reference"))
    for message in messages:
        unh, unt = message[0], message[-1]
        if component(unt, 0) != str(len(message)):
            problems.append(
                Problem(
                    "NSW10014", f"UNT counts {component(unt, 0)} segments, the message has {len(message)}"
                )
            )
        if component(unt, 1) != component(unh, 0):
            problems.append(Problem("NSW10014", "the UNT reference differs from the UNH message reference"))
    return problems


_directory_state: dict[str, object] = {}


def directory_problems(body: bytes) -> list[Problem] | None:
    """The D96A directory's verdict on a CUSDEC (at most 10 problems), or None when no directory is
    configured (ISMIT_STANDARDS_DIR): then the directory check is skipped."""
    from ismit.documents import edifact_directory
    from ismit.documents.standards import StandardsUnavailable

    if _directory_state.get("unavailable"):
        return None
    try:
        found = edifact_directory.check_interchange(body)
    except StandardsUnavailable as exc:
        _directory_state["unavailable"] = True
        log.warning("no UN/EDIFACT D96A directory (%s): CUSDEC checked without it", exc)
        return None
    out = []
    for problem in found[:10]:
        code = "NSW10014" if problem.kind == "envelope" else "NSW10015"
        out.append(Problem(code, str(problem)[:350]))
    return out


# -- the checks -----------------------------------------------------------------------------------------


def _ptr(*parts: tuple[str, int | None, str | None]) -> tuple:
    return tuple(parts)


DECL = (SECTION["declaration"], None, None)


def lrn_reused() -> Problem:
    """An original declaration whose LRN another one of its declarant had within the configured hours (as
    the UK's CDS12003)."""
    return Problem("NSW10017", codes.VALIDATION["NSW10017"], _ptr((DECL[0], None, TAG["lrn"])))


def _item_ptr(seq: int, section: str | None = None, tag: str | None = None) -> tuple:
    path = [DECL, (SECTION["goods_shipment"], None, None), (SECTION["goods_item"], seq, None)]
    if section:
        path.append((SECTION[section], None, None))
    if tag:
        last = path[-1]
        path[-1] = (last[0], last[1], TAG[tag])
    return tuple(path)


def _party_problems(party: Party, role: str, code: str) -> list[Problem]:
    ptr = _ptr(DECL, (SECTION[role], None, TAG[f"{role}_id"]))
    out = []
    if not party.identified():
        out.append(Problem(code, codes.VALIDATION[code], ptr))
    elif party.id and not (2 <= len(party.id) <= 17 and party.id.isalnum()):
        out.append(
            Problem(
                "NSW10006", f"the {role}'s identifier {party.id!r} must be 2 to 17 letters or digits", ptr
            )
        )
    if party.country and party.country.upper() not in codes.countries():
        out.append(
            Problem(
                "NSW10010",
                f"the {role}'s country {party.country!r} is not an ISO 3166 code",
                _ptr(DECL, (SECTION[role], None, None), (SECTION["address"], None, TAG["country_code"])),
            )
        )
    return out


def check(d: Declaration) -> list[Problem]:
    """Every problem of a declaration, in the order of the declaration."""
    out: list[Problem] = list(d.envelope_problems)
    if d.function_code not in ({"9", "13"} if d.format == "wco" else {"9", "5", "4"}):
        out.append(
            Problem("NSW10001", codes.VALIDATION["NSW10001"], _ptr((DECL[0], None, TAG["function_code"])))
        )
    kind = d.type_code[:2]
    if kind not in {"EX", "CO", "IM"} or (
        d.format == "wco" and not (len(d.type_code) == 3 and d.type_code[2].isalpha())
    ):
        out.append(
            Problem(
                "NSW10002",
                f"declaration type {d.type_code!r}: " + codes.VALIDATION["NSW10002"],
                _ptr((DECL[0], None, TAG["type_code"])),
            )
        )
    if not d.lrn or len(d.lrn) > 35:
        out.append(Problem("NSW10003", codes.VALIDATION["NSW10003"], _ptr((DECL[0], None, TAG["lrn"]))))
    out += _party_problems(d.declarant, "declarant", "NSW10004")
    out += _party_problems(d.exporter, "exporter", "NSW10005")
    if not d.transport_mode or d.transport_mode not in codes.MODES:
        out.append(
            Problem(
                "NSW10009",
                f"mode of transport {d.transport_mode!r}: " + codes.VALIDATION["NSW10009"],
                _ptr(DECL, (SECTION["border_transport"], None, TAG["mode_code"])),
            )
        )
    shipment = (SECTION["goods_shipment"], None, None)
    if not d.destination_country:
        out.append(
            Problem(
                "NSW10016",
                codes.VALIDATION["NSW10016"],
                _ptr(DECL, shipment, (SECTION["destination"], None, TAG["destination_country"])),
            )
        )
    for where, code, ptr in (
        ("destination", d.destination_country, (SECTION["destination"], None, TAG["destination_country"])),
        ("export", d.export_country, (SECTION["export_country"], None, TAG["export_country"])),
        *((w, c, (SECTION["address"], None, TAG["country_code"])) for w, c in d.other_countries),
    ):
        if code and code.upper() not in codes.countries():
            out.append(
                Problem(
                    "NSW10010", f"{where} country {code!r} is not an ISO 3166 code", _ptr(DECL, shipment, ptr)
                )
            )

    if not d.items:
        out.append(Problem("NSW10007", codes.VALIDATION["NSW10007"], _ptr(DECL, shipment)))
    if d.declared_items and d.declared_items != str(len(d.items)):
        out.append(
            Problem(
                "NSW10008",
                f"{d.declared_items} goods items declared, {len(d.items)} in the declaration",
                _ptr((DECL[0], None, TAG["goods_item_quantity"])),
            )
        )
    invoice = None
    if d.invoice_amount:
        invoice = _decimal(d.invoice_amount)
        if invoice is None:
            out.append(
                Problem(
                    "NSW10012", codes.VALIDATION["NSW10012"], _ptr((DECL[0], None, TAG["invoice_amount"]))
                )
            )
    if d.invoice_currency and d.invoice_currency not in codes.currencies():
        out.append(
            Problem(
                "NSW10011",
                f"invoice currency {d.invoice_currency!r} is not an ISO 4217 code",
                _ptr((DECL[0], None, TAG["invoice_amount"])),
            )
        )

    amounts: list[Decimal] = []
    same_currency = True
    for n, item in enumerate(d.items, start=1):
        out += _item_problems(item, n, d.format)
        amount = _decimal(item.amount) if item.amount else None
        if amount is None:
            same_currency = False
        else:
            amounts.append(amount)
            if item.amount_currency and d.invoice_currency and item.amount_currency != d.invoice_currency:
                same_currency = False
    if invoice is not None and same_currency and amounts and len(amounts) == len(d.items):
        total = sum(amounts, Decimal(0))
        if abs(total - invoice) > Decimal("0.01") * len(amounts):
            out.append(
                Problem(
                    "NSW10013",
                    f"invoice amount {invoice} {d.invoice_currency} differs from the sum of the items, "
                    f"{total}",
                    _ptr((DECL[0], None, TAG["invoice_amount"])),
                )
            )
    return out


def _item_problems(item: Item, n: int, fmt: str) -> list[Problem]:
    out = []
    if item.sequence != str(n):
        out.append(
            Problem(
                "NSW20008", f"goods item {n} is numbered {item.sequence!r}", _item_ptr(n, tag="sequence"), n
            )
        )
    code = item.commodity_code.replace(" ", "").replace(".", "")
    if not (code.isdigit() and 6 <= len(code) <= 8):
        out.append(
            Problem(
                "NSW20001",
                f"goods item {n}: commodity code {item.commodity_code!r} must be 6 to 8 digits",
                _item_ptr(n, "classification", "commodity_code"),
                n,
            )
        )
    if not item.description:
        out.append(
            Problem(
                "NSW20002",
                f"goods item {n}: the description is missing",
                _item_ptr(n, "commodity", "description"),
                n,
            )
        )
    gross, net = _decimal(item.gross_mass), _decimal(item.net_mass)
    if gross is None or gross < 0:
        out.append(
            Problem(
                "NSW20003",
                f"goods item {n}: gross mass {item.gross_mass!r} is not a number",
                _item_ptr(n, "goods_measure", "gross_mass"),
                n,
            )
        )
    if net is None or net < 0:
        out.append(
            Problem(
                "NSW20004",
                f"goods item {n}: net mass {item.net_mass!r} is not a number",
                _item_ptr(n, "goods_measure", "net_mass"),
                n,
            )
        )
    if gross is not None and net is not None and gross < net:
        out.append(
            Problem(
                "NSW20005",
                f"goods item {n}: gross mass {gross} is less than net mass {net}",
                _item_ptr(n, "goods_measure", "gross_mass"),
                n,
            )
        )
    value = _decimal(item.statistical_value)
    if value is None or value < 0:
        out.append(
            Problem(
                "NSW20006",
                f"goods item {n}: statistical value {item.statistical_value!r} is not a number",
                _item_ptr(n, tag="statistical_value"),
                n,
            )
        )
    if item.amount and (_decimal(item.amount) is None):
        out.append(
            Problem(
                "NSW20007",
                f"goods item {n}: item amount {item.amount!r} is not a number",
                _item_ptr(n, "invoice_line", "item_amount"),
                n,
            )
        )
    for currency, ptr in (
        (item.statistical_currency, _item_ptr(n, tag="statistical_value")),
        (item.amount_currency, _item_ptr(n, "invoice_line", "item_amount")),
    ):
        if currency and currency not in codes.currencies():
            out.append(
                Problem("NSW10011", f"goods item {n}: currency {currency!r} is not an ISO 4217 code", ptr, n)
            )
    if item.origin_country and item.origin_country.upper() not in codes.countries():
        out.append(
            Problem(
                "NSW10010",
                f"goods item {n}: origin country {item.origin_country!r} is not an ISO 3166 code",
                _item_ptr(n, "origin", "origin_country"),
                n,
            )
        )
    return out


# -- risk rules -----------------------------------------------------------------------------------------


def _chance(seed: int, purpose: str, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{purpose}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def query_question(d: Declaration, config) -> tuple[str, int] | None:
    """(question, goods item) when a goods description is too vague, else None."""
    words = {w.casefold() for w in config.query_words}
    for n, item in enumerate(d.items, start=1):
        text = item.description.strip()
        if len(text) < config.query_min_description or text.casefold() in words:
            return (
                f"Goods item {n}: the description {text!r} does not say what the goods are. Describe them "
                "precisely (nature, material, use) in a correction, or explain.",
                n,
            )
    return None


def checks_after_acceptance(d: Declaration, config) -> list[dict]:
    """The steps between acceptance and clearance the risk rules ask for: a documentary check when the
    declared value is high, a physical inspection for sensitive HS chapters (or at random)."""
    steps: list[dict] = []
    value = _decimal(d.facts()["amount"]) or Decimal(0)
    if codes.in_euros(value, d.currency) > Decimal(str(config.documents_threshold)):
        steps.append(
            {
                "status": codes.DOCUMENTS_REQUIRED,
                "code": codes.REASON_DOCUMENTS,
                "text": f"Documentary check: declared value {value} {d.currency} is above the threshold. "
                "Present the commercial invoice and the transport document.",
            }
        )
    chapters = set(config.control_chapters)
    sensitive = next(
        (n for n, item in enumerate(d.items, start=1) if item.commodity_code[:2] in chapters), None
    )
    if sensitive is not None:
        steps.append(
            {
                "status": codes.CONTROL,
                "code": codes.REASON_SENSITIVE_GOODS,
                "item": sensitive,
                "text": f"Physical inspection: goods item {sensitive}, HS chapter "
                f"{d.items[sensitive - 1].commodity_code[:2]}.",
            }
        )
    elif config.control_rate and _chance(config.seed, "control", d.lrn) < config.control_rate:
        steps.append(
            {
                "status": codes.CONTROL,
                "code": codes.REASON_RANDOM_CONTROL,
                "text": "Physical inspection (random selection).",
            }
        )
    return steps


def plan(d: Declaration, problems: list[Problem], config) -> list[dict]:
    """The statuses an original declaration goes through, in order."""
    if problems:
        return [
            {"status": codes.RECEIVED},
            {"status": codes.REJECTED, "problems": [p.__dict__ for p in problems]},
        ]
    steps = [{"status": codes.RECEIVED}, {"status": codes.ACCEPTED}]
    question = query_question(d, config)
    if question:
        steps.append({"status": codes.QUERY, "text": question[0], "item": question[1]})
    return (
        steps
        + checks_after_acceptance(d, config)
        + [{"status": codes.CLEARED}, {"status": codes.GOODS_EXITED}]
    )


def plan_after_correction(d: Declaration, problems: list[Problem], config) -> list[dict]:
    """The statuses that follow a correction answering a query: another query while the correction has
    problems or the question still stands unexplained; else the checks, clearance and exit."""
    if problems:
        text = "The correction still has problems: " + "; ".join(p.text for p in problems[:5])
        return [{"status": codes.QUERY, "text": text[:500], "problems": [p.__dict__ for p in problems]}]
    question = query_question(d, config)
    if question and not d.answer:
        return [{"status": codes.QUERY, "text": question[0], "item": question[1]}]
    return [*checks_after_acceptance(d, config), {"status": codes.CLEARED}, {"status": codes.GOODS_EXITED}]
