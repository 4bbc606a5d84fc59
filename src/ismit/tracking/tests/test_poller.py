"""The poller against the carrier simulator (`ismit carrier-sim`, its own process) over real HTTP: pages
with a cursor, 500s, pages that repeat and reorder events, new events on the next round."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from ismit.carrier_sim.main import voyage as sim_voyage
from ismit.tracking import poller, services
from ismit.tracking.models import Event, ShipmentStatus
from ismit.tracking.queries import timeline
from ismit.tracking.tests.support import BOOKING, CONTAINER, DOCUMENT, make_shipment

pytestmark = pytest.mark.django_db
ISMIT = str(Path(sys.executable).parent / "ismit")
TOKEN, ADMIN = "carrier-token-for-tests", "carrier-admin-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp_path / "carrier-sim.log").open("w")
        self.proc = subprocess.Popen(
            [
                ISMIT,
                "carrier-sim",
                "--port",
                str(self.port),
                "--db",
                str(tmp_path / "carrier.sqlite3"),
                "--token",
                TOKEN,
                "--admin-token",
                ADMIN,
                "--page-size",
                "4",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/_sim/health", timeout=1):
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"carrier-sim did not start: {(tmp_path / 'carrier-sim.log').read_text()}")
            time.sleep(0.1)

    def admin(self, path: str, payload=None):
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
            method="POST" if payload is not None else "GET",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def endpoint(sim, carrier_org):
    return services.add_carrier_endpoint(
        organisation=carrier_org, name="Atlantic Lines", base_url=sim.url, token=TOKEN, page_size=4
    )


SPEC = {
    "booking": BOOKING,
    "transportDocument": DOCUMENT,
    "equipment": CONTAINER,
    "pol": "CIABJ",
    "transshipment": "ESALG",
    "pod": "FRMRS",
    "start": "2026-01-10T08:00:00Z",
}


def voyage(sim: Sim) -> list[dict]:
    return sim.admin("/_sim/scenario", SPEC)["events"]


def test_the_poller_pulls_every_page_and_moves_the_shipment(cast, sim, endpoint):
    shipment = make_shipment(cast.msme, carrier_endpoint_id=endpoint.pk)
    events = sim_voyage(SPEC)
    sim.admin("/_sim/events", {"events": events[:7]})
    result = poller.poll_endpoint(endpoint)
    assert result.errors == [] and result.stored == 7 and result.pages == 2
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT and shipment.last_location == "CIABJ"
    requests = sim.admin("/_sim/requests")["requests"]
    assert all(f"carrierBookingReference={BOOKING}" in r for r in requests)
    assert "cursor=" in requests[-1]
    # the next round asks from the last update seen: only what is new
    sim.admin("/_sim/events", {"events": events[7:]})
    result = poller.poll_endpoint(endpoint)
    assert result.errors == [] and result.stored == len(events) - 7
    requests = sim.admin("/_sim/requests")["requests"]
    assert "eventUpdatedDateTimeMin=2026-01-13T06%3A00%3A00Z" in requests[-result.pages]
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.eta_classifier == "ACT" and shipment.last_location == "FRMRS"
    # a delivered shipment is not asked about again
    assert poller.poll_endpoint(endpoint).pages == 0


def test_failures_repeats_and_reordering_change_nothing(cast, sim, endpoint):
    shipment = make_shipment(cast.msme, carrier_endpoint_id=endpoint.pk)
    events = voyage(sim)
    sim.admin("/_sim/config", {"fail_next": 1})
    failed = poller.poll_endpoint(endpoint)
    assert failed.stored == 0 and "500" in failed.errors[0]
    endpoint.refresh_from_db()
    assert "500" in endpoint.last_error
    sim.admin("/_sim/config", {"repeat": True, "reverse": True})
    result = poller.poll_endpoint(endpoint)
    assert result.errors == [] and result.stored == len(events) and result.duplicates > 0
    assert Event.objects.filter(shipment=shipment).count() == len(events)
    shipment.refresh_from_db()
    # the ETA is the actual arrival; the estimates issued later than others do not matter once arrived
    assert shipment.eta.isoformat().startswith("2026-01-24T07:00")
    assert [e.type_code for e in timeline(shipment)][-1] == "GTOT"


def test_new_events_and_faulty_pages(cast, sim, endpoint, settings):
    shipment = make_shipment(cast.msme, carrier_endpoint_id=endpoint.pk)
    sim.admin("/_sim/events", {"events": sim_voyage(SPEC)[:7]})  # on its way: still polled
    call_command("tracking", "poll")
    first = Event.objects.filter(shipment=shipment).count()
    assert first > 0
    bad = {
        "eventID": "broken",
        "eventDateTime": "soon",
        "eventUpdatedDateTime": "2030-01-01T00:00:00Z",
        "shipmentDetails": {"documentReference": {"typeCode": "BKG", "reference": BOOKING}},
    }
    sim.admin("/_sim/events", {"events": [bad]})
    result = poller.poll_endpoint(endpoint)
    assert result.stored == 0 and "break the standard" in result.errors[0]
    assert Event.objects.filter(shipment=shipment).count() == first
