"""The part of the UN/EDIFACT D96A directory the checker needs, read from the official XML directory.

edifact_directory.load_directory() builds it in memory from the folder the operator configures (see
standards.py); it can also be written once as JSON, to load faster:

    .venv/bin/python -m ismit.documents.edifact_build --source DIR/edifact/D96A --out d96a.json

What it keeps: the segment tables of INVOIC, CUSDEC and CUSRES (groups, order, status, repeats), the
definitions of every segment those tables use (elements, composites, status, representation) and the
code lists of their coded elements where the directory lists them (codes.xml; externally maintained
lists such as ISO 3166 countries or UN/ECE Rec 20 units are not in it). The service segments UNB, UNZ,
UNH, UNT and UNS are not in the XML directory: they are written out below from ISO 9735 syntax version 3
(the syntax D96A messages travel in), and their code lists come from service_codes_v3.xml.

The XML directory is php-edifact/edifact-mapping, LGPL-3.0: it and what is built from it stay outside
this repository.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

MESSAGES = ("INVOIC", "CUSDEC", "CUSRES")


def _simple(eid: str, required: bool, rep: str, name: str = "") -> dict:
    """A data element from an ISO 9735 representation such as "an..35", "n6" or "a1"."""
    kind, _, size = rep.partition("..")
    if size:
        return {"id": eid, "name": name, "required": required, "type": kind, "max": int(size)}
    kind = rep.rstrip("0123456789")
    return {"id": eid, "name": name, "required": required, "type": kind, "len": int(rep[len(kind) :])}


def _composite(cid: str, required: bool, name: str, *components: dict) -> dict:
    return {"id": cid, "name": name, "required": required, "components": list(components)}


# ISO 9735 syntax version 3 (1988, amended 1990): service segments of an interchange without
# functional groups.
SERVICE_SEGMENTS: dict[str, dict] = {
    "UNB": {
        "name": "interchangeHeader",
        "elements": [
            _composite(
                "S001",
                True,
                "syntaxIdentifier",
                _simple("0001", True, "a4", "syntaxIdentifier"),
                _simple("0002", True, "n1", "syntaxVersionNumber"),
            ),
            _composite(
                "S002",
                True,
                "interchangeSender",
                _simple("0004", True, "an..35", "senderIdentification"),
                _simple("0007", False, "an..4", "partnerIdentificationCodeQualifier"),
                _simple("0008", False, "an..14", "addressForReverseRouting"),
            ),
            _composite(
                "S003",
                True,
                "interchangeRecipient",
                _simple("0010", True, "an..35", "recipientIdentification"),
                _simple("0007", False, "an..4", "partnerIdentificationCodeQualifier"),
                _simple("0014", False, "an..14", "routingAddress"),
            ),
            _composite(
                "S004",
                True,
                "dateTimeOfPreparation",
                _simple("0017", True, "n6", "date"),
                _simple("0019", True, "n4", "time"),
            ),
            _simple("0020", True, "an..14", "interchangeControlReference"),
            _composite(
                "S005",
                False,
                "recipientsReferencePassword",
                _simple("0022", True, "an..14", "recipientsReferencePassword"),
                _simple("0025", False, "an2", "recipientsReferencePasswordQualifier"),
            ),
            _simple("0026", False, "an..14", "applicationReference"),
            _simple("0029", False, "a1", "processingPriorityCode"),
            _simple("0031", False, "n1", "acknowledgementRequest"),
            _simple("0032", False, "an..35", "communicationsAgreementIdentification"),
            _simple("0035", False, "n1", "testIndicator"),
        ],
    },
    "UNZ": {
        "name": "interchangeTrailer",
        "elements": [
            _simple("0036", True, "n..6", "interchangeControlCount"),
            _simple("0020", True, "an..14", "interchangeControlReference"),
        ],
    },
    "UNH": {
        "name": "messageHeader",
        "elements": [
            _simple("0062", True, "an..14", "messageReferenceNumber"),
            _composite(
                "S009",
                True,
                "messageIdentifier",
                _simple("0065", True, "an..6", "messageType"),
                _simple("0052", True, "an..3", "messageVersionNumber"),
                _simple("0054", True, "an..3", "messageReleaseNumber"),
                _simple("0051", True, "an..2", "controllingAgency"),
                _simple("0057", False, "an..6", "associationAssignedCode"),
            ),
            _simple("0068", False, "an..35", "commonAccessReference"),
            _composite(
                "S010",
                False,
                "statusOfTheTransfer",
                _simple("0070", True, "n..2", "sequenceOfTransfers"),
                _simple("0073", False, "a1", "firstAndLastTransfer"),
            ),
        ],
    },
    "UNT": {
        "name": "messageTrailer",
        "elements": [
            _simple("0074", True, "n..6", "numberOfSegmentsInTheMessage"),
            _simple("0062", True, "an..14", "messageReferenceNumber"),
        ],
    },
    "UNS": {"name": "sectionControl", "elements": [_simple("0081", True, "a1", "sectionIdentification")]},
}


def _is_required(node: ET.Element) -> bool:
    return node.get("required", "false").lower() == "true"


def _data_element(node: ET.Element) -> dict:
    out = {"id": node.get("id"), "name": node.get("name", ""), "required": _is_required(node)}
    out["type"] = node.get("type") or "an"
    if node.get("maxlength"):
        out["max"] = int(node.get("maxlength"))
    elif node.get("length"):
        out["len"] = int(node.get("length"))
    return out


def _segment(node: ET.Element) -> dict:
    elements = []
    for child in node:
        if child.tag == "composite_data_element":
            elements.append(
                {
                    "id": child.get("id"),
                    "name": child.get("name", ""),
                    "required": _is_required(child),
                    "components": [_data_element(d) for d in child],
                }
            )
        else:
            elements.append(_data_element(child))
    return {"name": node.get("name", ""), "elements": elements}


def _table(node: ET.Element) -> list:
    """Segment table: ["S", tag, max, required] and ["G", id, max, required, [children]]."""
    out = []
    for child in node:
        if child.tag == "segment":
            out.append(["S", child.get("id"), int(child.get("maxrepeat", "1")), _is_required(child)])
        elif child.tag == "group":
            out.append(
                ["G", child.get("id"), int(child.get("maxrepeat", "1")), _is_required(child), _table(child)]
            )
    return out


def _tags(table: list) -> set[str]:
    tags: set[str] = set()
    for row in table:
        if row[0] == "S":
            tags.add(row[1])
        else:
            tags |= _tags(row[4])
    return tags


def _element_ids(segment: dict) -> set[str]:
    ids: set[str] = set()
    for element in segment["elements"]:
        for simple in element.get("components", [element]):
            ids.add(simple["id"])
    return ids


def build(source: Path) -> dict:
    messages: dict[str, dict] = {}
    for name in MESSAGES:
        root = ET.parse(source / "messages" / f"{name.lower()}.xml").getroot()  # noqa: S314
        defaults = {d.get("id"): d.get("value") for d in root.find("defaults")}
        table = _table(root)
        messages[name] = {
            "identifier": [defaults[k] for k in ("0065", "0052", "0054", "0051")],
            "table": table,
        }

    wanted = set().union(*(_tags(m["table"]) for m in messages.values()))
    segments_root = ET.parse(source / "segments.xml").getroot()  # noqa: S314
    segments = {n.get("id"): _segment(n) for n in segments_root if n.get("id") in wanted}
    for tag, definition in SERVICE_SEGMENTS.items():
        segments[tag] = definition
    missing = wanted - set(segments)
    if missing:
        raise ValueError(f"segments without a definition: {sorted(missing)}")

    element_ids = set().union(*(_element_ids(s) for s in segments.values()))
    codes: dict[str, list[str]] = {}
    for path in (source / "codes.xml", source / "service_codes_v3.xml"):
        for node in ET.parse(path).getroot():  # noqa: S314
            values = [c.get("id") for c in node]
            if node.get("id") in element_ids and values:
                codes[node.get("id")] = values

    return {
        "directory": "D96A",
        "syntax_version": "3",
        "source": "UN/EDIFACT D96A, php-edifact/edifact-mapping (LGPL-3.0); service segments: ISO 9735 v3",
        "messages": messages,
        "segments": dict(sorted(segments.items())),
        "codes": dict(sorted(codes.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    directory = build(args.source)
    args.out.write_text(json.dumps(directory, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"wrote {args.out}: {len(directory['segments'])} segments, {len(directory['codes'])} code lists")


if __name__ == "__main__":
    main()
