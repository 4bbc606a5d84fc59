"""Events of shipments (posted, polled from carriers, from customs) and what follows from them: the
shipment's derived state, the trade's checklist steps."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import (
    AlertKind,
    CarrierEndpoint,
    Classifier,
    Event,
    EventType,
    Shipment,
    ShipmentAccess,
    ShipmentReference,
    ShipmentStatus,
)
from ismit.tracking.services.alerts import notify_subscribers, raise_alert
from ismit.tracking.services.base import CUSTOMS_HOLDS, CUSTOMS_SOURCE, STATUS_RANK, require_change, setting
from ismit.trades.models import ChecklistStep, StepStatus
from ismit.trades.services import set_step_status

# -- events ---------------------------------------------------------------------------------------------


class NoShipment(Exception):
    """Events that find no shipment the sender may report on (404: nothing is stored)."""

    def __init__(self, faults: list[dm.Fault]):
        super().__init__("; ".join(f"{f.path}: {f.message}" for f in faults[:5]))
        self.faults = faults


@dataclass
class IngestResult:
    stored: list[Event] = field(default_factory=list)
    duplicates: int = 0
    stale: int = 0
    feedback: list[dict] = field(default_factory=list)

    @property
    def shipments(self) -> set[int]:
        return {e.shipment_id for e in self.stored}


def postable_shipments(organisation_id: int):
    """Subquery of the shipments an organisation may post events for: its own, and those it is
    authorised on."""
    return Shipment.objects.filter(
        Q(organisation_id=organisation_id)
        | Q(
            pk__in=ShipmentAccess.objects.filter(
                organisation_id=organisation_id, revoked_at__isnull=True
            ).values("shipment_id")
        )
    ).values("pk")


def _resolve(parsed: list[dm.Parsed], allowed) -> dict[int, int]:
    """{index of the event: shipment id} by its references (a booking or document before a container;
    of two shipments, the newest)."""
    values = {value for item in parsed for _kind, value in item.references}
    if not values:
        return {}
    found: dict[tuple[str, str], int] = {}
    rows = ShipmentReference.objects.filter(value__in=values, shipment_id__in=allowed).values_list(
        "kind", "value", "shipment_id"
    )
    for kind, value, shipment_id in rows:
        key = (kind, value)
        found[key] = max(found.get(key, 0), shipment_id)
    result = {}
    for item in parsed:
        for ref in item.references:  # bookings and documents come first
            if ref in found:
                result[item.index] = found[ref]
                break
    return result


def post_events(*, actor: Actor, organisation: Organisation, document) -> IngestResult:
    """Events POSTed by a carrier or forwarder (DCSA T&T 3.0), all of them or none.

    InvalidMessage (400) when the message breaks the standard; NoShipment (404) when an event finds no
    shipment the organisation may report on (its own, or one it is authorised on)."""
    require_change(actor, organisation.pk)
    parsed = dm.parse_events(document)
    return ingest(
        parsed=parsed,
        source=f"org:{organisation.pk}",
        allowed=postable_shipments(organisation.pk),
        organisation=organisation,
        actor=actor,
    )


def ingest(
    *,
    parsed: list[dm.Parsed],
    source: str,
    allowed,
    organisation: Organisation | None,
    actor: Actor | None,
) -> IngestResult:
    """Store the new versions of these events (duplicates and older versions are skipped), in one
    transaction with what follows from them."""
    result = IngestResult()
    with transaction.atomic():
        ids = list({item.event_id for item in parsed})
        latest: dict[str, tuple[dt.datetime, int, int]] = {}
        for pk, event_id, updated, shipment_id in Event.objects.filter(
            source=source, event_id__in=ids
        ).values_list("pk", "event_id", "event_updated_at", "shipment_id"):
            if event_id not in latest or updated > latest[event_id][0]:
                latest[event_id] = (updated, pk, shipment_id)
        shipments = _resolve([p for p in parsed if not p.is_retracted], allowed)
        faults = []
        for item in parsed:
            if item.is_retracted:
                if item.event_id not in latest:
                    result.feedback.append(
                        {
                            "severity": "WARN",
                            "message": "Unknown eventID: nothing to retract.",
                            "propertyPath": f"$.events[{item.index}]",
                        }
                    )
                continue
            if item.index not in shipments:
                faults.append(
                    dm.Fault(
                        f"$.events[{item.index}].shipmentDetails",
                        "No shipment you may report on has these references.",
                    )
                )
        if faults:
            raise NoShipment(faults)
        # Versions of one eventID in the order they were issued: each supersedes the one before.
        order = sorted(parsed, key=lambda p: (p.event_id, p.event_updated_at or timezone.now()))
        pending: list[tuple[Event, str | None]] = []  # (row, eventID of the same batch it supersedes)
        batch_latest: dict[str, dt.datetime] = {}
        now = timezone.now()
        for item in order:
            if item.is_retracted and item.event_id not in latest:
                continue
            previous = latest.get(item.event_id)
            updated = item.event_updated_at or now
            seen = batch_latest.get(item.event_id) or (previous[0] if previous else None)
            if seen is not None and updated <= seen:
                if updated == seen:
                    result.duplicates += 1
                else:
                    result.stale += 1
                    result.feedback.append(
                        {
                            "severity": "INFO",
                            "message": "A later version of this event is recorded already.",
                            "propertyPath": f"$.events[{item.index}]",
                        }
                    )
                continue
            row = _row(item, source, organisation, shipments, previous, updated, now)
            in_batch = item.event_id in batch_latest
            if not in_batch and previous is not None:
                row.supersedes_id = previous[1]
            pending.append((row, item.event_id if in_batch else None))
            batch_latest[item.event_id] = updated
        result.stored = _insert(pending)
        touched = defaultdict(list)
        for event in result.stored:
            touched[event.shipment_id].append(event)
        by_owner: dict[int, list[Shipment]] = defaultdict(list)
        for shipment in Shipment.objects.filter(pk__in=list(touched)).select_related("trade"):
            refresh_shipment(shipment=shipment, new_events=touched[shipment.pk])
            by_owner[shipment.organisation_id].append(shipment)
        # One audit event per batch (per owner organisation: each reads its own log).
        for organisation_id, shipments in by_owner.items():
            record_event(
                actor=actor,
                organisation_id=organisation_id,
                action="tracking.events_received",
                obj=shipments[0] if len(shipments) == 1 else None,
                object_type="" if len(shipments) == 1 else "tracking.shipment",
                changes={
                    "source": source,
                    "count": sum(len(touched[s.pk]) for s in shipments),
                    "shipments": {s.reference: len(touched[s.pk]) for s in shipments[:50]},
                    "event_ids": [e.event_id for s in shipments for e in touched[s.pk]][:20],
                    "duplicates": result.duplicates,
                    "stale": result.stale,
                },
            )
        if result.stored:
            notify_subscribers(result.stored)
    return result


def _row(item, source, organisation, shipments, previous, updated, now) -> Event:
    raw = item.raw
    if "eventUpdatedDateTime" not in raw:
        raw = {**raw, "eventUpdatedDateTime": dm.format_time(updated)}
    if item.is_retracted:
        base = Event.objects.get(pk=previous[1])
        return Event(
            shipment_id=base.shipment_id,
            source=source,
            event_id=item.event_id,
            event_type=base.event_type,
            classifier=base.classifier,
            type_code=base.type_code,
            event_datetime=base.event_datetime,
            event_updated_at=updated,
            received_at=now,
            location=base.location,
            equipment_reference=base.equipment_reference,
            is_retracted=True,
            posted_by_organisation=organisation,
            raw=raw,
        )
    return Event(
        shipment_id=shipments[item.index],
        source=source,
        event_id=item.event_id,
        event_type=item.event_type,
        classifier=item.classifier,
        type_code=item.type_code,
        event_datetime=item.event_datetime,
        event_updated_at=updated,
        received_at=now,
        location=item.location,
        location_name=item.location_name[:100],
        equipment_reference=item.equipment_reference,
        vessel_name=item.vessel_name[:50],
        voyage=item.voyage,
        posted_by_organisation=organisation,
        raw=raw,
    )


def _insert(pending: list[tuple[Event, str | None]]) -> list[Event]:
    """Write the new rows; a version superseding another of the same batch points at it.

    On PostgreSQL: ids drawn from the sequence in one query, then one COPY (no per-row SQL, no array
    parameters to escape); elsewhere bulk_create in rounds, a superseding version after the one it
    supersedes."""
    if not pending:
        return []
    if connection.vendor == "postgresql":
        return _copy_rows(pending)
    stored: list[Event] = []
    last_of: dict[str, Event] = {}
    rounds: list[list[tuple[Event, str | None]]] = []
    depth: dict[str, int] = {}
    for row, chained in pending:
        level = depth.get(row.event_id, -1) + 1 if chained else 0
        depth[row.event_id] = level
        while len(rounds) <= level:
            rounds.append([])
        rounds[level].append((row, chained))
    for batch in rounds:
        for row, chained in batch:
            if chained:
                row.supersedes_id = last_of[row.event_id].pk
        created = Event.objects.bulk_create([row for row, _ in batch])
        for row in created:
            last_of[row.event_id] = row
        stored.extend(created)
    return stored


EVENT_COLUMNS = tuple(
    f.column for f in Event._meta.concrete_fields
)  # the order of COPY's columns and of _copy_values


def _copy_values(row: Event) -> tuple:
    values = []
    for f in Event._meta.concrete_fields:
        value = getattr(row, f.attname)
        values.append(json.dumps(value, cls=DjangoJSONEncoder) if f.attname == "raw" else value)
    return tuple(values)


def _copy_rows(pending: list[tuple[Event, str | None]]) -> list[Event]:
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Event._meta.db_table, len(pending)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        last_of: dict[str, int] = {}
        rows = []
        for (row, chained), pk in zip(pending, ids, strict=True):
            row.pk = pk
            if chained:
                row.supersedes_id = last_of[row.event_id]
            last_of[row.event_id] = pk
            row._state.adding = False
            row._state.db = connection.alias
            rows.append(row)
        columns = ", ".join(connection.ops.quote_name(c) for c in EVENT_COLUMNS)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_copy_values(row))
    return rows


def current_events(shipment_id: int):
    """The current version of each event of the shipment (none supersedes it; retracted ones left out)."""
    return Event.objects.filter(shipment_id=shipment_id, is_retracted=False).exclude(
        Exists(Event.objects.filter(supersedes_id=OuterRef("pk")))
    )


# -- what follows from the events -------------------------------------------------------------------------


def estimated_arrival(shipment: Shipment) -> Event | None:
    """The arrival at the destination: the actual one, else the latest estimate (the one issued last),
    else the plan."""
    arrivals = list(
        current_events(shipment.pk)
        .filter(
            event_type=EventType.TRANSPORT,
            type_code="ARRI",
            location__in={shipment.destination, shipment.port_of_discharge},
        )
        .only("event_datetime", "event_updated_at", "classifier", "location")
    )
    final = [e for e in arrivals if e.location == shipment.destination] or arrivals
    for classifier in (Classifier.ACTUAL, Classifier.ESTIMATED, Classifier.PLANNED):
        found = [e for e in final if e.classifier == classifier]
        if found:
            return max(found, key=lambda e: (e.event_updated_at, e.pk))
    return None


def _milestones(shipment: Shipment, event: Event) -> list[tuple[str, str]]:
    """(step code, note) that an actual event completes."""
    if event.classifier != Classifier.ACTUAL:
        return []
    code, where = event.type_code, event.location
    moves = []
    origin_side = {shipment.origin, shipment.port_of_loading}
    destination_side = {shipment.destination, shipment.port_of_discharge}
    if event.event_type == EventType.EQUIPMENT:
        if code in ("GTIN", "LOAD") and where in origin_side:
            moves.append(("handover_to_carrier", _("Container %(c)s handed over at %(l)s.")))
        if code == "CUSR" and where in destination_side:
            moves.append(("import_release", _("Container %(c)s released by customs at %(l)s.")))
        if code in ("GTOT", "STRP") and where == shipment.destination and _has_arrived(shipment, event):
            moves.append(("delivered", _("Container %(c)s delivered at %(l)s.")))
    elif event.event_type == EventType.TRANSPORT:
        if code == "DEPA" and where == shipment.port_of_loading:
            moves.append(("departed", _("Departed from %(l)s.")))
        if code == "ARRI" and where == shipment.port_of_discharge:
            moves.append(("arrived", _("Arrived at %(l)s.")))
    elif event.event_type == EventType.SHIPMENT and code == "CONF":
        moves.append(("carriage_booked", _("Booking confirmed by the carrier.")))
    values = {"c": event.equipment_reference, "l": where}
    return [(step, note % values) for step, note in moves]


def _has_arrived(shipment: Shipment, event: Event) -> bool:
    return shipment.status in (ShipmentStatus.ARRIVED, ShipmentStatus.DELIVERED) or (
        shipment.destination != shipment.port_of_discharge
    )


def _status_of(shipment: Shipment, event: Event) -> str | None:
    if event.classifier != Classifier.ACTUAL:
        return None
    if event.event_type == EventType.TRANSPORT and event.type_code == "ARRI":
        return (
            ShipmentStatus.ARRIVED
            if event.location == shipment.port_of_discharge
            else ShipmentStatus.IN_TRANSIT
        )
    if event.event_type in (EventType.TRANSPORT, EventType.EQUIPMENT) and event.type_code in (
        "DEPA",
        "LOAD",
        "GTIN",
    ):
        return ShipmentStatus.IN_TRANSIT
    if (
        event.event_type == EventType.EQUIPMENT
        and event.type_code in ("GTOT", "STRP")
        and (event.location == shipment.destination and shipment.status == ShipmentStatus.ARRIVED)
    ):
        return ShipmentStatus.DELIVERED
    return None


def refresh_shipment(*, shipment: Shipment, new_events: Iterable[Event] = ()) -> Shipment:
    """Recompute the shipment's derived state (ETA, delay, last seen), move the trade's steps, raise the
    alerts that the new events call for. Inside the caller's transaction."""
    new_events = sorted(new_events, key=lambda e: (e.event_datetime, e.pk))
    for event in new_events:
        status = _status_of(shipment, event)
        if status and STATUS_RANK[status] > STATUS_RANK[shipment.status]:
            shipment.status = status
    # New events that replace nothing only add to what is known: the ETA changes only with a new arrival
    # at the destination, the last position only with a later actual event (no query for either).
    corrects = any(e.supersedes_id or e.is_retracted for e in new_events)
    arrivals = {shipment.destination, shipment.port_of_discharge}
    old_eta = shipment.eta
    if corrects or any(
        e.event_type == EventType.TRANSPORT and e.type_code == "ARRI" and e.location in arrivals
        for e in new_events
    ):
        arrival = estimated_arrival(shipment)
        shipment.eta = arrival.event_datetime if arrival else None
        shipment.eta_classifier = arrival.classifier if arrival else ""
    if corrects:
        latest = (
            current_events(shipment.pk)
            .filter(classifier=Classifier.ACTUAL)
            .exclude(location="")
            .order_by("-event_datetime", "-pk")
            .values_list("event_datetime", "location")
            .first()
        )
    else:
        seen = [e for e in new_events if e.classifier == Classifier.ACTUAL and e.location]
        latest = max(seen, key=lambda e: (e.event_datetime, e.pk), default=None)
        if latest is not None and shipment.last_event_at and latest.event_datetime < shipment.last_event_at:
            latest = None
        latest = (latest.event_datetime, latest.location) if latest else None
    if latest:
        shipment.last_event_at, shipment.last_location = latest
    threshold = dt.timedelta(hours=setting("TRACKING_DELAY_HOURS", 24))
    slip = (shipment.eta - shipment.planned_arrival) if shipment.eta and shipment.planned_arrival else None
    shipment.delayed = bool(slip and slip > threshold and shipment.status != ShipmentStatus.DELIVERED)
    shipment.updated_at = timezone.now()
    shipment.save(
        update_fields=[
            "status",
            "eta",
            "eta_classifier",
            "delayed",
            "last_event_at",
            "last_location",
            "updated_at",
        ]
    )
    if shipment.trade_id:
        for event in new_events:
            for code, note in _milestones(shipment, event):
                _complete_step(shipment, code, note, event)
    if shipment.delayed and slip is not None and shipment.eta != old_eta:
        steps = int(slip / threshold)
        raise_alert(
            shipment=shipment,
            kind=AlertKind.DELAY,
            key=f"delay:{steps}",
            text=gettext_noop("{reference}: arrival now expected {eta}, {hours} hours after the plan."),
            params={
                "reference": shipment.reference,
                "eta": dm.format_time(shipment.eta),
                "hours": int(slip.total_seconds() // 3600),
            },
            details={"eta": shipment.eta, "planned_arrival": shipment.planned_arrival},
        )
    for event in new_events:
        _exceptions_of(shipment, event)
    return shipment


def _complete_step(shipment: Shipment, code: str, note: str, event: Event) -> None:
    step = ChecklistStep.objects.filter(trade_id=shipment.trade_id, code=code).first()
    if step is None or step.status in (StepStatus.DONE, StepStatus.NOT_NEEDED):
        return
    set_step_status(
        actor=None,
        step=step,
        status=StepStatus.DONE,
        note=note,
        acting_organisation=event.posted_by_organisation,
    )


def _exceptions_of(shipment: Shipment, event: Event) -> None:
    """Customs holds and missed connections that one new event shows."""
    held = (
        (event.event_type == EventType.EQUIPMENT and event.type_code in ("CUSI", "CUSS"))
        or (event.event_type == EventType.SHIPMENT and event.type_code == "HOLD")
        or (event.event_type == EventType.CUSTOMS and event.type_code in CUSTOMS_HOLDS)
    )
    if held and event.classifier == Classifier.ACTUAL:
        raise_alert(
            shipment=shipment,
            kind=AlertKind.CUSTOMS_HOLD,
            key=f"customs_hold:{event.source}:{event.event_id}"[:200],
            text=gettext_noop("{reference}: held by customs at {place} ({code})."),
            params={"reference": shipment.reference, "place": event.location or "—", "code": event.type_code},
            details={"event_id": event.event_id, "code": event.type_code},
        )
    transshipment = set(shipment.route[1:-1]) - {shipment.port_of_loading, shipment.port_of_discharge}
    if (
        event.event_type == EventType.TRANSPORT
        and event.type_code == "DEPA"
        and event.classifier == Classifier.ACTUAL
        and event.location in transshipment
    ):
        # The vessel left the transshipment port: was the container, discharged there, loaded again?
        events = current_events(shipment.pk).filter(
            event_type=EventType.EQUIPMENT, classifier=Classifier.ACTUAL, location=event.location
        )
        discharged = events.filter(type_code="DISC", event_datetime__lte=event.event_datetime).exists()
        loaded = events.filter(type_code="LOAD", event_datetime__lte=event.event_datetime).exists()
        if discharged and not loaded:
            raise_alert(
                shipment=shipment,
                kind=AlertKind.MISSED_CONNECTION,
                key=f"missed_connection:{event.location}:{event.vessel_name}",
                text=gettext_noop("{reference}: the container missed its connection at {place}."),
                params={"reference": shipment.reference, "place": event.location},
                details={"event_id": event.event_id, "vessel": event.vessel_name},
            )


def record_customs_event(*, declaration_event) -> list[Event]:
    """A customs answer (ismit.customs DeclarationEvent, applied) on the timeline of the trade's shipments."""
    declaration = declaration_event.declaration
    if declaration is None or not declaration_event.status:
        return []
    shipments = list(Shipment.objects.filter(trade_id=declaration.trade_id).select_related("trade"))
    if not shipments:
        return []
    trade = shipments[0].trade
    place = trade.place_of_loading_id if declaration.kind == "export" else trade.place_of_discharge_id
    when = declaration_event.received_at
    event_id = f"declaration-event-{declaration_event.pk}"
    raw = {
        "eventID": event_id,
        "eventDateTime": dm.format_time(when),
        "eventUpdatedDateTime": dm.format_time(when),
        "eventLocation": {"UNLocationCode": place},
        "eventClassification": {
            "eventTypeCode": EventType.CUSTOMS,
            "eventClassifierCode": Classifier.ACTUAL,
            "customsStatus": declaration_event.status,
        },
        "shipmentDetails": {"documentReference": {"typeCode": "CUC", "reference": declaration.mrn or ""}},
    }
    stored = []
    with transaction.atomic():
        for shipment in shipments:
            if Event.objects.filter(source=CUSTOMS_SOURCE, event_id=event_id, shipment=shipment).exists():
                continue
            event = Event.objects.create(
                shipment=shipment,
                source=CUSTOMS_SOURCE,
                event_id=event_id,
                event_type=EventType.CUSTOMS,
                classifier=Classifier.ACTUAL,
                type_code=declaration_event.status[:20],
                event_datetime=when,
                event_updated_at=when,
                location=place,
                raw=raw,
            )
            refresh_shipment(shipment=shipment, new_events=[event])
            stored.append(event)
        if stored:
            notify_subscribers(stored)
    return stored


# -- carrier endpoints (operators) ------------------------------------------------------------------------


def add_carrier_endpoint(
    *, organisation: Organisation, name: str, base_url: str, token: str, page_size: int = 100
) -> CarrierEndpoint:
    """Configure (or update, by name) a carrier's DCSA endpoint that the platform polls."""
    with transaction.atomic():
        endpoint = CarrierEndpoint.objects.filter(
            organisation=organisation, name=name
        ).first() or CarrierEndpoint(organisation=organisation, name=name)
        endpoint.base_url = base_url.rstrip("/")
        endpoint.page_size = page_size
        endpoint.active = True
        endpoint.set_token(token)
        endpoint.save()
        record_event(
            actor=None,
            organisation_id=organisation.pk,
            action="tracking.carrier_endpoint_set",
            obj=endpoint,
            changes={"name": name, "base_url": endpoint.base_url},
        )
    return endpoint
