"""The API and the pages of consolidation: release, list, plan, read; 404 for what the actor may not see."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils.html import escape

from ismit.accounts.services import create_api_token
from ismit.logistics.models import Consignment, LoadPlan

from .support import MONDAY, PALLETS, make_consignment, make_plan

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _, key = create_api_token(user=user, name="tests")
    return {"Authorization": f"Bearer {key}"}


def release_body(cast, **overrides) -> dict:
    body = {
        "forwarder_id": cast.forwarder_org.pk,
        "ready_from": MONDAY.isoformat(),
        "ready_to": "2026-03-06",
        "packages": PALLETS,
    }
    body.update(overrides)
    return body


def test_msme_releases_and_lists_through_the_api_once_per_key(client, cast, cashew_trade):
    headers = {**bearer(cast.exporter), "Idempotency-Key": "release-1"}
    base = f"/api/v1/trades/{cashew_trade.pk}/consignments"
    first = client.post(base, release_body(cast), content_type=JSON, headers=headers)
    again = client.post(base, release_body(cast), content_type=JSON, headers=headers)
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    assert Consignment.objects.count() == 1
    body = first.json()
    assert (body["origin"], body["destination"], body["status"], body["share"]) == (
        "CIABJ",
        "FRMRS",
        "released",
        None,
    )
    assert [c["id"] for c in client.get(base, headers=headers).json()] == [body["id"]]
    listed = client.get("/api/v1/consignments", headers=headers).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_release_from_goods_items_and_bad_packages(client, cast, cashew_trade):
    headers = bearer(cast.exporter)
    base = f"/api/v1/trades/{cashew_trade.pk}/consignments"
    body = release_body(cast, packages=None, package_size={"length_cm": 60, "width_cm": 40, "height_cm": 40})
    assert client.post(base, body, content_type=JSON, headers=headers).status_code == 201
    bad = release_body(cast, ready_to="2026-02-01")
    answer = client.post(base, bad, content_type=JSON, headers=headers)
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"


def test_other_msme_and_other_forwarders_get_404(client, cast, cashew_trade):
    consignment = make_consignment(cashew_trade, cast.forwarder_org)
    other = bearer(cast.other)
    assert client.get(f"/api/v1/trades/{cashew_trade.pk}/consignments", headers=other).status_code == 404
    assert client.get("/api/v1/consignments", headers=other).json()["count"] == 0
    forwarder = bearer(cast.forwarder)
    seen = client.get("/api/v1/consignments", headers=forwarder).json()
    assert [c["id"] for c in seen["results"]] == [consignment.pk]
    viewer = bearer(cast.viewer)  # read-only member of the MSME: 403 on a write
    answer = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/consignments",
        release_body(cast),
        content_type=JSON,
        headers=viewer,
    )
    assert answer.status_code == 403


def test_forwarder_plans_through_the_api_and_msme_reads_only_its_share(client, cast, cashew_trade):
    consignment = make_consignment(cashew_trade, cast.forwarder_org)
    headers = bearer(cast.forwarder)
    body = {
        "forwarder_id": cast.forwarder_org.pk,
        "mode": "sea",
        "origin": "CIABJ",
        "destination": "FRMRS",
        "week": "2026-03-04",
    }
    created = client.post("/api/v1/logistics/plans", body, content_type=JSON, headers=headers)
    assert created.status_code == 201, created.content
    plan = created.json()
    assert plan["summary"]["loads"] == 1 and plan["loads"][0]["load_type"] == "20DV"
    assert plan["loads"][0]["manifest"][0]["owner"] == cast.msme.legal_name
    assert client.get(f"/api/v1/logistics/plans/{plan['id']}", headers=headers).json() == plan
    exporter = bearer(cast.exporter)
    assert client.get(f"/api/v1/logistics/plans/{plan['id']}", headers=exporter).status_code == 404
    mine = client.get(f"/api/v1/trades/{cashew_trade.pk}/consignments", headers=exporter).json()[0]
    assert mine["id"] == consignment.pk and mine["status"] == "planned"
    assert mine["share"]["share"] == plan["loads"][0]["assignments"][0]["share"]
    assert mine["share"]["load_type"] == "20DV"
    # an MSME cannot plan for the forwarder
    assert (
        client.post("/api/v1/logistics/plans", body, content_type=JSON, headers=exporter).status_code == 404
    )


def test_pages_release_list_plan_and_manifest(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    url = f"/trades/{cashew_trade.pk}/consolidation/"
    assert client.get(url).status_code == 200
    answer = client.post(
        url,
        {"forwarder": cast.forwarder_org.pk, "ready_from": "2026-03-02", "ready_to": "2026-03-06",
         "category": "general", "length_cm": "40", "width_cm": "30", "height_cm": "30", "stackable": "on"},
    )  # fmt: skip
    assert answer.status_code == 302
    assert Consignment.objects.filter(trade=cashew_trade).count() == 1
    assert client.get("/logistics/").status_code == 404  # not a forwarder
    client.force_login(cast.other)
    assert client.get(url).status_code == 404
    client.force_login(cast.forwarder)
    index = client.get("/logistics/")
    assert index.status_code == 200 and b"CIABJ" in index.content
    planned = client.post(
        "/logistics/plan/",
        {
            "forwarder": cast.forwarder_org.pk,
            "mode": "sea",
            "origin": "CIABJ",
            "destination": "FRMRS",
            "week": "2026-03-02",
        },
    )
    plan = LoadPlan.objects.get()
    assert planned.status_code == 302 and planned["Location"] == f"/logistics/plans/{plan.pk}/"
    page = client.get(f"/logistics/plans/{plan.pk}/")
    assert page.status_code == 200 and cast.msme.legal_name.encode() in page.content
    rows = list(
        csv.reader(io.StringIO(client.get(f"/logistics/plans/{plan.pk}/manifest.csv").content.decode()))
    )
    assert rows[0][0] == "load" and len(rows) == 2 and rows[1][4] == cast.msme.legal_name
    client.force_login(cast.exporter)
    assert client.get(f"/logistics/plans/{plan.pk}/").status_code == 404
    assert client.get(f"/logistics/plans/{plan.pk}/manifest.csv").status_code == 404
    mine = client.get(url)
    load = plan.loads.get()
    assert escape(load.load_type_name).encode() in mine.content
    assert f"{load.assignments.get().share:,.2f}".encode() in mine.content


def test_make_plan_sample(cast, cashew_trade):
    plan = make_plan(cashew_trade, cast.forwarder_org)
    assert plan.forwarder == cast.forwarder_org and plan.loads.count() == 1
