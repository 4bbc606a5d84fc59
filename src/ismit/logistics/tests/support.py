"""Sample objects of the logistics app for tests: a consignment released by an organisation's trade, and
a load plan made by a forwarder."""

from __future__ import annotations

import datetime as dt

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Role

MONDAY = dt.date(2026, 3, 2)
PALLETS = [
    {"count": 6, "length_cm": 120, "width_cm": 80, "height_cm": 150, "mass_kg": 400, "stackable": True}
]


def owner_actor(organisation):
    return actor_for(Membership.objects.filter(organisation=organisation, role=Role.OWNER).first().user)


def make_consignment(trade, forwarder, *, packages=None, ready_from=MONDAY, days=4, **extra):
    """A consignment of `trade` (owned by the trade's organisation) released to `forwarder`."""
    from ismit.logistics.services import release_consignment

    return release_consignment(
        actor=owner_actor(trade.organisation),
        trade=trade,
        forwarder=forwarder,
        ready_from=ready_from,
        ready_to=ready_from + dt.timedelta(days=days),
        packages=packages or PALLETS,
        **extra,
    )


def make_plan(trade, forwarder):
    """A load plan of `forwarder` (owned by it) holding one consignment of `trade`."""
    from ismit.logistics.services import plan_consolidation

    consignment = make_consignment(trade, forwarder)
    return plan_consolidation(
        actor=owner_actor(forwarder),
        forwarder=forwarder,
        mode=consignment.mode,
        origin=consignment.origin,
        destination=consignment.destination,
        week=MONDAY,
    )
