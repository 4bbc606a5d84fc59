"""The poller: pulls events from carriers' own DCSA T&T endpoints (`GET {base_url}/events`).

For every shipment in progress that follows a carrier endpoint: `GET /events?carrierBookingReference=…`
(else the transport document, else the container) with `eventUpdatedDateTimeMin` set to the last time
already seen, following `Next-Page-Cursor` with the same parameters. Each page goes through the same
ingestion as posted events (duplicates, reordered pages and older versions change nothing). A page that
breaks the standard, a 5xx or a timeout stops that shipment for this round (noted on the endpoint); the
next round asks again from the same time.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.utils import timezone

from ismit.tracking import dcsa_messages as dm
from ismit.tracking import services
from ismit.tracking.models import CarrierEndpoint, Shipment, ShipmentReference, ShipmentStatus

logger = logging.getLogger("ismit.tracking.poller")
MAX_PAGES = 50


class PollError(Exception):
    pass


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    pages: int = 0
    errors: list[str] = field(default_factory=list)


def _get(endpoint: CarrierEndpoint, params: dict) -> tuple[object, str | None]:
    url = f"{endpoint.base_url}/events?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(  # noqa: S310
        url,
        headers={
            "Authorization": f"Bearer {endpoint.token}",
            "Accept": "application/json",
            "API-Version": dm.API_VERSION,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=endpoint.timeout_s) as response:  # noqa: S310
            body, cursor = response.read(), response.headers.get("Next-Page-Cursor")
    except urllib.error.HTTPError as exc:
        raise PollError(f"GET {url} answered {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PollError(f"GET {url} failed: {exc}")
    try:
        return json.loads(body), cursor
    except ValueError:
        raise PollError(f"GET {url}: the answer is not JSON")


def _filter_of(shipment: Shipment) -> dict | None:
    refs = dict(
        ShipmentReference.objects.filter(shipment=shipment)
        .order_by("-kind")  # TRD before EQ before BKG: reversed below
        .values_list("kind", "value")
    )
    for kind, name in (
        ("BKG", "carrierBookingReference"),
        ("TRD", "transportDocumentReference"),
        ("EQ", "equipmentReference"),
    ):
        if kind in refs:
            return {name: refs[kind]}
    return None


def poll_shipment(endpoint: CarrierEndpoint, shipment: Shipment, result: PollResult) -> None:
    base = _filter_of(shipment)
    if base is None:
        return
    if shipment.polled_until:
        base["eventUpdatedDateTimeMin"] = dm.format_time(shipment.polled_until)
    base["limit"] = str(endpoint.page_size)
    cursor = None
    newest = shipment.polled_until
    for _page in range(MAX_PAGES):
        params = {**base, **({"cursor": cursor} if cursor else {})}
        document, cursor = _get(endpoint, params)
        result.pages += 1
        events = document.get("events") if isinstance(document, dict) else None
        if not isinstance(events, list):
            raise PollError("the answer has no events array")
        if events:
            try:
                parsed = dm.parse_events({"events": events})
            except dm.InvalidMessage as exc:
                raise PollError(f"the carrier sent events that break the standard: {exc}")
            try:
                ingested = services.ingest(
                    parsed=parsed,
                    source=f"carrier:{endpoint.pk}",
                    allowed=Shipment.objects.filter(pk=shipment.pk).values("pk"),
                    organisation=endpoint.organisation,
                    actor=None,
                )
            except services.NoShipment as exc:
                raise PollError(f"events of another shipment: {exc}")
            result.stored += len(ingested.stored)
            result.duplicates += ingested.duplicates
            for item in parsed:
                if item.event_updated_at and (newest is None or item.event_updated_at > newest):
                    newest = item.event_updated_at
        if not cursor:
            break
    if newest != shipment.polled_until:
        Shipment.objects.filter(pk=shipment.pk).update(polled_until=newest)


def poll_endpoint(endpoint: CarrierEndpoint) -> PollResult:
    result = PollResult()
    shipments = Shipment.objects.filter(carrier_endpoint=endpoint).exclude(status=ShipmentStatus.DELIVERED)
    for shipment in shipments.order_by("pk"):
        try:
            poll_shipment(endpoint, shipment, result)
        except PollError as exc:
            logger.warning("carrier endpoint %s, shipment %s: %s", endpoint.pk, shipment.pk, exc)
            result.errors.append(f"{shipment.reference}: {exc}")
    CarrierEndpoint.objects.filter(pk=endpoint.pk).update(
        last_polled_at=timezone.now(), last_error="\n".join(result.errors)[:4000]
    )
    return result


def poll_all() -> int:
    total = 0
    for endpoint in CarrierEndpoint.objects.filter(active=True).select_related("organisation"):
        total += poll_endpoint(endpoint).stored
    return total
