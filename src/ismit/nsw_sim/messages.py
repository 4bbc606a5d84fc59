"""The notifications the single window sends: WCO RES XML (for WCO DEC declarations, shaped as the UK's
DMS notifications), CUSRES interchanges (for CUSDEC declarations) and JSON (for FX reports, VAT claims).

Each takes the conversation (a dict: lrn, mrn, version, message_reference, sender...) and the step of
its plan being notified (a dict: status, and text / problems / item for some statuses).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from lxml import etree

from ismit.nsw_sim import codes

MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
RES_NS = "urn:wco:datamodel:WCO:RES-DMS:2"
RDS_NS = "urn:wco:datamodel:WCO:Response_DS:DMS:2"
NSMAP = {"md": MD_NS, None: RES_NS, "rds": RDS_NS}

CONTENT_TYPES = {"wco": "application/xml", "cusdec": "application/EDIFACT", "json": "application/json"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: object, size: int) -> str:
    return " ".join(_NOT_XML.sub(" ", str(text or "")).split())[:size]


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ")


def _sub(parent, tag: str, text: str | None = None, ns: str = RES_NS, **attrib):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        element.text = text
    return element


def _datetime(parent, tag: str, at: dt.datetime) -> None:
    _sub(_sub(parent, tag), "DateTimeString", _stamp(at), ns=RDS_NS, formatCode="304")


def _pointers(parent, pointer) -> None:
    for section, sequence, tag in pointer or ():
        p = _sub(parent, "Pointer")
        if sequence is not None:
            _sub(p, "SequenceNumeric", str(sequence))
        _sub(p, "DocumentSectionCode", section)
        if tag:
            _sub(p, "TagID", tag)


def _info(
    response,
    *,
    code: str = "",
    text: str = "",
    limit: dt.datetime | None = None,
    type_code: str = "",
    pointer=(),
):
    info = _sub(response, "AdditionalInformation")
    if code:
        _sub(info, "StatementCode", code)
    if text:
        _sub(info, "StatementDescription", _clean(text, 512))
    if limit is not None:
        _datetime(info, "LimitDateTime", limit)
    if type_code:
        _sub(info, "StatementTypeCode", type_code)
    _pointers(info, pointer)


def _item_pointer(item: int | None, *, description: bool = True):
    """Pointers to a goods item (to its description, for a query's)."""
    if not item:
        return ()
    to_item = (("42A", None, None), ("67A", None, None), ("68A", item, None))
    return (*to_item, ("23A", None, "137")) if description else to_item


def render_res(
    conversation: dict, step: dict, *, notification_id: str, issued_at: dt.datetime, agency: str
) -> bytes:
    """A WCO RES notification (md:MetaData around a Response), valid against WCO_RES_2_DMS.xsd."""
    status = step["status"]
    root = etree.Element(f"{{{MD_NS}}}MetaData", nsmap=NSMAP)
    _sub(root, "WCODataModelVersionCode", "3.6", ns=MD_NS)
    _sub(root, "WCOTypeName", "RES", ns=MD_NS)
    country = (conversation.get("country") or "").upper()
    if re.fullmatch(r"[A-Z]{2}", country):
        _sub(root, "ResponsibleCountryCode", country, ns=MD_NS)
    _sub(root, "ResponsibleAgencyName", _clean(agency, 70), ns=MD_NS)

    response = _sub(root, "Response")
    _sub(response, "FunctionCode", codes.WCO_FUNCTION_CODES[status])
    _sub(response, "FunctionalReferenceID", notification_id[:35])
    _datetime(response, "IssueDateTime", issued_at)
    week = issued_at + dt.timedelta(days=7)
    if status == codes.QUERY:
        _info(
            response,
            code="QRY",
            text=step.get("text", ""),
            limit=week,
            type_code="QRY",
            pointer=_item_pointer(step.get("item")),
        )
    elif status == codes.DOCUMENTS_REQUIRED:
        _info(response, code="ACA", limit=week, type_code="ACA")  # as the UK's DMSDOC
        _info(response, code=step.get("code", ""), text=step.get("text", ""), type_code="ACA")
    elif status == codes.CONTROL:
        _info(
            response,
            code=step.get("code", ""),
            text=step.get("text", ""),
            type_code="CTL",
            pointer=_item_pointer(step.get("item"), description=False),
        )
    elif status == codes.CLEARED:
        _info(response, code="A2", type_code="AFB")  # as the UK's DMSCLE
    elif status == codes.GOODS_EXITED:
        _info(response, code=codes.REASON_EXIT, text="Exit of the goods confirmed", type_code="CEX")
    for problem in step.get("problems") or ():
        error = _sub(response, "Error")
        _sub(error, "Description", _clean(problem["text"], 512))
        _sub(error, "ValidationCode", problem["code"][:8])
        _pointers(error, problem.get("pointer"))

    declaration = _sub(response, "Declaration")
    if status == codes.ACCEPTED:
        _datetime(declaration, "AcceptanceDateTime", issued_at)
    if conversation.get("lrn"):
        _sub(declaration, "FunctionalReferenceID", _clean(conversation["lrn"], 35))
    if conversation.get("mrn") and status not in {codes.RECEIVED, codes.REJECTED}:
        _sub(declaration, "ID", conversation["mrn"])
    if status == codes.REJECTED:
        _datetime(declaration, "RejectionDateTime", issued_at)
    _sub(declaration, "VersionID", str(conversation.get("version") or 1))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _b36(value: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        value, r = divmod(value, 36)
        out = digits[r] + out
        if not value:
            return out


def render_cusres(conversation: dict, step: dict, *, notification_id: str, issued_at: dt.datetime) -> bytes:
    """A CUSRES interchange answering a CUSDEC (ismit.documents.edifact_cusres)."""
    from ismit.documents.edifact_cusres import CusresError, build_cusres
    from ismit.documents.edifact_directory import latin1

    status = step["status"]
    errors = [CusresError(p["code"][:8], p["text"], p.get("item")) for p in step.get("problems") or ()][:50]
    if status == codes.QUERY and not errors:
        errors = [CusresError("NSW90001", step.get("text", ""), step.get("item"))]
    # What the window says beside a check or the exit: a text / code pair, as a query's question.
    if status == codes.GOODS_EXITED:
        errors = [CusresError(codes.REASON_EXIT, "Exit of the goods confirmed")]
    elif status in (codes.DOCUMENTS_REQUIRED, codes.CONTROL) and step.get("code"):
        errors = [CusresError(step["code"][:8], step.get("text", ""), step.get("item")), *errors][:50]
    country = (conversation.get("country") or "XX").upper()
    mrn = conversation.get("mrn") if status not in {codes.RECEIVED, codes.REJECTED} else ""
    text = build_cusres(
        declaration_reference=conversation.get("lrn") or "",
        status=codes.CUSRES_STATUSES[status],
        sender=[f"CUSTOMS-{country}", "ZZZ"],
        recipient=[latin1(conversation.get("sender") or "UNKNOWN")[:35], "ZZZ"],
        control_reference=("R" + _b36(int(notification_id[:16], 16)))[:14],
        prepared_at=issued_at,
        message_reference=conversation.get("message_reference") or "",
        customs_reference=mrn or "",
        errors=errors,
        # An error response only when something is wrong; what customs says beside a status is not an error.
        document="963" if step.get("problems") else "962" if status == codes.DOCUMENTS_REQUIRED else "961",
    )
    return text.encode("latin-1", errors="replace")


def render_json(conversation: dict, step: dict, *, notification_id: str, issued_at: dt.datetime) -> bytes:
    status = step["status"]
    body = {
        "notification_id": notification_id,
        "conversation_id": conversation["id"],
        "kind": conversation["kind"],
        "reference": conversation.get("lrn") or "",
        "status": status,
        "issued_at": issued_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "registration_number": conversation.get("mrn") if status == codes.ACCEPTED else None,
        "reasons": step.get("reasons") or [],
        "question": step.get("text") if status == codes.QUERY else None,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def render(
    conversation: dict, step: dict, *, notification_id: str, issued_at: dt.datetime, agency: str
) -> tuple[str, bytes]:
    """(content type, body) of the notification of `step` for `conversation`."""
    fmt = conversation["format"]
    if fmt == "wco":
        body = render_res(
            conversation, step, notification_id=notification_id, issued_at=issued_at, agency=agency
        )
    elif fmt == "cusdec":
        body = render_cusres(conversation, step, notification_id=notification_id, issued_at=issued_at)
    else:
        body = render_json(conversation, step, notification_id=notification_id, issued_at=issued_at)
    return CONTENT_TYPES[fmt], body
