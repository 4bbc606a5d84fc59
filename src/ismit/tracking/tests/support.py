"""Test data of the tracking tests: a shipment of an organisation, DCSA events, a bearer token."""

from __future__ import annotations

import datetime as dt

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Role
from ismit.accounts.services import create_api_token
from ismit.tracking import services
from ismit.tracking.models import Shipment

BOOKING = "ABC709951"
DOCUMENT = "HHL71800000"
CONTAINER = "APZU4812090"
START = dt.datetime(2026, 1, 10, 8, tzinfo=dt.UTC)
PARTY = {"partyCode": "SIMC", "codeListProvider": "SMDG", "codeListName": "LCL", "partyFunction": "CA"}


def owner_of(organisation):
    return (
        Membership.objects.filter(organisation=organisation, role=Role.OWNER)
        .select_related("user")
        .first()
        .user
    )


def make_shipment(
    organisation, *, reference: str = "SHP-1", trade=None, booking: str = BOOKING, **extra
) -> Shipment:
    """A shipment of `organisation` (Abidjan → Algeciras → Marseille), made by its owner."""
    data = dict(
        reference=reference,
        trade_id=trade.pk if trade else None,
        carrier_booking_reference=booking,
        transport_document_reference=DOCUMENT if booking == BOOKING else "",
        equipment_references=[CONTAINER] if booking == BOOKING else [],
        route=["CIABJ", "ESALG", "FRMRS"],
        planned_departure=START + dt.timedelta(hours=72),
        planned_arrival=START + dt.timedelta(hours=72 + 240),
    )
    data.update(extra)
    return services.create_shipment(
        actor=actor_for(owner_of(organisation)), organisation=organisation, data=services.ShipmentData(**data)
    )


def bearer(user, organisation=None) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    headers = {"Authorization": f"Bearer {key}"}
    if organisation is not None:
        headers["X-ISMIT-Organisation"] = str(organisation.pk)
    return headers


def t(hours: float) -> str:
    return (START + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def event(
    event_id: str,
    kind: str,
    code: str,
    classifier: str,
    at: float,
    *,
    updated: float | None = None,
    place: str = "",
    booking: str = BOOKING,
    container: str = CONTAINER,
    **extra,
) -> dict:
    """A DCSA 3.0 event of the booking, `at` and `updated` in hours after START."""
    field = {
        "TRANSPORT": "transportEventTypeCode",
        "EQUIPMENT": "equipmentEventTypeCode",
        "SHIPMENT": "shipmentEventTypeCode",
    }[kind]
    body = {
        "eventRouting": {"originatingParty": PARTY},
        "eventID": event_id,
        "eventDateTime": t(at),
        "eventUpdatedDateTime": t(at if updated is None else updated),
        "eventClassification": {"eventTypeCode": kind, "eventClassifierCode": classifier, field: code},
        "shipmentDetails": {"documentReference": {"typeCode": "BKG", "reference": booking}},
    }
    if place:
        body["eventLocation"] = {"UNLocationCode": place}
    if kind == "EQUIPMENT":
        body["equipmentDetails"] = {"equipmentReference": container, "ISOEquipmentCode": "22GP"}
    body.update(extra)
    return body


def voyage() -> list[dict]:
    """Gate-in, load, departure from Abidjan; two estimates of the arrival at Marseille (the second, issued
    later, 30 hours after the plan); the arrival and gate-out."""
    return [
        event("e-conf", "SHIPMENT", "CONF", "ACT", 0),
        event("e-gtin", "EQUIPMENT", "GTIN", "ACT", 50, place="CIABJ"),
        event("e-load", "EQUIPMENT", "LOAD", "ACT", 70, place="CIABJ"),
        event("e-depa", "TRANSPORT", "DEPA", "ACT", 74, place="CIABJ"),
        event("e-eta-1", "TRANSPORT", "ARRI", "EST", 72 + 250, updated=80, place="FRMRS"),
        event("e-eta-2", "TRANSPORT", "ARRI", "EST", 72 + 270, updated=200, place="FRMRS"),
    ]


def make_share_link(organisation, shipment=None):
    """A share link of one of `organisation`'s shipments (made if not given): (link, token)."""
    shipment = shipment or make_shipment(organisation, reference="SHP-SHARED", booking="SHARED-1")
    return services.create_share_link(actor=actor_for(owner_of(organisation)), shipment=shipment, days=7)


def make_access(organisation, provider, shipment=None):
    """`provider` (a verified organisation) authorised on one of `organisation`'s shipments."""
    shipment = shipment or make_shipment(organisation, reference="SHP-ACCESS", booking="ACCESS-1")
    return services.grant_access(
        actor=actor_for(owner_of(organisation)), shipment=shipment, organisation=provider
    )


def make_webhook(organisation):
    """A webhook of `organisation` (alerts to https://hooks.example/…)."""
    return services.create_webhook(
        actor=actor_for(owner_of(organisation)),
        organisation=organisation,
        url="https://hooks.example/ismit",
        secret="a-webhook-secret-of-32-characters",
        kinds=[],
    )
