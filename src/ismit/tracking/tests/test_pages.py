"""The tracking pages: the list with its filters, following a shipment from a trade, the shipment page
(timeline, ETA, map data, checklist, alerts), share links for the buyer, providers' access, the settings."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.tracking import services
from ismit.tracking.models import AlertPreference, ShareLink, Shipment, WebhookEndpoint
from ismit.tracking.tests.support import (
    event,
    make_access,
    make_share_link,
    make_shipment,
    make_webhook,
    voyage,
)

pytestmark = pytest.mark.django_db


def _post(cast, events):
    return services.post_events(actor=actor_for(cast.exporter), organisation=cast.msme, document=events)


def _map_data(html: str) -> dict:
    found = re.search(r'<script id="shipment-map-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the map's data is missing"
    return json.loads(found.group(1))


def test_the_owner_sees_timeline_eta_map_and_checklist(client, cast, cashew_trade):
    shipment = make_shipment(cast.msme, trade=cashew_trade)
    _post(cast, voyage())
    _post(cast, [event("e-depa", "TRANSPORT", "DEPA", "ACT", 75, updated=76, place="CIABJ")])  # a correction
    client.force_login(cast.colleague)
    answer = client.get(f"/shipments/{shipment.pk}/")
    assert answer.status_code == 200
    html = answer.content.decode()
    rows = re.findall(r'data-event="([^"]+)"', html)
    assert rows == ["e-conf", "e-gtin", "e-load", "e-depa", "e-eta-1", "e-eta-2"]
    depa = html.split('data-event="e-depa"', 1)[1].split("</tr>", 1)[0]
    assert "corrected" in depa and "e-gtin" not in depa
    shipment.refresh_from_db()
    assert shipment.delayed
    assert 'id="slip"' in html and "30 hours later than planned" in html
    data = _map_data(html)
    assert [s["code"] for s in data["stops"]] == ["CIABJ", "ESALG", "FRMRS"]
    assert data["stops"][0]["passed"] and not data["stops"][2]["passed"]
    assert data["lastSeen"]["code"] == "CIABJ" and data["lastSeen"]["lat"] is not None
    assert data["tiles"] == "" and data["outline"].endswith("tracking/land-110m.geojson")
    assert "shipment-steps" in html and 'class="alert delay"' in html
    assert 'id="share-form"' in html  # a member may share


def test_the_map_uses_the_configured_tile_server(client, cast, settings):
    settings.MAP_TILES_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    shipment = make_shipment(cast.msme)
    client.force_login(cast.exporter)
    assert _map_data(client.get(f"/shipments/{shipment.pk}/").content.decode())["tiles"].startswith(
        "https://"
    )


def test_the_page_speaks_the_users_language(client, cast):
    shipment = make_shipment(cast.msme)
    _post(cast, voyage())
    client.force_login(cast.exporter)
    client.cookies["django_language"] = "fr"  # set at login from the user's language
    html = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert '<html lang="fr">' in html


def test_the_list_filters_shipments(client, cast):
    late = make_shipment(cast.msme, reference="LATE")
    make_shipment(cast.msme, reference="QUIET", booking="OTHER-1")
    _post(cast, voyage())
    client.force_login(cast.exporter)
    assert re.findall(r'data-shipment="(\d+)"', client.get("/shipments/").content.decode()).__len__() == 2
    for name in ("delayed", "in_transit"):
        html = client.get(f"/shipments/?filter={name}").content.decode()
        assert re.findall(r'data-shipment="(\d+)"', html) == [str(late.pk)], name
    htmx = client.get("/shipments/?q=APZU4812090", headers={"HX-Request": "true"})
    assert "<html" not in htmx.content.decode()
    assert re.findall(r'data-shipment="(\d+)"', htmx.content.decode()) == [str(late.pk)]
    client.force_login(cast.other)
    assert "data-shipment=" not in client.get("/shipments/").content.decode()


def test_a_shipment_is_followed_from_its_trade(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    tab = client.get(f"/shipments/?trade={cashew_trade.pk}")
    assert tab.status_code == 200 and f"/shipments/new/?trade={cashew_trade.pk}" in tab.content.decode()
    form = client.get(f"/shipments/new/?trade={cashew_trade.pk}")
    assert f'<option value="{cashew_trade.pk}" selected>' in form.content.decode()
    bad = client.post("/shipments/new/", {"trade": cashew_trade.pk, "containers": "MSKU1234566"})
    assert bad.status_code == 422 and 'data-field="containers"' in bad.content.decode()
    done = client.post(
        "/shipments/new/",
        {"trade": cashew_trade.pk, "containers": "MSKU1234565", "planned_arrival": "2026-03-01T10:00"},
    )
    shipment = Shipment.objects.get(trade=cashew_trade)
    assert done.status_code == 302 and done["Location"] == f"/shipments/{shipment.pk}/"
    assert shipment.route == ["CIABJ", "FRMRS"] and shipment.planned_arrival.tzinfo is not None
    client.force_login(cast.other)
    assert client.get(f"/shipments/?trade={cashew_trade.pk}").status_code == 404


def test_a_share_link_opens_a_read_only_page_until_revoked(client, cast, cashew_trade):
    shipment = make_shipment(cast.msme, trade=cashew_trade)
    _post(cast, voyage())
    client.force_login(cast.exporter)
    made = client.post(f"/shipments/{shipment.pk}/share-links/", {"days": 7, "label": "Buyer"})
    assert made.status_code == 200
    url = re.search(r'value="([^"]+)" id="new-share-link-url"', made.content.decode()).group(1)
    path = "/" + url.split("/", 3)[3]
    link = ShareLink.objects.get(shipment=shipment)
    client.logout()
    shared = client.get(path)
    assert shared.status_code == 200
    html = shared.content.decode()
    assert re.findall(r'data-event="([^"]+)"', html)[:2] == ["e-conf", "e-gtin"]
    assert "shipment-map-data" in html and 'id="eta"' in html
    assert "share-form" not in html and "/documents/" not in html and "shipment-steps" not in html
    assert AuditEvent.objects.filter(action="tracking.share_link_opened", object_id=str(link.pk)).exists()
    client.force_login(cast.viewer)  # read-only member: may look, not revoke
    assert client.post(f"/shipments/{shipment.pk}/share-links/{link.pk}/revoke/").status_code == 403
    client.force_login(cast.other)
    assert client.post(f"/shipments/{shipment.pk}/share-links/{link.pk}/revoke/").status_code == 404
    client.force_login(cast.exporter)
    assert client.post(f"/shipments/{shipment.pk}/share-links/{link.pk}/revoke/").status_code == 302
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get("/s/not-a-token/").status_code == 404


def test_an_expired_link_opens_nothing(client, cast):
    shipment = make_shipment(cast.msme)
    link, token = services.create_share_link(actor=actor_for(cast.exporter), shipment=shipment, days=1)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert client.get(f"/s/{token}/").status_code == 404


def test_providers_are_authorised_and_see_the_page_without_the_owners_tools(client, cast):
    shipment = make_shipment(cast.msme)
    client.force_login(cast.exporter)
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert f'<option value="{cast.forwarder_org.pk}">' in page
    assert (
        client.post(f"/shipments/{shipment.pk}/access/", {"organisation": cast.forwarder_org.pk}).status_code
        == 302
    )
    client.force_login(cast.forwarder)
    seen = client.get(f"/shipments/{shipment.pk}/")
    assert seen.status_code == 200 and "share-form" not in seen.content.decode()
    access = shipment.accesses.get()
    assert client.post(f"/shipments/{shipment.pk}/access/{access.pk}/revoke/").status_code == 403
    client.force_login(cast.exporter)
    assert client.post(f"/shipments/{shipment.pk}/access/{access.pk}/revoke/").status_code == 302
    client.force_login(cast.forwarder)
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 404
    client.force_login(cast.stranger)
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 404


def test_the_settings_keep_webhooks_and_alert_choices(client, cast):
    client.force_login(cast.exporter)
    assert client.get("/shipments/settings/").status_code == 200
    short = client.post(
        "/shipments/settings/webhooks/", {"url": "https://hooks.example/x", "secret": "short"}
    )
    assert short.status_code == 422
    made = client.post(
        "/shipments/settings/webhooks/",
        {"url": "https://hooks.example/x", "secret": "s" * 20, "kinds": ["delay", "customs_hold"]},
    )
    assert made.status_code == 302
    hook = WebhookEndpoint.objects.get(organisation=cast.msme)
    assert hook.kinds == ["delay", "customs_hold"] and hook.secret == "s" * 20
    client.post("/shipments/settings/alerts/", {"delay-in_app": "on"})
    delay = AlertPreference.objects.get(user=cast.exporter, kind="delay")
    assert delay.in_app and not delay.email
    assert not AlertPreference.objects.get(user=cast.exporter, kind="event").in_app
    client.force_login(cast.other)
    assert client.post(f"/shipments/settings/webhooks/{hook.pk}/delete/").status_code == 404
    client.force_login(cast.exporter)
    assert client.post(f"/shipments/settings/webhooks/{hook.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.get(pk=hook.pk).active


def test_the_sample_makers_make_what_the_isolation_tests_need(client, cast):
    link, token = make_share_link(cast.msme)
    access = make_access(cast.msme, cast.forwarder_org)
    hook = make_webhook(cast.msme)
    client.force_login(cast.other)
    assert client.get(f"/shipments/{link.shipment_id}/").status_code == 404
    assert client.post(f"/shipments/{access.shipment_id}/access/{access.pk}/revoke/").status_code == 404
    assert client.post(f"/shipments/settings/webhooks/{hook.pk}/delete/").status_code == 404
    client.logout()
    assert client.get(f"/s/{token}/").status_code == 200
