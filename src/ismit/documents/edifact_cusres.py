"""CUSRES D96A, the customs response to a CUSDEC: built by the single window simulator, read by the platform.

The message, as both sides use it (a profile of the D96A CUSRES segment table):

    UNH ... CUSRES:D:96A:UN
    BGM+961 (general response), 962 (document response) or 963 (error response)+<response number>+9
    DTM+137:<CCYYMMDDHHMM>:203                    when customs answered
    GIS+<status>                                  UNTDID 7365; "exited" is EXI::ZZZ (no 7365 code for it)
    FTX+AAO+++<text>                              one per error, in the order of the errors (at most 5)
    ERP+<section>:<goods item>  ERC+<error code>  SG1, one per error (at most 50)
    RFF+ABE:<declarant's reference>               SG5: the reference of the CUSDEC answered (BGM 1004)
    RFF+ACW:<message reference>                   the CUSDEC's UNH reference (its interchange reference)
    RFF+ABT:<customs declaration number>          the number customs assigned (MRN), once it has one
    UNT

Pure Python (no Django), like edifact_directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ismit.documents.edifact_directory import (
    assert_valid,
    chunks,
    component,
    latin1,
    messages_of,
    parse_segments,
    segment,
    write_interchange,
)

# Our statuses -> GIS 7365 "processing indicator" codes (UNTDID D96A).
STATUS_CODES: dict[str, str] = {
    "received": "17",  # Message received
    "accepted": "1",  # Message content accepted
    "rejected": "2",  # Message content rejected with comment
    "query": "30",  # Transaction will not be processed until action is taken by sender
    "documents_required": "6",  # All documents or as specified to be produced
    "examination": "5",  # Goods required for examination
    "released": "4",  # Goods released
    "exited": "EXI",  # not in 7365: a mutually defined code (agency ZZZ)
}
_STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
_MUTUALLY_DEFINED = {"EXI"}
MAX_ERROR_TEXTS = 5  # FTX repeats at most 5 times in the CUSRES heading


@dataclass(frozen=True)
class CusresError:
    code: str  # application error code (ERC 9321, an..8)
    text: str  # what is wrong, in plain language (FTX AAO, up to 350 characters)
    item: int | None = None  # the goods item (CUSDEC CST number) it concerns; None: the declaration


def build_cusres(
    *,
    declaration_reference: str,
    status: str,
    sender: Sequence[str],
    recipient: Sequence[str],
    control_reference: str,
    prepared_at: dt.datetime | None = None,
    message_reference: str = "",
    customs_reference: str = "",
    errors: Sequence[CusresError] = (),
    document: str = "",
) -> str:
    """A CUSRES interchange answering the declaration `declaration_reference` with `status`
    (a key of STATUS_CODES). `message_reference` is the UNH reference of the CUSDEC answered; `document`
    the BGM 1001 code (UNCL 1001: 961 general, 962 document, 963 error response), by default 963 with
    errors and 961 without."""
    if status not in STATUS_CODES:
        raise ValueError(f"unknown CUSRES status {status!r}: one of {', '.join(STATUS_CODES)}")
    if len(errors) > 50:
        raise ValueError("at most 50 errors in one CUSRES")
    at = prepared_at or dt.datetime.now(dt.UTC)
    code = STATUS_CODES[status]
    document = document or ("963" if errors else "961")
    body = [
        segment("BGM", [document], (customs_reference or control_reference)[:35], "9"),
        segment("DTM", ["137", f"{at:%Y%m%d%H%M}", "203"]),
        segment("GIS", [code, "", "ZZZ"] if code in _MUTUALLY_DEFINED else [code]),
    ]
    for error in errors[:MAX_ERROR_TEXTS]:
        body.append(segment("FTX", "AAO", None, None, chunks(latin1(error.text).strip(), 70, 5)))
    for error in errors:
        section, item = ("10", str(error.item)) if error.item is not None else ("1", "")
        body += [segment("ERP", [section, item]), segment("ERC", [latin1(error.code)[:8]])]
    body.append(segment("RFF", ["ABE", latin1(declaration_reference)[:35]]))
    if message_reference:
        body.append(segment("RFF", ["ACW", latin1(message_reference)[:35]]))
    if customs_reference:
        body.append(segment("RFF", ["ABT", latin1(customs_reference)[:35]]))
    return write_interchange(
        [(control_reference, ("CUSRES", "D", "96A", "UN"), body)],
        sender=list(sender),
        recipient=list(recipient),
        control_reference=control_reference,
        prepared_at=at,
        application_reference="CUSRES",
    )


def _datetime(value: str, fmt: str) -> dt.datetime | None:
    patterns = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
    try:
        return dt.datetime.strptime(value, patterns[fmt]).replace(tzinfo=dt.UTC)
    except (KeyError, ValueError):
        return None


def parse_cusres(data: bytes | str, *, validate: bool = True) -> dict:
    """The answer a CUSRES carries, as a dict:

    reference (declarant's reference of the CUSDEC answered), message_reference (its UNH reference),
    customs_reference (MRN, "" until assigned), status (a key of STATUS_CODES, or None for a code we do
    not know), status_code (GIS 7365 as received), document (BGM 1001), response_number (BGM 1004),
    issued_at (aware datetime or None), errors ([{code, item, text}]), texts (every FTX text),
    interchange_reference, response_reference (the CUSRES's own UNH reference), sender, recipient.

    With `validate` (the default) the interchange is checked against the D96A directory first and
    InvalidInterchange is raised when it does not conform."""
    if validate:
        assert_valid(data)
    segments = parse_segments(data)
    unb = next((s for s in segments if s.tag == "UNB"), None)
    messages = [m for m in messages_of(segments) if component(m[0], 1, 0) == "CUSRES"]
    if unb is None or not messages:
        raise ValueError("no CUSRES message in the interchange")
    message = messages[0]
    out: dict = {
        "interchange_reference": component(unb, 4),
        "sender": component(unb, 1, 0),
        "recipient": component(unb, 2, 0),
        "response_reference": component(message[0], 0),
        "document": "",
        "response_number": "",
        "issued_at": None,
        "status": None,
        "status_code": "",
        "reference": "",
        "message_reference": "",
        "customs_reference": "",
        "errors": [],
        "texts": [],
    }
    references = {"ABE": "reference", "ACW": "message_reference", "ABT": "customs_reference"}
    error_texts: list[str] = []
    for seg in message:
        if seg.tag == "BGM":
            out["document"], out["response_number"] = component(seg, 0, 0), component(seg, 1)
        elif seg.tag == "DTM" and component(seg, 0, 0) == "137":
            out["issued_at"] = _datetime(component(seg, 0, 1), component(seg, 0, 2))
        elif seg.tag == "GIS" and not out["status_code"]:
            out["status_code"] = component(seg, 0, 0)
            out["status"] = _STATUS_NAMES.get(out["status_code"])
        elif seg.tag == "FTX":
            value = seg.elements[3] if len(seg.elements) > 3 else ""
            text = "".join(value) if isinstance(value, list) else value
            out["texts"].append(text)
            if component(seg, 0) == "AAO":
                error_texts.append(text)
        elif seg.tag == "ERP":
            item = component(seg, 0, 1)
            out["errors"].append({"code": "", "item": int(item) if item.isdigit() else None, "text": ""})
        elif seg.tag == "ERC" and out["errors"]:
            out["errors"][-1]["code"] = component(seg, 0, 0)
        elif seg.tag == "RFF" and component(seg, 0, 0) in references:
            out[references[component(seg, 0, 0)]] = component(seg, 0, 1)
    for error, text in zip(out["errors"], error_texts, strict=False):
        error["text"] = text
    return out
