"""End to end: an MSME follows a shipment from its trade, the carrier's events arrive through the DCSA API
(`POST /dcsa/tnt/v3/events`, real HTTP), the MSME sees the timeline, the ETA and the map with the route
drawn, and shares a link; the buyer (another browser, not logged in) opens it and sees the timeline; once
the MSME revokes the link, it opens nothing.

The MSME's API token is made in the platform's database before the browsers start; everything else goes
through the pages and the API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser import log_in
from tests.e2e.conftest import ISMIT

pytestmark = pytest.mark.browser

PASSWORD = "ismit-demo"
MSME = "msme1@demo.ismit.example"
BOOKING = "E2EBK0001"
CONTAINER = "APZU4812090"
PARTY = {"partyCode": "SIMC", "codeListProvider": "SMDG", "codeListName": "LCL", "partyFunction": "CA"}

TOKEN = """
from ismit.accounts.models import User
from ismit.accounts.services import create_api_token
_token, key = create_api_token(user=User.objects.get(email="msme1@demo.ismit.example"), name="e2e carrier")
print("KEY" + key)
"""


def _event(event_id, kind, code, classifier, when, place, updated=None):
    field = {"TRANSPORT": "transportEventTypeCode", "EQUIPMENT": "equipmentEventTypeCode"}[kind]
    body = {
        "eventRouting": {"originatingParty": PARTY},
        "eventID": event_id,
        "eventDateTime": when,
        "eventUpdatedDateTime": updated or when,
        "eventClassification": {"eventTypeCode": kind, "eventClassifierCode": classifier, field: code},
        "eventLocation": {"UNLocationCode": place},
        "shipmentDetails": {"documentReference": {"typeCode": "BKG", "reference": BOOKING}},
    }
    if kind == "EQUIPMENT":
        body["equipmentDetails"] = {"equipmentReference": CONTAINER, "ISOEquipmentCode": "22GP"}
    return body


EVENTS = [
    _event("e2e-gtin", "EQUIPMENT", "GTIN", "ACT", "2026-02-01T08:00:00Z", "CIABJ"),
    _event("e2e-load", "EQUIPMENT", "LOAD", "ACT", "2026-02-02T09:00:00Z", "CIABJ"),
    _event("e2e-depa", "TRANSPORT", "DEPA", "ACT", "2026-02-02T18:00:00Z", "CIABJ"),
    _event("e2e-eta", "TRANSPORT", "ARRI", "EST", "2026-02-16T06:00:00Z", "FRMRS", "2026-02-03T00:00:00Z"),
]


@pytest.fixture
def api_key(live_platform, server_database):
    env = {**os.environ, "DATABASE_URL": server_database}
    done = subprocess.run([ISMIT, "shell", "-c", TOKEN], env=env, check=True, capture_output=True, text=True)
    return done.stdout.split("KEY", 1)[1].strip()


def _post_events(base: str, key: str, events: list[dict]) -> dict:
    request = urllib.request.Request(
        f"{base}/dcsa/tnt/v3/events",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def test_shipment_page_map_and_share_link(live_platform, browser, api_key):
    base = live_platform
    owner = browser.new_context(locale="en-GB")
    buyer = browser.new_context(locale="en-GB")
    try:
        page = owner.new_page()
        page.set_default_timeout(15000)
        log_in(page, base, MSME, PASSWORD)

        # From the trade's "Shipments" tab, follow a shipment by its booking number.
        page.goto(f"{base}/trades/")
        page.get_by_role("link", name="DEMO-EXP-0001").first.click()
        page.locator('nav.tabs a[href*="/shipments/?trade="]').click()
        page.locator('a[href*="/shipments/new/?trade="]').click()
        page.fill("#id_reference", "E2E-SHIP-1")
        page.fill("#id_carrier_booking_reference", BOOKING)
        page.fill("#id_containers", CONTAINER)
        page.fill("#id_route", "CIABJ ESALG FRMRS")
        page.fill("#id_planned_arrival", "2026-02-14T06:00")
        page.locator("#shipment-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/shipments/\d+/$"))
        shipment_url = page.url

        # The carrier's events arrive through the DCSA API.
        answer = _post_events(base, api_key, EVENTS)
        assert answer.get("feedbackElements", []) == [] or all(
            f["severity"] != "ERROR" for f in answer["feedbackElements"]
        )
        page.reload()
        rows = page.locator("#timeline tr.event")
        expect(rows).to_have_count(4)
        expect(page.locator('#timeline tr[data-event="e2e-depa"]')).to_be_visible()
        expect(page.locator("#eta")).to_contain_text("2026")
        expect(page.locator("#slip .badge.blocked")).to_be_visible()  # 48 hours after the plan
        expect(page.locator("#last-seen")).to_contain_text("CIABJ")
        # The map: the route covered and ahead drawn by Leaflet, the last position, the world outline.
        expect(page.locator('#shipment-map[data-ready="true"]')).to_be_attached()
        expect(page.locator("#shipment-map .leaflet-overlay-pane path.route-covered")).to_have_count(1)
        expect(page.locator("#shipment-map .leaflet-overlay-pane path.route-ahead")).to_have_count(1)
        expect(page.locator("#shipment-map path.last-seen")).to_have_count(1)
        expect(page.locator("#shipment-map .leaflet-overlay-pane path.land")).to_have_count(1)

        # A link for the buyer.
        page.fill("#id_label", "Buyer in Marseille")
        page.locator("#share-form button[type=submit]").click()
        link = page.locator("#new-share-link-url").input_value()
        assert re.search(r"/s/[\w-]+/$", link), link

        visitor = buyer.new_page()
        visitor.set_default_timeout(15000)
        opened = visitor.goto(link)
        assert opened.status == 200
        expect(visitor.locator("#timeline tr.event")).to_have_count(4)
        expect(visitor.locator("#shipment-map .leaflet-overlay-pane path.route-ahead")).to_have_count(1)
        expect(visitor.locator("#share-form")).to_have_count(0)
        expect(visitor.locator('a[href*="/documents/"]')).to_have_count(0)

        # Revoked: the buyer's link opens nothing any more.
        page.goto(shipment_url)
        page.locator("table.share-links form button[type=submit]").first.click()
        expect(page.locator("table.share-links .badge.not_needed")).to_have_count(1)
        assert visitor.goto(link).status == 404
    finally:
        owner.close()
        buyer.close()
