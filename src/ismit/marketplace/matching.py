"""Which offerings cover a request.

One query (and one more for the rate lines): the offerings of the service that are active and valid on
the day, whose provider is listed (active in the marketplace and verified), with a lane that covers the
route (an EXISTS on Lane through its `lane_countries` index), and whose constraints admit the cargo. The
filter on service, active and validity uses the `offering_match` index.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import Lane, ProviderStatus, ServiceOffering


def _place_q(prefix: str, country: str, location: str) -> Q:
    """A lane end covers a place: same country, and either the lane's whole country or the same location.
    A request that names no location (only a country) is covered by every lane end in that country."""
    q = Q(**{f"{prefix}_country": country})
    if location:
        q &= Q(**{f"{prefix}_location": ""}) | Q(**{f"{prefix}_location": location})
    return q


def covering_lanes(cargo: CargoSpec):
    """Lanes (of any offering) that cover the cargo's origin and destination."""
    origin = cargo.origin_country.upper()
    destination = cargo.destination_country.upper()
    return Lane.objects.filter(
        _place_q("origin", origin, cargo.origin_location.replace(" ", "").upper()),
        _place_q("destination", destination, cargo.destination_location.replace(" ", "").upper()),
    )


def matching_queryset(*, service_type: str, cargo: CargoSpec, on: dt.date) -> tuple[QuerySet, bool]:
    """The query of match_offerings, and whether the transport mode is still to be checked in Python
    (on SQLite, which has no JSON containment)."""
    lanes = covering_lanes(cargo).filter(offering_id=OuterRef("pk"))
    offerings = ServiceOffering.objects.filter(
        Exists(lanes),
        Q(max_mass_kg__isnull=True) | Q(max_mass_kg__gte=cargo.gross_mass_kg),
        Q(max_volume_m3__isnull=True) | Q(max_volume_m3__gte=cargo.volume_m3),
        service_type=service_type,
        active=True,
        valid_from__lte=on,
        valid_until__gte=on,
        organisation__marketplace_provider__status=ProviderStatus.ACTIVE,
        organisation__verification_status="verified",
    )
    if cargo.dangerous_goods:
        offerings = offerings.filter(dangerous_goods=True)
    if cargo.temperature_control:
        offerings = offerings.filter(temperature_control=True)
    in_python = False
    if cargo.mode:
        if connection.vendor == "postgresql":
            offerings = offerings.filter(Q(modes=[]) | Q(modes__contains=[cargo.mode]))
        else:
            in_python = True
    rows = (
        offerings.select_related("organisation", "organisation__marketplace_provider")
        .defer("organisation__marketplace_provider__kpis")  # the score is enough here
        .prefetch_related("rate_lines")
        .order_by("organisation_id", "id")
    )
    return rows, in_python


def match_offerings(*, service_type: str, cargo: CargoSpec, on: dt.date) -> list[ServiceOffering]:
    """Active offerings of listed providers (active, verified) for `service_type`, valid on `on`, whose
    lanes cover the cargo's origin and destination (a lane's location, or its whole country when the lane
    has none), whose modes include the cargo's mode (or are empty), and whose constraints admit the cargo
    (mass, volume, dangerous goods, temperature control). Rate lines prefetched. Ordered by provider id,
    then offering id (no paid placement: the order carries no rank)."""
    rows, in_python = matching_queryset(service_type=service_type, cargo=cargo, on=on)
    if in_python:  # the few rows left are filtered here, in the same pass
        return [o for o in rows if not o.modes or cargo.mode in o.modes]
    return list(rows)
