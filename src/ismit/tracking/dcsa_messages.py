"""DCSA Track & Trace 3.0 events: the product's own check of a message, and what a row keeps of an event.

The standard's schema requires nothing and lists its codes only in descriptions; a platform that moves
checklists from events needs more. An event is refused (with the JSONPath of the fault) when it lacks an
`eventID`, a valid `eventDateTime`, a known type and classifier with the code its type needs, a UN/LOCODE of
the right shape (a transport event needs one), a container number with a valid ISO 6346 check digit (an
equipment event needs one), or any booking, transport document or container reference; or when a value
breaks the standard's types and lengths.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from stdnum import iso6346
from stdnum.exceptions import ValidationError as StdnumError

API_VERSION = "3.0.0"
MAX_BATCH = 1000

EVENT_TYPES = ("SHIPMENT", "TRANSPORT", "EQUIPMENT", "IOT", "REEFER")
CLASSIFIERS = ("PLN", "EST", "ACT", "REQ")
TRANSPORT_CODES = ("ARRI", "DEPA")
EQUIPMENT_CODES = (
    "AVDO",
    "AVPU",
    "CROS",
    "CUSI",
    "CUSR",
    "CUSS",
    "DISC",
    "DROP",
    "GTIN",
    "GTOT",
    "INSP",
    "LOAD",
    "PICK",
    "RMVD",
    "RSEA",
    "STRP",
    "STUF",
)
SHIPMENT_CODES = (
    "AMCF",
    "AMCN",
    "AMDC",
    "AMPR",
    "AMRE",
    "APPR",
    "CACF",
    "CADC",
    "CANC",
    "CARE",
    "CMPL",
    "CONF",
    "DECL",
    "DRFT",
    "HOLD",
    "ISSU",
    "PENA",
    "PENM",
    "PENU",
    "PSAM",
    "PSDL",
    "RECE",
    "REJE",
    "RELS",
    "REQS",
    "SUAM",
    "SUBM",
    "SUDL",
    "SURR",
    "UPCF",
    "UPCN",
    "UPDC",
    "UPDT",
    "UPRE",
    "VOID",
)
#: the field of eventClassification that holds the code of each event type, and the codes it allows
TYPE_CODE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "TRANSPORT": ("transportEventTypeCode", TRANSPORT_CODES),
    "EQUIPMENT": ("equipmentEventTypeCode", tuple(EQUIPMENT_CODES)),
    "SHIPMENT": ("shipmentEventTypeCode", SHIPMENT_CODES),
    "IOT": ("iotEventTypeCode", ("DETC",)),
    "REEFER": ("reeferEventTypeCode", ("MEAS", "ADJU")),
}
BOOKING_TYPES = ("BKG", "CBR")
LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
# maxLength of the standard's string properties that the platform reads (JSONPath below the event).
MAX_LENGTHS = {
    ("eventID",): 500,
    ("eventDateTime",): 30,
    ("eventUpdatedDateTime",): 30,
    ("eventLocation", "locationName"): 100,
    ("eventLocation", "UNLocationCode"): 5,
    ("eventLocation", "facilityTypeCode"): 10,
    ("eventClassification", "eventClassifierCode"): 10,
    ("equipmentDetails", "equipmentReference"): 11,
    ("equipmentDetails", "ISOEquipmentCode"): 4,
    ("shipmentDetails", "documentReference", "reference"): 100,
    ("transportDetails", "changeRemark"): 250,
    ("transportDetails", "transportCall", "vesselTransport", "vesselName"): 50,
    ("transportDetails", "transportCall", "vesselTransport", "vesselIMONumber"): 8,
}
OBJECTS = (
    "eventRouting",
    "eventLocation",
    "eventClassification",
    "shipmentDetails",
    "transportDetails",
    "equipmentDetails",
    "iotDetails",
    "reeferDetails",
)


@dataclass
class Fault:
    path: str
    message: str

    def as_feedback(self) -> dict[str, str]:
        return {"severity": "ERROR", "message": self.message, "propertyPath": self.path}


class InvalidMessage(Exception):
    """The message breaks the standard (or the platform's rules for it): nothing of it is stored."""

    def __init__(self, faults: list[Fault]):
        super().__init__("; ".join(f"{f.path}: {f.message}" for f in faults[:5]))
        self.faults = faults


@dataclass
class Parsed:
    """What a row keeps of one event, and the references that find its shipment."""

    index: int
    event_id: str
    raw: dict
    event_type: str = ""
    classifier: str = ""
    type_code: str = ""
    event_datetime: dt.datetime | None = None
    event_updated_at: dt.datetime | None = None
    location: str = ""
    location_name: str = ""
    equipment_reference: str = ""
    vessel_name: str = ""
    voyage: str = ""
    is_retracted: bool = False
    bookings: list[str] = field(default_factory=list)
    transport_documents: list[str] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)

    @property
    def references(self) -> list[tuple[str, str]]:
        return (
            [("BKG", v) for v in self.bookings]
            + [("TRD", v) for v in self.transport_documents]
            + [("EQ", v) for v in self.equipment]
        )


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 date-time with its offset, or None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def container_fault(reference: str) -> str | None:
    """Why `reference` is not an ISO 6346 container number (None when it is one)."""
    try:
        iso6346.validate(reference)
    except StdnumError:
        if re.fullmatch(r"[A-Z]{3}[UJZR]\d{7}", reference or ""):
            return "The ISO 6346 check digit of this container number is wrong."
        return "Not an ISO 6346 container number (4 letters, 6 digits and a check digit)."
    return None


def events_of(document: Any) -> list[Any]:
    """The events of a POST body: `{"events": [...]}` as the standard has it, a JSON array of events, or
    one event object."""
    if isinstance(document, dict) and "events" in document:
        events = document["events"]
        if not isinstance(events, list):
            raise InvalidMessage([Fault("$.events", "Expected an array of events.")])
        return events
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and "eventID" in document:
        return [document]
    raise InvalidMessage([Fault("$", 'Send {"events": [...]}, a JSON array of events, or one event.')])


def _get(event: dict, path: tuple[str, ...]) -> Any:
    value: Any = event
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_events(document: Any) -> list[Parsed]:
    """Check every event of the message; the parsed events, or InvalidMessage with every fault."""
    events = events_of(document)
    if isinstance(document, dict) and "events" in document:
        prefix = "$.events"
    elif isinstance(document, list):
        prefix = "$"
    else:
        prefix = None  # one event object: its fields are at the top
    if not events:
        raise InvalidMessage([Fault(prefix or "$", "The message holds no event.")])
    if len(events) > MAX_BATCH:
        raise InvalidMessage([Fault(prefix or "$", f"Send at most {MAX_BATCH} events in one message.")])
    faults: list[Fault] = []
    parsed = []
    for index, event in enumerate(events):
        item = _parse_one(event, index, f"{prefix}[{index}]" if prefix else "$", faults)
        if item is not None:
            parsed.append(item)
    if faults:
        raise InvalidMessage(faults)
    return parsed


def _parse_one(event: Any, index: int, where: str, faults: list[Fault]) -> Parsed | None:
    if not isinstance(event, dict):
        faults.append(Fault(where, "An event is a JSON object."))
        return None
    before = len(faults)
    for path, limit in MAX_LENGTHS.items():
        value = _get(event, path)
        if value is not None and not isinstance(value, str):
            faults.append(Fault(f"{where}.{'.'.join(path)}", "Expected a string."))
        elif isinstance(value, str) and len(value) > limit:
            faults.append(Fault(f"{where}.{'.'.join(path)}", f"At most {limit} characters."))
    for name in OBJECTS:
        if name in event and not isinstance(event[name], dict):
            faults.append(Fault(f"{where}.{name}", "Expected an object."))
    event_id = event.get("eventID")
    if not isinstance(event_id, str) or not event_id.strip():
        faults.append(Fault(f"{where}.eventID", "The eventID is required."))
    retracted = event.get("isRetracted", False)
    if not isinstance(retracted, bool):
        faults.append(Fault(f"{where}.isRetracted", "Expected true or false."))
    updated_raw = event.get("eventUpdatedDateTime", event.get("eventCreatedDateTime"))
    updated = parse_time(updated_raw) if updated_raw is not None else None
    if updated_raw is not None and updated is None:
        faults.append(
            Fault(f"{where}.eventUpdatedDateTime", "Expected an RFC 3339 date-time with its time offset.")
        )
    if len(faults) > before:
        return None
    item = Parsed(index=index, event_id=event_id, raw=event, is_retracted=retracted)
    item.event_updated_at = updated
    if retracted:
        # "any event data other than the eventID is irrelevant": the earlier version says which shipment.
        return item
    when = parse_time(event.get("eventDateTime"))
    if when is None:
        faults.append(
            Fault(f"{where}.eventDateTime", "The eventDateTime is required (RFC 3339, with its offset).")
        )
    item.event_datetime = when
    item.event_updated_at = updated or when
    classification = event.get("eventClassification")
    if not isinstance(classification, dict):
        faults.append(Fault(f"{where}.eventClassification", "The eventClassification is required."))
        classification = {}
    else:
        kind = classification.get("eventTypeCode")
        if kind not in EVENT_TYPES:
            faults.append(
                Fault(
                    f"{where}.eventClassification.eventTypeCode",
                    f"Unknown eventTypeCode {kind!r}: use one of {', '.join(EVENT_TYPES)}.",
                )
            )
        else:
            item.event_type = kind
            code_field, codes = TYPE_CODE_FIELDS[kind]
            code = classification.get(code_field)
            if code not in codes:
                faults.append(
                    Fault(
                        f"{where}.eventClassification.{code_field}",
                        f"A {kind} event needs its {code_field}; {code!r} is not a code of the standard.",
                    )
                )
            item.type_code = _str(code)
        classifier = classification.get("eventClassifierCode")
        if classifier not in CLASSIFIERS:
            faults.append(
                Fault(
                    f"{where}.eventClassification.eventClassifierCode",
                    f"Unknown eventClassifierCode {classifier!r}: use PLN, EST, ACT or REQ.",
                )
            )
        item.classifier = _str(classifier)
    location = event.get("eventLocation") if isinstance(event.get("eventLocation"), dict) else {}
    code = location.get("UNLocationCode")
    if code is not None and (not isinstance(code, str) or not LOCODE.match(code)):
        faults.append(
            Fault(f"{where}.eventLocation.UNLocationCode", f"{code!r} is not a UN/LOCODE (e.g. NLRTM).")
        )
    elif code is None and item.event_type == "TRANSPORT":
        faults.append(
            Fault(f"{where}.eventLocation.UNLocationCode", "A transport event needs its UN/LOCODE.")
        )
    item.location = _str(code)
    item.location_name = _str(location.get("locationName"))
    equipment = event.get("equipmentDetails") if isinstance(event.get("equipmentDetails"), dict) else {}
    container = equipment.get("equipmentReference")
    if isinstance(container, str) and container:
        problem = container_fault(container)
        if problem:
            faults.append(Fault(f"{where}.equipmentDetails.equipmentReference", problem))
        item.equipment_reference = container
        item.equipment.append(container)
    elif item.event_type == "EQUIPMENT":
        faults.append(
            Fault(f"{where}.equipmentDetails.equipmentReference", "An equipment event needs its container.")
        )
    _references(event, item, where, faults)
    call = _get(event, ("transportDetails", "transportCall"))
    if isinstance(call, dict):
        item.vessel_name = _str(_get(call, ("vesselTransport", "vesselName")))
        item.voyage = _str(_get(call, ("exportVoyageNumberOrReference", "carrierVoyageNumber")))[:50]
    if not item.references:
        faults.append(
            Fault(
                f"{where}.shipmentDetails",
                "Give a booking (BKG), transport document (TRD) or container reference of the shipment.",
            )
        )
    return item


def _references(event: dict, item: Parsed, where: str, faults: list[Fault]) -> None:
    details = event.get("shipmentDetails")
    if not isinstance(details, dict):
        return
    documents = []
    if isinstance(details.get("documentReference"), dict):
        documents.append(("documentReference", details["documentReference"]))
    extra = details.get("additionalDocumentReferences")
    if extra is not None and not isinstance(extra, list):
        faults.append(Fault(f"{where}.shipmentDetails.additionalDocumentReferences", "Expected an array."))
    for n, ref in enumerate(extra if isinstance(extra, list) else []):
        documents.append((f"additionalDocumentReferences[{n}]", ref))
    for path, ref in documents:
        if not isinstance(ref, dict):
            faults.append(Fault(f"{where}.shipmentDetails.{path}", "Expected an object."))
            continue
        value, kind = ref.get("reference"), ref.get("typeCode")
        if not isinstance(value, str) or not value or len(value) > 100:
            faults.append(
                Fault(f"{where}.shipmentDetails.{path}.reference", "A reference of 1 to 100 characters.")
            )
            continue
        if kind in BOOKING_TYPES:
            item.bookings.append(value)
        elif kind == "TRD":
            item.transport_documents.append(value)
    shipment_refs = details.get("shipmentReferences")
    for n, ref in enumerate(shipment_refs if isinstance(shipment_refs, list) else []):
        if isinstance(ref, dict) and ref.get("typeCode") == "EQ" and isinstance(ref.get("reference"), str):
            problem = container_fault(ref["reference"])
            if problem:
                faults.append(Fault(f"{where}.shipmentDetails.shipmentReferences[{n}].reference", problem))
            elif ref["reference"] not in item.equipment:
                item.equipment.append(ref["reference"])
