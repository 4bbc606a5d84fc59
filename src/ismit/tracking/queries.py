"""Reads of the tracking app, shared by the pages and the API: shipments with their filters, a shipment's
timeline, ETA, alerts and route (with coordinates where refdata knows them), and the DCSA event feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ismit.accounts.actors import Actor
from ismit.lib.prepared import Prepared
from ismit.lib.scoping import VIEW
from ismit.refdata.models import Location
from ismit.tracking.models import (
    Alert,
    Delivery,
    Event,
    ShareLink,
    Shipment,
    ShipmentAccess,
    ShipmentReference,
    ShipmentStatus,
    Subscription,
    WebhookEndpoint,
)

FILTERS = ("in_transit", "delayed", "arriving_this_week")


def shipments_visible_to(
    actor: Actor, *, filter: str = "", q: str = "", trade_id: int | None = None
) -> QuerySet[Shipment]:
    shipments = Shipment.objects.visible_to(actor, VIEW)
    if trade_id is not None:
        shipments = shipments.filter(trade_id=trade_id)
    now = timezone.now()
    if filter == "in_transit":
        shipments = shipments.filter(status=ShipmentStatus.IN_TRANSIT)
    elif filter == "delayed":
        shipments = shipments.filter(delayed=True)
    elif filter == "arriving_this_week":
        shipments = shipments.filter(
            status__in=[ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT],
            eta__gte=now - dt.timedelta(days=1),
            eta__lt=now + dt.timedelta(days=7),
        )
    if q:
        shipments = shipments.filter(
            Q(reference__icontains=q)
            | Q(pk__in=ShipmentReference.objects.filter(value__iexact=q.strip()).values("shipment_id"))
        )
    return shipments.order_by("-created_at", "-id")


def get_shipment_for(actor: Actor, pk: int, action: str = VIEW) -> Shipment:
    return Shipment.objects.select_related("trade").get_for(actor, action, pk=pk)


def references_of(shipment: Shipment) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"BKG": [], "TRD": [], "EQ": []}
    for kind, value in shipment.references.values_list("kind", "value"):
        out.setdefault(kind, []).append(value)
    return out


@dataclass(slots=True)
class TimelineEvent:
    """The current version of one event, as the timeline shows it (read without building a model)."""

    id: int
    event_id: str
    source: str
    event_type: str
    classifier: str
    type_code: str
    event_datetime: dt.datetime
    event_updated_at: dt.datetime
    location: str
    location_name: str
    equipment_reference: str
    vessel_name: str
    voyage: str
    supersedes_id: int | None
    corrected: bool = False
    # filled in by the pages
    label: str = ""
    kind: str = ""
    when: str = ""
    was: str = ""

    @property
    def pk(self) -> int:
        return self.id


_TIMELINE_FIELDS = tuple(
    f for f in TimelineEvent.__dataclass_fields__ if f not in ("corrected", "label", "kind", "when", "was")
)
# The hottest read of the shipment page and API: compiled once (lib.prepared); only the shipment id varies.
_TIMELINE = Prepared(
    lambda shipment_id: (
        Event.objects.filter(shipment_id=shipment_id, is_retracted=False)
        .exclude(Exists(Event.objects.filter(supersedes_id=OuterRef("pk"))))
        .order_by("event_datetime", "id")
        .values_list(*_TIMELINE_FIELDS)
    ),
    "shipment_id",
)


def timeline(shipment: Shipment) -> list[TimelineEvent]:
    """The current version of every event, in the order they happened (or will happen); `corrected` when
    it replaced an earlier version."""
    return [
        TimelineEvent(*row, corrected=row[-1] is not None) for row in _TIMELINE.rows(shipment_id=shipment.pk)
    ]


@dataclass
class Stop:
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    passed: bool


def route_of(shipment: Shipment, events: list[Event] | None = None) -> list[Stop]:
    """The route's UN/LOCODEs with names and coordinates, each marked passed once an actual event happened
    there or further on."""
    codes = list(dict.fromkeys(shipment.route or [shipment.port_of_loading, shipment.port_of_discharge]))
    places = {loc.code: loc for loc in Location.objects.filter(code__in=codes)}
    seen = {e.location for e in (events or []) if e.classifier == "ACT"}
    last_passed = max((n for n, code in enumerate(codes) if code in seen), default=-1)
    return [
        Stop(
            code=code,
            name=places[code].name if code in places else code,
            latitude=places[code].latitude if code in places else None,
            longitude=places[code].longitude if code in places else None,
            passed=n <= last_passed,
        )
        for n, code in enumerate(codes)
    ]


def last_seen(shipment: Shipment) -> Stop | None:
    if not shipment.last_location:
        return None
    loc = Location.objects.filter(code=shipment.last_location).first()
    return Stop(
        code=shipment.last_location,
        name=loc.name if loc else shipment.last_location,
        latitude=loc.latitude if loc else None,
        longitude=loc.longitude if loc else None,
        passed=True,
    )


def alerts_of(shipment: Shipment) -> list[Alert]:
    return list(Alert.objects.filter(shipment_id=shipment.pk).order_by("-created_at", "-id"))


def checklist_of(shipment: Shipment) -> list:
    if not shipment.trade_id:
        return []
    return list(shipment.trade.steps.order_by("position"))


def accesses_of(shipment: Shipment) -> list[ShipmentAccess]:
    return list(ShipmentAccess.objects.filter(shipment_id=shipment.pk).select_related("organisation"))


def get_access_for(actor: Actor, shipment_pk: int, access_id: int, action: str = VIEW) -> ShipmentAccess:
    return ShipmentAccess.objects.select_related("shipment").get_for(
        actor, action, shipment_id=shipment_pk, pk=access_id
    )


def share_links_of(shipment: Shipment) -> list[ShareLink]:
    return list(ShareLink.objects.filter(shipment_id=shipment.pk))


def get_share_link_for(actor: Actor, shipment_pk: int, link_id: int, action: str = VIEW) -> ShareLink:
    return ShareLink.objects.select_related("shipment").get_for(
        actor, action, shipment_id=shipment_pk, pk=link_id
    )


def webhooks_visible_to(actor: Actor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.visible_to(actor, VIEW).filter(active=True)


def get_webhook_for(actor: Actor, pk: int, action: str = VIEW) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get_for(actor, action, pk=pk, active=True)


def deliveries_visible_to(actor: Actor) -> QuerySet[Delivery]:
    return Delivery.objects.visible_to(actor, VIEW).order_by("-created_at", "-id")


def subscriptions_visible_to(actor: Actor) -> QuerySet[Subscription]:
    return Subscription.objects.visible_to(actor, VIEW)


def get_subscription_for(actor: Actor, subscription_id: str, action: str = VIEW) -> Subscription:
    return Subscription.objects.get_for(actor, action, subscription_id=subscription_id)


# -- the DCSA event feed (GET /dcsa/tnt/v3/events) -----------------------------------------------------------

CURSOR_SALT = "ismit.tracking.cursor"


class BadCursor(Exception):
    pass


def make_cursor(after_pk: int, params: dict) -> str:
    return signing.dumps({"a": after_pk, "p": sorted(params.items())}, salt=CURSOR_SALT, compress=True)


def read_cursor(cursor: str, params: dict) -> int:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise BadCursor("This cursor is not one this server gave.")
    if data.get("p") != [list(item) for item in sorted(params.items())]:
        raise BadCursor("Send the cursor with the query parameters of the first page.")
    return int(data["a"])


def event_feed(
    actor: Actor,
    *,
    booking: str = "",
    transport_document: str = "",
    equipment: str = "",
    event_types: list[str] | None = None,
    updated_min: dt.datetime | None = None,
    updated_max: dt.datetime | None = None,
    after_pk: int = 0,
    limit: int = 100,
) -> tuple[list[dict], int | None]:
    """The latest version of the events the actor may see (their shipments' own, or shipments they are
    authorised on), in the order they were received; (raw events, the last id when more follow)."""
    shipments = Shipment.objects.visible_to(actor, VIEW)
    for kind, value in (("BKG", booking), ("TRD", transport_document), ("EQ", equipment)):
        if value:
            shipments = shipments.filter(
                pk__in=ShipmentReference.objects.filter(kind=kind, value=value).values("shipment_id")
            )
    events = Event.objects.filter(shipment_id__in=shipments.values("pk"), pk__gt=after_pk).exclude(
        Exists(Event.objects.filter(supersedes_id=OuterRef("pk")))
    )
    if equipment:
        events = events.filter(Q(equipment_reference=equipment) | Q(equipment_reference=""))
    if event_types:
        events = events.filter(event_type__in=event_types)
    if updated_min:
        events = events.filter(event_updated_at__gte=updated_min)
    if updated_max:
        events = events.filter(event_updated_at__lte=updated_max)
    rows = list(events.order_by("pk").values_list("pk", "raw")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return [raw for _pk, raw in rows], (rows[-1][0] if more and rows else None)


# -- what the shipment page shows beside the events -------------------------------------------------------


def corrections_of(events: list[TimelineEvent]) -> dict[int, dt.datetime]:
    """{id of a corrected event: the time the version it superseded gave}."""
    previous = {e.supersedes_id: e.pk for e in events if e.corrected}
    if not previous:
        return {}
    rows = Event.objects.filter(pk__in=list(previous)).values_list("pk", "event_datetime")
    return {previous[pk]: when for pk, when in rows}


def documents_of(actor: Actor, shipment: Shipment) -> list:
    """The trade's current documents that the actor may see (none without a trade)."""
    if not shipment.trade_id:
        return []
    from ismit.documents.models import DocumentStatus, IssuedDocument

    latest: dict[tuple[str, str], IssuedDocument] = {}
    rows = (
        IssuedDocument.objects.visible_to(actor, VIEW)
        .filter(trade_id=shipment.trade_id)
        .only("pk", "trade_id", "kind", "format", "version", "status", "issued_at")
        .order_by("kind", "format", "-version")
    )
    for document in rows:
        latest.setdefault((document.kind, document.format), document)
    return [d for d in latest.values() if d.status == DocumentStatus.ISSUED]


def contracts_of(actor: Actor, shipment: Shipment) -> list:
    """The service contracts of the trade (marketplace) that the actor may see."""
    if not shipment.trade_id:
        return []
    from ismit.marketplace.models import Contract

    return list(
        Contract.objects.visible_to(actor, VIEW)
        .filter(trade_id=shipment.trade_id)
        .select_related("provider")
        .only("pk", "reference", "service_type", "status", "provider__legal_name")
    )


def providers_to_authorise(shipment: Shipment) -> QuerySet:
    """Verified organisations other than the owner that the owner may authorise on the shipment."""
    from ismit.accounts.models import Organisation

    return (
        Organisation.objects.filter(kind="provider", verification_status="verified")
        .exclude(pk=shipment.organisation_id)
        .order_by("legal_name")
    )


def alert_choices_of(actor: Actor, organisation_id: int) -> list[dict]:
    """The user's choice for every kind of alert (both channels when never chosen)."""
    from ismit.tracking.models import AlertKind, AlertPreference

    saved = {
        p.kind: p for p in AlertPreference.objects.filter(user=actor.user, organisation_id=organisation_id)
    }
    return [
        {
            "kind": kind,
            "label": label,
            "in_app": saved[kind].in_app if kind in saved else True,
            "email": saved[kind].email if kind in saved else True,
        }
        for kind, label in AlertKind.choices
    ]
