"""Reads of the logistics app shared by pages and API."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.lib.scoping import VIEW
from ismit.logistics.models import Assignment, Consignment, ConsignmentStatus, Load, LoadPlan
from ismit.logistics.services import is_forwarder, week_of


def consignments_visible_to(actor: Actor) -> QuerySet[Consignment]:
    """The actor's own consignments and those released to it (as forwarder)."""
    return Consignment.objects.visible_to(actor, VIEW).select_related("assignment__load__plan")


def consignments_of_trade(actor: Actor, trade) -> QuerySet[Consignment]:
    return consignments_visible_to(actor).filter(trade=trade)


def get_consignment_for(actor: Actor, pk: int, action: str = VIEW) -> Consignment:
    return Consignment.objects.get_for(actor, action, pk=pk)


def share_of(actor: Actor, consignment: Consignment) -> Assignment | None:
    """The consignment's load and share, if planned and visible to the actor."""
    return (
        Assignment.objects.visible_to(actor, VIEW)
        .select_related("load")
        .filter(consignment=consignment)
        .first()
    )


def forwarders() -> QuerySet[Organisation]:
    """Verified freight forwarders an MSME may release consignments to."""
    candidates = Organisation.objects.filter(kind="provider", verification_status="verified").order_by(
        "legal_name"
    )
    return candidates.filter(pk__in=[o.pk for o in candidates if is_forwarder(o)])


def forwarder_organisations(actor: Actor) -> list[Organisation]:
    return [o for o in actor.organisations if is_forwarder(o)]


def released_by_lane_week(actor: Actor, forwarder: Organisation) -> list[dict]:
    """Released consignments to the forwarder, grouped by mode, lane and week of their ready_from."""
    rows = (
        Consignment.objects.visible_to(actor, VIEW)
        .filter(forwarder=forwarder, status=ConsignmentStatus.RELEASED)
        .order_by("mode", "origin", "destination", "ready_from", "id")
    )
    groups: dict[tuple, list[Consignment]] = defaultdict(list)
    for c in rows:
        groups[(c.mode, c.origin, c.destination, week_of(c.ready_from))].append(c)
    return [
        {
            "mode": key[0],
            "origin": key[1],
            "destination": key[2],
            "week": key[3],
            "consignments": members,
            "mass_kg": sum(c.mass_kg for c in members),
            "volume_m3": sum(c.volume_m3 for c in members),
        }
        for key, members in sorted(groups.items())
    ]


def plans_visible_to(actor: Actor) -> QuerySet[LoadPlan]:
    return LoadPlan.objects.visible_to(actor, VIEW)


def get_plan_for(actor: Actor, pk: int) -> LoadPlan:
    return LoadPlan.objects.get_for(actor, VIEW, pk=pk)


def loads_of(plan: LoadPlan) -> list[Load]:
    return list(plan.loads.prefetch_related("assignments__consignment__organisation").order_by("number"))
