"""The /api/v1 shipments: created from a trade, listed with filters, the detail with its timeline; access
grants, share links, the periodic alert check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ismit.audit.models import AuditEvent
from ismit.tracking import services
from ismit.tracking.models import Alert, ShareLink
from ismit.tracking.tests.support import bearer, event, make_shipment, voyage

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_a_shipment_is_created_from_a_trade_listed_and_shown(client, cast, cashew_trade):
    headers = bearer(cast.exporter, cast.msme)
    body = {
        "trade_id": cashew_trade.pk,
        "carrier_booking_reference": "BK-1",
        "equipment_references": ["MSKU1234565"],
        "planned_arrival": "2026-01-20T00:00:00Z",
    }
    created = client.post("/api/v1/shipments", body, content_type=JSON, headers=headers)
    assert created.status_code == 201, created.content
    shipment = created.json()
    assert shipment["reference"] == cashew_trade.reference and shipment["route"] == ["CIABJ", "FRMRS"]
    bad = client.post(
        "/api/v1/shipments",
        {**body, "reference": "X", "equipment_references": ["MSKU1234566"]},
        content_type=JSON,
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "equipment_references[0]"
    late = event("e-1", "TRANSPORT", "ARRI", "EST", 500, place="FRMRS", booking="BK-1")
    assert client.post("/dcsa/tnt/v3/events", [late], content_type=JSON, headers=headers).status_code == 200
    assert [
        s["id"] for s in client.get("/api/v1/shipments?filter=delayed", headers=headers).json()["results"]
    ] == [shipment["id"]]
    assert client.get("/api/v1/shipments?filter=in_transit", headers=headers).json()["results"] == []
    assert client.get("/api/v1/shipments?q=MSKU1234565", headers=headers).json()["count"] == 1
    detail = client.get(f"/api/v1/shipments/{shipment['id']}", headers=headers).json()
    assert detail["delayed"] and detail["slip_hours"] > 24
    assert [e["event_id"] for e in detail["timeline"]] == ["e-1"]
    assert [a["kind"] for a in detail["alerts"]] == ["delay"]
    assert detail["route_stops"][0]["code"] == "CIABJ" and detail["route_stops"][0]["latitude"] is not None
    assert any(step["code"] == "arrived" for step in detail["checklist"])
    assert client.get("/api/v1/shipments", headers=bearer(cast.other)).json()["count"] == 0
    assert client.get(f"/api/v1/shipments/{shipment['id']}", headers=bearer(cast.other)).status_code == 404


def test_access_grants_let_a_provider_see_the_shipment(client, cast, carrier_org):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    url = f"/api/v1/shipments/{shipment.pk}/access"
    granted = client.post(url, {"organisation_id": carrier_org.pk}, content_type=JSON, headers=headers)
    assert granted.status_code == 201, granted.content
    assert client.get(f"/api/v1/shipments/{shipment.pk}", headers=bearer(cast.carrier)).status_code == 200
    assert (
        client.post(url, {"organisation_id": cast.msme.pk}, content_type=JSON, headers=headers).status_code
        == 422
    )
    carrier = bearer(cast.carrier)
    assert client.delete(f"{url}/{granted.json()['id']}", headers=carrier).status_code == 403
    assert client.delete(f"{url}/{granted.json()['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/shipments/{shipment.pk}", headers=carrier).status_code == 404


def test_share_links_expire_are_revoked_and_audited(client, cast):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    url = f"/api/v1/shipments/{shipment.pk}/share-links"
    created = client.post(url, {"days": 7, "label": "Buyer"}, content_type=JSON, headers=headers)
    assert created.status_code == 201
    token = created.json()["token"]
    assert services.open_share_link(token=token) == shipment
    assert AuditEvent.objects.filter(action="tracking.share_link_opened").count() == 1
    assert client.post(url, {"days": 7}, content_type=JSON, headers=bearer(cast.viewer)).status_code == 403
    assert client.get(url, headers=bearer(cast.other)).status_code == 404
    link_id = created.json()["id"]
    assert client.delete(f"{url}/{link_id}", headers=headers).status_code == 204
    from django.http import Http404

    with pytest.raises(Http404):
        services.open_share_link(token=token)
    _link, expired = services.create_share_link(
        actor=__import__("ismit.accounts.actors", fromlist=["x"]).actor_for(cast.exporter),
        shipment=shipment,
        days=1,
    )
    ShareLink.objects.filter(hint=expired[:6]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Http404):
        services.open_share_link(token=expired)


def test_the_periodic_check_raises_silence_and_missing_documents(client, cast, cashew_trade, settings):
    settings.TRACKING_SILENCE_DAYS = 3
    quiet = make_shipment(cast.msme, reference="QUIET")
    client.post(
        "/dcsa/tnt/v3/events", voyage()[:4], content_type=JSON, headers=bearer(cast.exporter, cast.msme)
    )
    soon = make_shipment(
        cast.msme,
        reference="SOON",
        trade=cashew_trade,
        booking="BK-SOON",
        planned_departure=timezone.now() + dt.timedelta(days=1),
        planned_arrival=None,
    )
    assert services.check_alerts() > 0
    assert Alert.objects.filter(shipment=quiet, kind="silence").count() == 1
    missing = set(Alert.objects.filter(shipment=soon, kind="missing_document").values_list("key", flat=True))
    assert "missing_document:commercial_invoice" in missing
    assert services.check_alerts() == 0  # once per key
