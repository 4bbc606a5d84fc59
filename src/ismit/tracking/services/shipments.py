"""Shipments, and who may report on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.refdata.models import Location
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import (
    CarrierEndpoint,
    ReferenceKind,
    Shipment,
    ShipmentAccess,
    ShipmentReference,
)
from ismit.tracking.services.base import require_change
from ismit.trades.models import Trade

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
    require_change(actor, organisation.pk)
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
    require_change(actor, shipment.organisation_id)
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
    require_change(actor, access.shipment.organisation_id)
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
