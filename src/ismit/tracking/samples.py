"""The demo shipment: the container of trade DEMO-EXP-0001 (seeded by `ismit seed_demo`) on its way from
Abidjan to Marseille through Algeciras, with the DCSA Track & Trace 3.0 events its forwarder posted.

Dates are relative to the moment of the first seeding (the vessel left Abidjan two days before), so the
shipment is in transit when the demo starts; the arrival estimate slipped by two days (a delay alert).
Seeding again posts the same events again: the platform recognises them (same eventID and
eventUpdatedDateTime) and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role
from ismit.tracking import dcsa_messages as dm
from ismit.tracking import services
from ismit.tracking.models import Shipment, ShipmentAccess
from ismit.trades.models import Trade

DEMO_TRADE = "DEMO-EXP-0001"
EXPORTER = "Anacarde Abidjan SARL"
FORWARDER = "Sahel Freight Forwarding"
BOOKING = "SFFABJ260417"
TRANSPORT_DOCUMENT = "SFFABJMRS260417"
CONTAINER = "SFFU4170260"  # ISO 6346, check digit 0
ROUTE = ["CIABJ", "ESALG", "FRMRS"]
VESSEL = "LAGUNE EXPRESS"
VOYAGE = "617N"
TRANSIT = dt.timedelta(days=9)
SLIP = dt.timedelta(days=2)
#: how long before the first seeding the vessel was planned to leave Abidjan
SAILED = dt.timedelta(days=2)
PARTY = {"partyCode": "SAHELFF", "codeListProvider": "ZZZ", "codeListName": "ISMIT", "partyFunction": "FW"}
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.ismit.example")


@dataclass
class DemoShipment:
    shipment: Shipment
    created: bool
    stored: int  # events stored by this run (0 when seeded already)


def _owner(legal_name: str):
    organisation = Organisation.objects.filter(legal_name=legal_name).first()
    owner = Membership.objects.filter(organisation=organisation, role=Role.OWNER).select_related("user")
    if organisation is None or not owner.exists():
        raise LookupError(f"{legal_name} is missing: run `ismit seed_demo` first.")
    return organisation, owner.first().user


def _event(
    name: str,
    kind: str,
    code: str,
    classifier: str,
    at: dt.datetime,
    updated: dt.datetime,
    *,
    place: str,
    place_name: str,
    facility: str,
    document: bool = True,
    **extra,
) -> dict:
    field = {"TRANSPORT": "transportEventTypeCode", "EQUIPMENT": "equipmentEventTypeCode"}[kind]
    details = {"documentReference": {"typeCode": "BKG", "reference": BOOKING}}
    if document:  # the B/L is issued once the container is on board
        details["additionalDocumentReferences"] = [{"typeCode": "TRD", "reference": TRANSPORT_DOCUMENT}]
    return {
        "eventRouting": {"originatingParty": PARTY},
        "eventID": str(uuid.uuid5(EVENT_NAMESPACE, f"{BOOKING}/{name}")),
        "eventDateTime": dm.format_time(at),
        "eventUpdatedDateTime": dm.format_time(updated),
        "eventLocation": {"locationName": place_name, "UNLocationCode": place, "facilityTypeCode": facility},
        "eventClassification": {"eventTypeCode": kind, "eventClassifierCode": classifier, field: code},
        "shipmentDetails": details,
        **extra,
    }


def _container(empty: bool = False) -> dict:
    return {
        "equipmentDetails": {
            "equipmentReference": CONTAINER,
            "ISOEquipmentCode": "22G1",
            "emptyIndicatorCode": "EMPTY" if empty else "LADEN",
            "movementType": "EXPORT",
        }
    }


def _vessel(remark: str = "") -> dict:
    details = {
        "transportCall": {
            "modeOfTransport": "VESSEL",
            "exportVoyageNumberOrReference": {"carrierVoyageNumber": VOYAGE},
            "vesselTransport": {"vesselName": VESSEL},
        }
    }
    if remark:
        details["changeRemark"] = remark
    return {"transportDetails": details}


def demo_messages(departure: dt.datetime) -> list[list[dict]]:
    """The messages the forwarder posts, in order, for a vessel planned to leave Abidjan at `departure`:
    the empty container out of the depot, the full one into the port, loaded; the departure with the
    estimates of the arrivals; two days later, the estimate of Marseille moved two days back."""
    hour = dt.timedelta(hours=1)
    minutes = dt.timedelta(minutes=7)  # a terminal reports an actual event a few minutes after it
    abidjan = {"place": "CIABJ", "place_name": "Port autonome d'Abidjan", "facility": "POTE"}
    arrival = departure + TRANSIT
    issued = departure + 3 * hour

    def actual(name, kind, code, at, **extra):
        return _event(name, kind, code, "ACT", at, at + minutes, **extra)

    def estimate(name, at, updated, place, place_name, remark=""):
        return _event(
            name,
            "TRANSPORT",
            "ARRI",
            "EST",
            at,
            updated,
            place=place,
            place_name=place_name,
            facility="POTE",
            **_vessel(remark),
        )

    gate_out = departure - 100 * hour
    gate_in = departure - 46 * hour
    loaded = departure - 7 * hour
    return [
        [
            actual(
                "gate-out-empty",
                "EQUIPMENT",
                "GTOT",
                gate_out,
                place="CIABJ",
                place_name="Dépôt de conteneurs de Vridi",
                facility="DEPO",
                document=False,
                **_container(empty=True),
            )
        ],
        [actual("gate-in", "EQUIPMENT", "GTIN", gate_in, document=False, **abidjan, **_container())],
        [actual("loaded", "EQUIPMENT", "LOAD", loaded, **abidjan, **_container(), **_vessel())],
        [
            actual("departed", "TRANSPORT", "DEPA", departure + 2 * hour, **abidjan, **_vessel()),
            estimate("arrival-algeciras", departure + 6 * 24 * hour, issued, "ESALG", "Puerto de Algeciras"),
            estimate("arrival-marseille", arrival, issued, "FRMRS", "Grand Port Maritime de Marseille"),
        ],
        [
            estimate(
                "arrival-marseille",
                arrival + SLIP,
                departure + 40 * hour,
                "FRMRS",
                "Grand Port Maritime de Marseille",
                remark="Congestion at Algeciras: the connecting vessel leaves two days later.",
            )
        ],
    ]


def seed_demo_shipment(*, now: dt.datetime | None = None) -> DemoShipment:
    """The demo trade's shipment, the forwarder authorised on it, and the forwarder's events (idempotent).

    LookupError when `ismit seed_demo` has not run."""
    exporter, exporter_user = _owner(EXPORTER)
    forwarder, forwarder_user = _owner(FORWARDER)
    trade = Trade.objects.filter(organisation=exporter, reference=DEMO_TRADE).first()
    if trade is None:
        raise LookupError(f"Trade {DEMO_TRADE} is missing: run `ismit seed_demo` first.")
    owner = actor_for(exporter_user)
    with transaction.atomic():
        shipment = Shipment.objects.filter(organisation=exporter, reference=DEMO_TRADE).first()
        created = shipment is None
        if created:
            departure = ((now or timezone.now()) - SAILED).replace(minute=0, second=0, microsecond=0)
            shipment = services.create_shipment(
                actor=owner,
                organisation=exporter,
                data=services.ShipmentData(
                    reference=DEMO_TRADE,
                    trade_id=trade.pk,
                    carrier_booking_reference=BOOKING,
                    transport_document_reference=TRANSPORT_DOCUMENT,
                    equipment_references=[CONTAINER],
                    route=ROUTE,
                    planned_departure=departure,
                    planned_arrival=departure + TRANSIT,
                ),
            )
        elif shipment.planned_departure is None:
            raise LookupError(f"Shipment {DEMO_TRADE} exists without a planned departure: not the demo one.")
        if not ShipmentAccess.objects.filter(shipment=shipment, organisation=forwarder).exists():
            services.grant_access(actor=owner, shipment=shipment, organisation=forwarder)
        stored = 0
        for message in demo_messages(shipment.planned_departure):
            result = services.post_events(
                actor=actor_for(forwarder_user), organisation=forwarder, document={"events": message}
            )
            stored += len(result.stored)
        shipment.refresh_from_db()
    return DemoShipment(shipment=shipment, created=created, stored=stored)
