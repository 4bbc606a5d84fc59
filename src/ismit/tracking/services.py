"""Writes of the tracking app: shipments and who may report on them, events (posted, polled, from customs),
what follows from them (derived state, checklist steps, alerts), notifications and share links."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ismit.accounts.actors import Actor
from ismit.accounts.models import Membership, Organisation
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.scoping import CHANGE
from ismit.outbox.services import enqueue
from ismit.refdata.models import Location
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import (
    Alert,
    AlertKind,
    AlertPreference,
    CarrierEndpoint,
    Classifier,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    ReferenceKind,
    ShareLink,
    Shipment,
    ShipmentAccess,
    ShipmentReference,
    ShipmentStatus,
    Subscription,
    WebhookEndpoint,
)
from ismit.trades.models import ChecklistStep, StepStatus, Trade
from ismit.trades.services import set_step_status

logger = logging.getLogger("ismit.tracking")

NOTIFICATION_TOPIC = "tracking.notification"
CUSTOMS_SOURCE = "customs"
PLATFORM_SOURCE = "platform"
STATUS_RANK = {s: n for n, s in enumerate(ShipmentStatus.values)}
#: customs statuses (ismit.customs) that hold the goods
CUSTOMS_HOLDS = {"query", "documents_required", "control"}
#: the trade's steps that are documents to have ready before the departure
DOCUMENT_STEPS = (
    "commercial_invoice",
    "packing_list",
    "licences",
    "certificate_of_origin",
    "export_declaration",
)


def shipment_path(shipment_id: int) -> str:
    """The path of a shipment's page (links in notifications)."""
    return f"/shipments/{shipment_id}/"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _require_change(actor: Actor, organisation_id: int) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(_("You may not change this organisation's shipments."))


# -- shipments --------------------------------------------------------------------------------------------


@dataclass
class ShipmentData:
    reference: str = ""
    trade_id: int | None = None
    carrier_booking_reference: str = ""
    transport_document_reference: str = ""
    equipment_references: list[str] = field(default_factory=list)
    route: list[str] = field(default_factory=list)
    planned_departure: dt.datetime | None = None
    planned_arrival: dt.datetime | None = None
    carrier_endpoint_id: int | None = None


def _check_route(data: ShipmentData, trade: Trade | None, errors: FieldErrors) -> list[str]:
    route = [str(code).strip().upper() for code in data.route if str(code).strip()]
    if not route and trade is not None:
        route = [trade.place_of_loading_id, trade.place_of_discharge_id]
    if len(route) < 2:
        errors.add("route", _("Give at least the place of loading and the destination (UN/LOCODEs)."))
        return route
    known = set(Location.objects.filter(code__in=route).values_list("code", flat=True))
    for n, code in enumerate(route):
        if code not in known:
            errors.add(f"route[{n}]", _("Unknown UN/LOCODE."))
    return route


def create_shipment(*, actor: Actor, organisation: Organisation, data: ShipmentData) -> Shipment:
    """A shipment to follow, of one of the organisation's trades or on its own."""
    _require_change(actor, organisation.pk)
    errors = FieldErrors()
    trade = None
    if data.trade_id is not None:
        trade = Trade.objects.filter(pk=data.trade_id, organisation_id=organisation.pk).first()
        if trade is None:
            errors.add("trade_id", _("No trade of your organisation has this number."))
    reference = (data.reference or "").strip() or (trade.reference if trade else "")
    if not reference:
        errors.add("reference", _("This field is required."))
    elif Shipment.objects.filter(organisation_id=organisation.pk, reference=reference).exists():
        errors.add("reference", _("A shipment with this reference exists already."))
    route = _check_route(data, trade, errors)
    containers = [c.strip().upper() for c in data.equipment_references if c.strip()]
    for n, container in enumerate(containers):
        problem = dm.container_fault(container)
        if problem:
            errors.add(f"equipment_references[{n}]", _(problem))
    booking = (data.carrier_booking_reference or "").strip()
    document = (data.transport_document_reference or "").strip()
    if not (booking or document or containers):
        errors.add(
            "carrier_booking_reference",
            _("Give a booking, transport document or container reference: events are found by it."),
        )
    endpoint = None
    if data.carrier_endpoint_id is not None:
        endpoint = CarrierEndpoint.objects.filter(pk=data.carrier_endpoint_id, active=True).first()
        if endpoint is None:
            errors.add("carrier_endpoint_id", _("Unknown carrier endpoint."))
    if data.planned_departure and data.planned_arrival and data.planned_arrival < data.planned_departure:
        errors.add("planned_arrival", _("The arrival cannot come before the departure."))
    errors.raise_if_any()
    with transaction.atomic():
        shipment = Shipment.objects.create(
            organisation=organisation,
            trade=trade,
            reference=reference[:40],
            route=route,
            port_of_loading=trade.place_of_loading_id if trade else route[0],
            port_of_discharge=trade.place_of_discharge_id if trade else route[-1],
            planned_departure=data.planned_departure,
            planned_arrival=data.planned_arrival,
            carrier_endpoint=endpoint,
            created_by=actor.user,
        )
        refs = [(ReferenceKind.BOOKING, booking), (ReferenceKind.TRANSPORT_DOCUMENT, document)]
        refs += [(ReferenceKind.EQUIPMENT, c) for c in dict.fromkeys(containers)]
        ShipmentReference.objects.bulk_create(
            [ShipmentReference(shipment=shipment, kind=k, value=v) for k, v in refs if v]
        )
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.shipment_created",
            obj=shipment,
            changes={"reference": shipment.reference, "trade": trade.pk if trade else None, "route": route},
        )
    return shipment


def grant_access(*, actor: Actor, shipment: Shipment, organisation: Organisation) -> ShipmentAccess:
    """Authorise a provider (carrier, forwarder) to see the shipment and to post its events."""
    _require_change(actor, shipment.organisation_id)
    if organisation.pk == shipment.organisation_id:
        raise ValidationError({"organisation": [_("Your own organisation has access already.")]})
    if not organisation.is_verified:
        raise ValidationError({"organisation": [_("Only a verified organisation can be authorised.")]})
    with transaction.atomic():
        try:
            with transaction.atomic():
                access = ShipmentAccess.objects.create(
                    shipment=shipment, organisation=organisation, granted_by=actor.user
                )
        except IntegrityError:
            raise ValidationError({"organisation": [_("This organisation is authorised already.")]})
        record_event(
            actor=actor,
            organisation_id=shipment.organisation_id,
            action="tracking.access_granted",
            obj=access,
            changes={"shipment": shipment.reference, "organisation": organisation.pk},
        )
    return access


def revoke_access(*, actor: Actor, access: ShipmentAccess) -> ShipmentAccess:
    _require_change(actor, access.shipment.organisation_id)
    with transaction.atomic():
        if access.revoked_at is None:
            access.revoked_at = timezone.now()
            access.save(update_fields=["revoked_at"])
            record_event(
                actor=actor,
                organisation_id=access.shipment.organisation_id,
                action="tracking.access_revoked",
                obj=access,
                changes={"shipment": access.shipment.reference, "organisation": access.organisation_id},
            )
    return access


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
    _require_change(actor, organisation.pk)
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
            _notify_subscribers(result.stored)
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
    threshold = dt.timedelta(hours=_setting("TRACKING_DELAY_HOURS", 24))
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
            _notify_subscribers(stored)
    return stored


# -- alerts ---------------------------------------------------------------------------------------------


def raise_alert(
    *, shipment: Shipment, kind: str, key: str, text: str, params: dict, details: dict | None = None
) -> Alert | None:
    """Raise an alert once per key: tell the members who want it (in-app, e-mail) and the organisation's
    webhooks. None when it was raised already.

    `text` is an untranslated message (marked with gettext_noop) with `{name}` fields filled from
    `params`: the alert is stored with both, and every reader gets it in their own language
    (Alert.localized_message); `message` keeps it in the platform's default language, for webhooks."""
    params = json.loads(json.dumps(params, cls=DjangoJSONEncoder))
    with translation.override(settings.LANGUAGE_CODE):
        stored = Alert.render(text, params)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                shipment=shipment,
                kind=kind,
                key=key[:200],
                message=stored,
                details=json.loads(
                    json.dumps({**(details or {}), "text": text, "params": params}, cls=DjangoJSONEncoder)
                ),
            )
    except IntegrityError:
        return None
    record_event(
        actor=None,
        organisation_id=shipment.organisation_id,
        action="tracking.alert_raised",
        obj=alert,
        changes={"shipment": shipment.reference, "kind": kind, "key": key},
    )
    _tell_members(
        shipment.organisation_id, kind, lazy(Alert.render, str)(text, params), shipment_path(shipment.pk)
    )
    _send_to_webhooks(alert, shipment)
    return alert


def _tell_members(organisation_id: int, kind: str, title, url: str) -> None:
    members = list(
        Membership.objects.filter(organisation_id=organisation_id, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    choices = {
        p.user_id: p for p in AlertPreference.objects.filter(organisation_id=organisation_id, kind=kind)
    }
    by_mail, in_app_only = [], []
    for user_id in members:
        choice = choices.get(user_id)
        if choice is None or (choice.in_app and choice.email):
            by_mail.append(user_id)
        elif choice.in_app:
            in_app_only.append(user_id)
    for user_ids, email in ((by_mail, True), (in_app_only, False)):
        if user_ids:
            notify(
                organisation_id=organisation_id,
                kind=f"tracking.{kind}",
                title=title,
                url=url,
                email=email,
                user_ids=user_ids,
            )


def _send_to_webhooks(alert: Alert, shipment: Shipment) -> None:
    hooks = [
        h
        for h in WebhookEndpoint.objects.filter(organisation_id=shipment.organisation_id, active=True)
        if not h.kinds or alert.kind in h.kinds
    ]
    if not hooks:
        return
    body = {
        "type": "alert",
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "message": alert.message,
            "details": alert.details,
            "createdAt": dm.format_time(alert.created_at),
        },
        "shipment": {
            "id": shipment.pk,
            "reference": shipment.reference,
            "status": shipment.status,
            "eta": dm.format_time(shipment.eta) if shipment.eta else None,
            "delayed": shipment.delayed,
        },
    }
    payload = json.dumps(body, cls=DjangoJSONEncoder).encode()
    for hook in hooks:
        _queue_delivery(
            organisation_id=shipment.organisation_id,
            key=f"tracking-alert:{hook.pk}:{alert.pk}",
            url=hook.url,
            payload=payload,
            summary=f"{alert.kind}: {shipment.reference}",
            webhook=hook,
        )


def _queue_delivery(
    *, organisation_id, key, url, payload, summary, subscription=None, webhook=None
) -> Delivery:
    delivery = Delivery.objects.create(
        organisation_id=organisation_id,
        subscription=subscription,
        webhook=webhook,
        idempotency_key=key,
        url=url,
        summary=summary[:200],
    )
    enqueue(
        topic=NOTIFICATION_TOPIC,
        payload=payload,
        idempotency_key=key,
        organisation_id=organisation_id,
        target=url,
    )
    return delivery


def _notify_subscribers(events: list[Event]) -> None:
    """One signed delivery per subscription with the new events it asks for (DCSA `{"events": [...]}`)."""
    shipment_ids = {e.shipment_id for e in events}
    owners = dict(Shipment.objects.filter(pk__in=shipment_ids).values_list("pk", "organisation_id"))
    readers: dict[int, set[int]] = defaultdict(set)  # organisation -> shipments it sees
    for pk, org in owners.items():
        readers[org].add(pk)
    for shipment_id, org in ShipmentAccess.objects.filter(
        shipment_id__in=shipment_ids, revoked_at__isnull=True
    ).values_list("shipment_id", "organisation_id"):
        readers[org].add(shipment_id)
    subscriptions = list(Subscription.objects.filter(organisation_id__in=list(readers)))
    if not subscriptions:
        return
    refs: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for shipment_id, kind, value in ShipmentReference.objects.filter(
        shipment_id__in=shipment_ids
    ).values_list("shipment_id", "kind", "value"):
        refs[shipment_id].add((kind, value))
    for sub in subscriptions:
        chosen = [
            e
            for e in events
            if e.shipment_id in readers[sub.organisation_id] and matches(sub.filters, e, refs[e.shipment_id])
        ]
        if not chosen:
            continue
        payload = json.dumps({"events": [e.raw for e in chosen]}, cls=DjangoJSONEncoder).encode()
        _queue_delivery(
            organisation_id=sub.organisation_id,
            key=f"tracking-sub:{sub.pk}:{chosen[0].pk}-{chosen[-1].pk}-{len(chosen)}",
            url=sub.callback_url,
            payload=payload,
            summary=f"{len(chosen)} event(s)",
            subscription=sub,
        )


def matches(filters: dict, event: Event, refs: set[tuple[str, str]]) -> bool:
    """Does the event pass a subscription's filters (AND between filters, OR within a list)?"""
    types = filters.get("eventTypes") or []
    if types and event.event_type not in types:
        return False
    for name, kind in (
        ("carrierBookingReference", "BKG"),
        ("transportDocumentReference", "TRD"),
        ("equipmentReference", "EQ"),
    ):
        value = filters.get(name)
        if value and (kind, value) not in refs:
            return False
    location = filters.get("UNLocationCode")
    if location and event.location != location:
        return False
    for name, event_type in (
        ("transportEventTypeCode", EventType.TRANSPORT),
        ("equipmentEventTypeCode", EventType.EQUIPMENT),
        ("shipmentEventTypeCode", EventType.SHIPMENT),
    ):
        codes = filters.get(name) or []
        if codes and (event.event_type != event_type or event.type_code not in codes):
            return False
    return True


def check_alerts(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """The periodic check: shipments in transit without news for N days, and documents not ready N days
    before the departure. Returns how many alerts were raised."""
    now = now or timezone.now()
    raised = 0
    silence = dt.timedelta(days=_setting("TRACKING_SILENCE_DAYS", 3))
    quiet = Shipment.objects.filter(status=ShipmentStatus.IN_TRANSIT, last_event_at__lt=now - silence)
    for shipment in quiet.order_by("last_event_at")[:batch]:
        days = (now - shipment.last_event_at).days
        with transaction.atomic():
            raised += bool(
                raise_alert(
                    shipment=shipment,
                    kind=AlertKind.SILENCE,
                    key=f"silence:{shipment.last_event_at.isoformat()}",
                    text=gettext_noop("{reference}: no news of the shipment for {days} days."),
                    params={"reference": shipment.reference, "days": days},
                    details={"last_event_at": shipment.last_event_at},
                )
            )
    cutoff = dt.timedelta(days=_setting("TRACKING_DOCUMENT_CUTOFF_DAYS", 2))
    soon = Shipment.objects.filter(
        status=ShipmentStatus.PLANNED,
        trade__isnull=False,
        planned_departure__isnull=False,
        planned_departure__lte=now + cutoff,
    )
    for shipment in soon.order_by("planned_departure")[:batch]:
        missing = ChecklistStep.objects.filter(trade_id=shipment.trade_id, code__in=DOCUMENT_STEPS).exclude(
            status__in=[StepStatus.DONE, StepStatus.NOT_NEEDED]
        )
        for step in missing:
            with transaction.atomic():
                raised += bool(
                    raise_alert(
                        shipment=shipment,
                        kind=AlertKind.MISSING_DOCUMENT,
                        key=f"missing_document:{step.code}",
                        text=gettext_noop(
                            "{reference}: step “{step}” is not done and the departure is {when}."
                        ),
                        params={
                            "reference": shipment.reference,
                            "step": step.code,
                            "when": dm.format_time(shipment.planned_departure),
                        },
                        details={"step": step.code, "planned_departure": shipment.planned_departure},
                    )
                )
    return raised


# -- subscriptions, webhooks, preferences ------------------------------------------------------------------

SUBSCRIPTION_FILTERS = (
    "eventTypes",
    "carrierBookingReference",
    "transportDocumentReference",
    "equipmentReference",
    "UNLocationCode",
    "transportEventTypeCode",
    "equipmentEventTypeCode",
    "shipmentEventTypeCode",
)


def _check_url(url: str, path: str, errors: FieldErrors) -> None:
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
        errors.add(path, _("Enter an http(s) URL of at most 500 characters."))


def _check_secret(secret, path: str, errors: FieldErrors) -> None:
    if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        errors.add(path, _("Enter a secret of 16 to 200 characters."))


def _subscription_filters(filters: dict, errors: FieldErrors) -> dict:
    """A subscription's filters, checked against the standard's query parameters."""
    clean = {}
    for name, value in (filters or {}).items():
        if name not in SUBSCRIPTION_FILTERS:
            errors.add(name, _("Unknown filter."))
        elif name.endswith("Codes") or name in (
            "eventTypes",
            "transportEventTypeCode",
            "equipmentEventTypeCode",
            "shipmentEventTypeCode",
        ):
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                errors.add(name, _("Enter a list of codes."))
            else:
                clean[name] = [v.strip() for v in items if v.strip()]
        elif not isinstance(value, str) or len(value) > 100:
            errors.add(name, _("Enter a text of at most 100 characters."))
        else:
            clean[name] = value
    bad = set(clean.get("eventTypes", [])) - {*dm.EVENT_TYPES, EventType.CUSTOMS, EventType.PLATFORM}
    if bad:
        errors.add("eventTypes", _("Unknown event type."))
    return clean


def create_subscription(
    *, actor: Actor, organisation: Organisation, callback_url: str, secret: str, filters: dict
) -> Subscription:
    _require_change(actor, organisation.pk)
    errors = FieldErrors()
    _check_url(callback_url, "callbackUrl", errors)
    _check_secret(secret, "secret", errors)
    clean = _subscription_filters(filters, errors)
    errors.raise_if_any()
    with transaction.atomic():
        sub = Subscription(
            organisation=organisation, callback_url=callback_url, filters=clean, created_by=actor.user
        )
        sub.set_secret(secret)
        sub.save()
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.subscription_created",
            obj=sub,
            changes={"callback_url": callback_url, "filters": clean},
        )
    return sub


def update_subscription(
    *, actor: Actor, subscription: Subscription, callback_url: str, filters: dict
) -> Subscription:
    """Replace a subscription's callback URL and filters (its secret has its own change)."""
    _require_change(actor, subscription.organisation_id)
    errors = FieldErrors()
    _check_url(callback_url, "callbackUrl", errors)
    clean = _subscription_filters(filters, errors)
    errors.raise_if_any()
    with transaction.atomic():
        before = {"callback_url": subscription.callback_url, "filters": subscription.filters}
        subscription.callback_url, subscription.filters = callback_url, clean
        subscription.save(update_fields=["callback_url", "filters"])
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_updated",
            obj=subscription,
            changes={
                "callback_url": [before["callback_url"], callback_url],
                "filters": [before["filters"], clean],
            },
        )
    return subscription


def change_subscription_secret(*, actor: Actor, subscription: Subscription, secret: str) -> None:
    """A new shared secret for the subscription's Notification-Signature (the old one stops at once)."""
    _require_change(actor, subscription.organisation_id)
    errors = FieldErrors()
    _check_secret(secret, "secret", errors)
    errors.raise_if_any()
    with transaction.atomic():
        subscription.set_secret(secret)
        subscription.save(update_fields=["secret_sealed"])
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_secret_changed",
            obj=subscription,
            changes={},
        )


def delete_subscription(*, actor: Actor, subscription: Subscription) -> None:
    _require_change(actor, subscription.organisation_id)
    with transaction.atomic():
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_deleted",
            obj=subscription,
            changes={"callback_url": subscription.callback_url},
        )
        subscription.delete()


def create_webhook(
    *, actor: Actor, organisation: Organisation, url: str, secret: str, kinds: list[str]
) -> WebhookEndpoint:
    _require_change(actor, organisation.pk)
    errors = FieldErrors()
    _check_url(url, "url", errors)
    _check_secret(secret, "secret", errors)
    if set(kinds) - set(AlertKind.values):
        errors.add("kinds", _("Unknown kind of alert."))
    errors.raise_if_any()
    with transaction.atomic():
        hook = WebhookEndpoint(organisation=organisation, url=url, kinds=list(kinds), created_by=actor.user)
        hook.set_secret(secret)
        hook.save()
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.webhook_created",
            obj=hook,
            changes={"url": url, "kinds": list(kinds)},
        )
    return hook


def delete_webhook(*, actor: Actor, webhook: WebhookEndpoint) -> None:
    _require_change(actor, webhook.organisation_id)
    with transaction.atomic():
        record_event(
            actor=actor,
            organisation_id=webhook.organisation_id,
            action="tracking.webhook_deleted",
            obj=webhook,
            changes={"url": webhook.url},
        )
        webhook.active = False
        webhook.save(update_fields=["active"])


def set_alert_preferences(
    *, actor: Actor, organisation: Organisation, choices: dict[str, dict[str, bool]]
) -> list[AlertPreference]:
    """The user's own choice, per kind of alert: {"delay": {"in_app": true, "email": false}, …}."""
    if organisation.pk not in actor.roles:
        raise Http404
    errors = FieldErrors()
    for kind in choices:
        if kind not in AlertKind.values:
            errors.add(kind, _("Unknown kind of alert."))
    errors.raise_if_any()
    with transaction.atomic():
        for kind, choice in choices.items():
            AlertPreference.objects.update_or_create(
                user=actor.user,
                organisation=organisation,
                kind=kind,
                defaults={
                    "in_app": bool(choice.get("in_app", True)),
                    "email": bool(choice.get("email", True)),
                },
            )
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.alert_preferences_set",
            object_type="accounts.user",
            object_id=actor.user.pk,
            changes=choices,
        )
    return list(AlertPreference.objects.filter(user=actor.user, organisation=organisation).order_by("kind"))


# -- deliveries (called by the outbox handler) ---------------------------------------------------------------


def record_attempt(*, key: str, status: str, status_code: int | None = None, error: str = "") -> None:
    now = timezone.now()
    fields = {"status": status, "last_status_code": status_code, "last_error": error[:4000]}
    if status == DeliveryStatus.DELIVERED:
        fields["delivered_at"] = now
    from django.db.models import F

    Delivery.objects.filter(idempotency_key=key).update(attempts=F("attempts") + 1, **fields)


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


# -- share links ---------------------------------------------------------------------------------------------

MAX_SHARE_DAYS = 90


def create_share_link(
    *, actor: Actor, shipment: Shipment, days: int = 14, label: str = ""
) -> tuple[ShareLink, str]:
    """A read-only link for the buyer; the token is shown once."""
    _require_change(actor, shipment.organisation_id)
    if not 1 <= days <= MAX_SHARE_DAYS:
        raise ValidationError({"days": [_("Between 1 and %(max)s days.") % {"max": MAX_SHARE_DAYS}]})
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        link = ShareLink.objects.create(
            shipment=shipment,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            hint=token[:6],
            label=label[:100],
            expires_at=timezone.now() + dt.timedelta(days=days),
            created_by=actor.user,
        )
        record_event(
            actor=actor,
            organisation_id=shipment.organisation_id,
            action="tracking.share_link_created",
            obj=link,
            changes={"shipment": shipment.reference, "expires_at": link.expires_at, "label": label},
        )
    return link, token


def revoke_share_link(*, actor: Actor, link: ShareLink) -> ShareLink:
    _require_change(actor, link.shipment.organisation_id)
    with transaction.atomic():
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            record_event(
                actor=actor,
                organisation_id=link.shipment.organisation_id,
                action="tracking.share_link_revoked",
                obj=link,
                changes={"shipment": link.shipment.reference},
            )
    return link


def open_share_link(*, token: str) -> Shipment:
    """The shipment of an active link (each opening is audited); 404 for an unknown, expired or revoked
    one."""
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    link = ShareLink.objects.select_related("shipment").filter(token_hash=digest).first()
    if link is None or not link.is_active:
        raise Http404
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
        record_event(
            actor=None,
            organisation_id=link.shipment.organisation_id,
            action="tracking.share_link_opened",
            obj=link,
            changes={"shipment": link.shipment.reference},
        )
    return link.shipment
