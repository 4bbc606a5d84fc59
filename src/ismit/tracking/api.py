"""JSON API of the tracking app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

- POST/GET /shipments (filter: in_transit, delayed, arriving_this_week; q: a reference), GET /shipments/{id}
  (timeline, ETA and whether it slipped, alerts, route with coordinates, last seen, checklist);
- POST/GET /shipments/{id}/access, DELETE /shipments/{id}/access/{access_id}: providers authorised to see
  the shipment and post its events (/dcsa/tnt/v3/events);
- POST/GET /shipments/{id}/share-links, DELETE /shipments/{id}/share-links/{link_id}: read-only links;
- POST/GET /tracking/webhooks, DELETE /tracking/webhooks/{id}; GET /tracking/deliveries;
- GET/PUT /tracking/alert-preferences: the user's own choice per kind of alert.

A shipment is its owner organisation's; an authorised provider sees it; others get 404.
"""

from __future__ import annotations

import datetime as dt

from ninja import Body, Field, Router, Schema, Status
from ninja.pagination import paginate

from ismit.accounts.api import actor_of, organisation_for_write
from ismit.accounts.models import Organisation
from ismit.lib.api import PagePagination
from ismit.lib.idempotency import idempotent
from ismit.tracking import queries, services
from ismit.tracking.models import AlertKind, AlertPreference

router = Router(tags=["tracking"])


# -- schemas ----------------------------------------------------------------------------------------------


class ShipmentIn(Schema):
    trade_id: int | None = Field(None, description="The trade it carries (optional)")
    reference: str = Field("", max_length=40, description="Yours; the trade's reference when left out")
    carrier_booking_reference: str = Field("", max_length=100)
    transport_document_reference: str = Field("", max_length=100, description="B/L number")
    equipment_references: list[str] = Field(default_factory=list, description="ISO 6346 container numbers")
    route: list[str] = Field(
        default_factory=list,
        description="UN/LOCODEs in order: origin, ports, destination; the trade's ports when left out",
    )
    planned_departure: dt.datetime | None = None
    planned_arrival: dt.datetime | None = None
    carrier_endpoint_id: int | None = Field(None, description="Poll this carrier's DCSA endpoint")
    organisation: int | None = None


class ShipmentOut(Schema):
    id: int
    organisation_id: int
    trade_id: int | None
    reference: str
    status: str
    route: list[str]
    port_of_loading: str
    port_of_discharge: str
    planned_departure: dt.datetime | None
    planned_arrival: dt.datetime | None
    eta: dt.datetime | None
    eta_classifier: str = Field(description="ACT, EST or PLN: what the ETA comes from")
    delayed: bool
    last_event_at: dt.datetime | None
    last_location: str
    created_at: dt.datetime


class EventOut(Schema):
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
    corrected: bool = Field(description="This version corrects an earlier one")


class AlertOut(Schema):
    id: int
    kind: str
    message: str = Field(description="In the language of the Accept-Language header")
    details: dict
    created_at: dt.datetime

    @staticmethod
    def resolve_message(obj) -> str:
        return obj.localized_message


class StopOut(Schema):
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    passed: bool


class StepOut(Schema):
    code: str
    status: str
    note: str


class ShipmentDetailOut(ShipmentOut):
    references: dict[str, list[str]]
    slip_hours: float | None = Field(description="ETA minus planned arrival, in hours")
    timeline: list[EventOut]
    alerts: list[AlertOut]
    route_stops: list[StopOut]
    last_seen: StopOut | None
    checklist: list[StepOut]


class AccessIn(Schema):
    organisation_id: int


class AccessOut(Schema):
    id: int
    shipment_id: int
    organisation_id: int
    organisation_name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_organisation_name(obj) -> str:
        return obj.organisation.legal_name


class ShareLinkIn(Schema):
    days: int = Field(14, ge=1, le=services.MAX_SHARE_DAYS)
    label: str = Field("", max_length=100)


class ShareLinkOut(Schema):
    id: int
    hint: str
    label: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    active: bool

    @staticmethod
    def resolve_active(obj) -> bool:
        return obj["active"] if isinstance(obj, dict) else obj.is_active


class ShareLinkCreatedOut(ShareLinkOut):
    token: str = Field(description="Shown once")
    path: str


class WebhookIn(Schema):
    url: str = Field(max_length=500)
    secret: str = Field(min_length=16, max_length=200)
    kinds: list[str] = Field(default_factory=list, description="Alert kinds; empty: every kind")
    organisation: int | None = None


class WebhookOut(Schema):
    id: int
    organisation_id: int
    url: str
    kinds: list[str]
    created_at: dt.datetime


class DeliveryOut(Schema):
    id: int
    url: str
    summary: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    subscription_id: int | None
    webhook_id: int | None


class PreferenceOut(Schema):
    kind: str
    in_app: bool
    email: bool


class PreferenceIn(Schema):
    in_app: bool = True
    email: bool = True


# -- shipments --------------------------------------------------------------------------------------------


def _detail(shipment) -> dict:
    events = queries.timeline(shipment)
    slip = None
    if shipment.eta and shipment.planned_arrival:
        slip = round((shipment.eta - shipment.planned_arrival).total_seconds() / 3600, 1)
    out = {name: getattr(shipment, name) for name in ShipmentOut.model_fields}
    out.update(
        references=queries.references_of(shipment),
        slip_hours=slip,
        timeline=events,
        alerts=queries.alerts_of(shipment),
        route_stops=queries.route_of(shipment, events),
        last_seen=queries.last_seen(shipment),
        checklist=queries.checklist_of(shipment),
    )
    return out


@router.post("/shipments", response={201: ShipmentOut})
@idempotent
def create_shipment(request, payload: ShipmentIn):
    """Follow a shipment (of a trade, or on its own) by its booking, B/L or container numbers."""
    data = payload.dict()
    organisation = organisation_for_write(request, data.pop("organisation"))
    return services.create_shipment(
        actor=actor_of(request), organisation=organisation, data=services.ShipmentData(**data)
    )


@router.get("/shipments", response=list[ShipmentOut])
@paginate(PagePagination)
def list_shipments(request, filter: str = "", q: str = ""):
    """Shipments you see; `filter`: in_transit, delayed or arriving_this_week."""
    return queries.shipments_visible_to(actor_of(request), filter=filter, q=q)


@router.get("/shipments/{int:shipment_id}", response=ShipmentDetailOut)
def get_shipment(request, shipment_id: int):
    return _detail(queries.get_shipment_for(actor_of(request), shipment_id))


# -- providers authorised on a shipment --------------------------------------------------------------------


@router.post("/shipments/{int:shipment_id}/access", response={201: AccessOut})
@idempotent
def grant_access(request, shipment_id: int, payload: AccessIn):
    """Authorise a provider (verified organisation) to see the shipment and post its events."""
    actor = actor_of(request)
    shipment = queries.get_shipment_for(actor, shipment_id)
    organisation = Organisation.objects.filter(pk=payload.organisation_id).first()
    if organisation is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"organisation_id": ["Unknown organisation."]})
    return services.grant_access(actor=actor, shipment=shipment, organisation=organisation)


@router.get("/shipments/{int:shipment_id}/access", response=list[AccessOut])
def list_access(request, shipment_id: int):
    return queries.accesses_of(queries.get_shipment_for(actor_of(request), shipment_id))


@router.delete("/shipments/{int:shipment_id}/access/{int:access_id}", response={204: None})
def revoke_access(request, shipment_id: int, access_id: int):
    actor = actor_of(request)
    services.revoke_access(actor=actor, access=queries.get_access_for(actor, shipment_id, access_id))
    return Status(204, None)


# -- share links -----------------------------------------------------------------------------------------


@router.post("/shipments/{int:shipment_id}/share-links", response={201: ShareLinkCreatedOut})
@idempotent
def create_share_link(request, shipment_id: int, payload: ShareLinkIn):
    """A read-only link for the buyer, expiring after `days`; the token is shown once."""
    actor = actor_of(request)
    shipment = queries.get_shipment_for(actor, shipment_id)
    link, token = services.create_share_link(
        actor=actor, shipment=shipment, days=payload.days, label=payload.label
    )
    out = {
        name: getattr(link, name)
        for name in ("id", "hint", "label", "expires_at", "revoked_at", "last_used_at")
    }
    return Status(201, {**out, "active": link.is_active, "token": token, "path": f"/s/{token}/"})


@router.get("/shipments/{int:shipment_id}/share-links", response=list[ShareLinkOut])
def list_share_links(request, shipment_id: int):
    return queries.share_links_of(queries.get_shipment_for(actor_of(request), shipment_id))


@router.delete("/shipments/{int:shipment_id}/share-links/{int:link_id}", response={204: None})
def revoke_share_link(request, shipment_id: int, link_id: int):
    actor = actor_of(request)
    services.revoke_share_link(actor=actor, link=queries.get_share_link_for(actor, shipment_id, link_id))
    return Status(204, None)


# -- webhooks, deliveries, alert preferences ----------------------------------------------------------------


@router.post("/tracking/webhooks", response={201: WebhookOut})
@idempotent
def create_webhook(request, payload: WebhookIn):
    """Your own system, told of every alert (HMAC-SHA256 of the body in `Notification-Signature`)."""
    organisation = organisation_for_write(request, payload.organisation)
    return services.create_webhook(
        actor=actor_of(request),
        organisation=organisation,
        url=payload.url,
        secret=payload.secret,
        kinds=payload.kinds,
    )


@router.get("/tracking/webhooks", response=list[WebhookOut])
def list_webhooks(request):
    return list(queries.webhooks_visible_to(actor_of(request)))


@router.delete("/tracking/webhooks/{int:webhook_id}", response={204: None})
def delete_webhook(request, webhook_id: int):
    actor = actor_of(request)
    services.delete_webhook(actor=actor, webhook=queries.get_webhook_for(actor, webhook_id))
    return Status(204, None)


@router.get("/tracking/deliveries", response=list[DeliveryOut])
@paginate(PagePagination)
def list_deliveries(request):
    """The log of notifications sent to subscriptions and webhooks."""
    return queries.deliveries_visible_to(actor_of(request))


@router.get("/tracking/alert-preferences", response=list[PreferenceOut])
def get_preferences(request):
    actor = actor_of(request)
    organisation = organisation_for_write(request)
    saved = {p.kind: p for p in AlertPreference.objects.filter(user=actor.user, organisation=organisation)}
    return [saved.get(kind) or {"kind": kind, "in_app": True, "email": True} for kind in AlertKind.values]


@router.put("/tracking/alert-preferences", response=list[PreferenceOut])
def set_preferences(request, payload: dict[str, PreferenceIn] = Body(...)):  # noqa: B008
    """Which alerts you receive, per kind: {"delay": {"in_app": true, "email": false}, …}."""
    actor = actor_of(request)
    organisation = organisation_for_write(request)
    services.set_alert_preferences(
        actor=actor, organisation=organisation, choices={k: v.dict() for k, v in payload.items()}
    )
    return get_preferences(request)
