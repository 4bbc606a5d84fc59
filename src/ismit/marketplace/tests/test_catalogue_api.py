"""The catalogue and providers API: offerings CRUD with nested lanes and rate lines, CSV, providers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ismit.accounts.models import Membership, Role
from ismit.accounts.services import create_api_token
from ismit.marketplace.models import Provider, ServiceOffering
from ismit.marketplace.tests.support import make_offering

pytestmark = pytest.mark.django_db
JSON = "application/json"
BASE = "/api/v1/marketplace/offerings"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def body(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "name": "Sea groupage Abidjan–Marseille",
        "service_type": "carriage",
        "currency": "EUR",
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=90)).isoformat(),
        "modes": ["1"],
        "transit_days": 18,
        "lanes": [{"origin_country": "CI", "origin_location": "CIABJ", "destination_country": "FR"}],
        "rate_lines": [
            {"code": "FRT", "description": "Ocean freight", "basis": "kg", "amount": "0.42"},
            {"code": "MIN", "description": "Minimum", "basis": "minimum", "amount": "180"},
            {
                "code": "BAF",
                "description": "Bunker",
                "basis": "shipment",
                "amount": "35",
                "is_surcharge": True,
            },
        ],
    }
    data.update(overrides)
    return data


def test_a_provider_publishes_reads_replaces_and_deactivates_an_offering(client, cast):
    headers = bearer(cast.forwarder)
    created = client.post(BASE, body(), content_type=JSON, headers={**headers, "Idempotency-Key": "k-1"})
    assert created.status_code == 201, created.content
    offering = created.json()
    assert offering["provider"] == "Sahel Freight" and offering["active"] is True
    assert [line["code"] for line in offering["rate_lines"]] == ["FRT", "MIN", "BAF"]
    assert offering["lanes"][0]["origin_location"] == "CIABJ"
    # a retry with the same key creates nothing
    again = client.post(BASE, body(), content_type=JSON, headers={**headers, "Idempotency-Key": "k-1"})
    assert again.json()["id"] == offering["id"] and ServiceOffering.objects.count() == 1
    url = f"{BASE}/{offering['id']}"
    assert client.get(url, headers=bearer(cast.exporter)).json()["name"] == offering["name"]
    replaced = client.put(
        url, body(name="Sea LCL", rate_lines=[body()["rate_lines"][0]]), content_type=JSON, headers=headers
    )
    assert replaced.status_code == 200 and replaced.json()["name"] == "Sea LCL"
    assert len(replaced.json()["rate_lines"]) == 1
    off = client.post(f"{url}/deactivate", headers=headers)
    assert off.status_code == 200 and off.json()["active"] is False
    # an inactive offering is its provider's only
    assert client.get(url, headers=bearer(cast.exporter)).status_code == 404
    mine = client.get(f"{BASE}?mine=true", headers=headers).json()
    assert [o["id"] for o in mine["results"]] == [offering["id"]]


def test_errors_are_problem_documents_by_field(client, cast):
    answer = client.post(
        BASE,
        body(currency="ZZZ", lanes=[{"origin_country": "CI", "destination_country": "QQ"}]),
        content_type=JSON,
        headers=bearer(cast.forwarder),
    )
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in answer.json()["errors"]} == {"currency", "lanes[0].destination_country"}


def test_others_cannot_change_an_offering_404_if_unseen_403_if_seen(client, cast):
    offering = make_offering(cast.forwarder_org)
    Membership.objects.create(user=cast.viewer, organisation=cast.forwarder_org, role=Role.READ_ONLY)
    url = f"{BASE}/{offering.pk}"
    for user in (cast.exporter, cast.viewer, cast.broker):
        headers = bearer(user)
        assert client.put(url, body(), content_type=JSON, headers=headers).status_code == 403
        assert client.post(f"{url}/deactivate", headers=headers).status_code == 403
        assert (
            client.put(f"{url}/rates.csv", b"x", content_type="text/csv", headers=headers).status_code == 403
        )
    offering.active = False
    offering.save()
    assert client.put(url, body(), content_type=JSON, headers=bearer(cast.exporter)).status_code == 404
    assert client.get(url).status_code == 401


def test_nested_lanes_and_rate_lines(client, cast):
    headers = bearer(cast.forwarder)
    offering = make_offering(cast.forwarder_org)
    url = f"{BASE}/{offering.pk}"
    lane = client.post(
        f"{url}/lanes",
        {"origin_country": "GH", "destination_country": "FR"},
        content_type=JSON,
        headers=headers,
    )
    assert lane.status_code == 201
    assert client.delete(f"{url}/lanes/{lane.json()['id']}", headers=headers).status_code == 204
    line = client.post(
        f"{url}/rate-lines",
        {"code": "DOC", "basis": "shipment", "amount": "25", "is_surcharge": True},
        content_type=JSON,
        headers=headers,
    )
    assert line.status_code == 201 and line.json()["description"] == "DOC"
    line_url = f"{url}/rate-lines/{line.json()['id']}"
    changed = client.put(
        line_url, {"code": "DOC", "basis": "shipment", "amount": "30"}, content_type=JSON, headers=headers
    )
    assert changed.json()["amount"] == "30.0000"
    assert client.delete(line_url, headers=headers).status_code == 204
    # a rate line of another offering is not reached through this one
    other = make_offering(cast.forwarder_org, name="other")
    assert (
        client.delete(f"{url}/rate-lines/{other.rate_lines.first().pk}", headers=headers).status_code == 404
    )


def test_price_a_sample_cargo(client, cast):
    offering = make_offering(cast.forwarder_org)
    answer = client.post(
        f"{BASE}/{offering.pk}/price",
        {"gross_mass_kg": "2000"},
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert answer.status_code == 200
    assert answer.json()["priced"] is True and answer.json()["total"] == "935.00"
    none = client.post(f"{BASE}/{offering.pk}/price", {}, content_type=JSON, headers=bearer(cast.exporter))
    assert none.json()["priced"] is False


def test_rate_card_csv_round_trip_and_row_errors(client, cast):
    headers = bearer(cast.forwarder)
    offering = make_offering(cast.forwarder_org)
    url = f"{BASE}/{offering.pk}/rates.csv"
    exported = client.get(url, headers=headers)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode().replace("0.45", "0.47")
    replaced = client.put(url, text, content_type="text/csv", headers=headers)
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["rate_lines"][0]["amount"] == "0.4700"
    bad = client.put(url, text.replace("0.47", "zero"), content_type="text/csv", headers=headers)
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"] == [
        {
            "row": 2,
            "column": "amount",
            "field": "rate_lines[0].amount",
            "message": "Enter a number.",
            "value": "zero",
        }
    ]
    whole = client.get("/api/v1/marketplace/catalogue.csv", headers=headers)
    imported = client.put(
        "/api/v1/marketplace/catalogue.csv",
        whole.content.replace(b"Sea groupage", b"Copy of"),
        content_type="text/csv",
        headers=headers,
    )
    assert imported.status_code == 200 and len(imported.json()["created"]) == 1


def test_providers_directory_profile_and_operator_actions(client, cast):
    make_offering(cast.forwarder_org)
    make_offering(cast.broker_org, service_type="customs_brokerage", modes=())
    listed = client.get("/api/v1/marketplace/providers", headers=bearer(cast.exporter)).json()
    assert {p["name"] for p in listed["results"]} == {"Sahel Freight", "Transit Lagunaire"}
    profile = client.get(
        f"/api/v1/marketplace/providers/{cast.forwarder_org.pk}", headers=bearer(cast.exporter)
    )
    assert profile.status_code == 200 and profile.json()["score_weights"]["on_time"] == 30
    url = f"/api/v1/marketplace/providers/{cast.forwarder_org.pk}"
    assert (
        client.post(
            f"{url}/suspend", {"reason": "x"}, content_type=JSON, headers=bearer(cast.exporter)
        ).status_code
        == 403
    )
    no_reason = client.post(
        f"{url}/suspend", {"reason": ""}, content_type=JSON, headers=bearer(cast.operator)
    )
    assert no_reason.status_code == 422
    suspended = client.post(
        f"{url}/suspend", {"reason": "Fraud inquiry"}, content_type=JSON, headers=bearer(cast.operator)
    )
    assert suspended.status_code == 200 and suspended.json()["provider"]["status"] == "suspended"
    # others no longer see it; the operator does
    assert client.get(url, headers=bearer(cast.exporter)).status_code == 404
    assert client.get(url, headers=bearer(cast.operator)).json()["status"] == "suspended"
    assert (
        client.post(f"{url}/reinstate", {}, content_type=JSON, headers=bearer(cast.operator)).status_code
        == 200
    )
    left = client.post(f"{url}/exit", {"reason": "Closed"}, content_type=JSON, headers=bearer(cast.operator))
    assert left.json()["provider"]["status"] == "left" and left.json()["deactivated_offerings"] == 1
    assert (
        client.post(
            f"/api/v1/marketplace/providers/{cast.msme.pk}/suspend",
            {"reason": "x"},
            content_type=JSON,
            headers=bearer(cast.broker),
        ).status_code
        == 404
    )


def test_a_provider_leaves_through_the_api(client, cast):
    make_offering(cast.broker_org, service_type="customs_brokerage", modes=())
    answer = client.post(
        "/api/v1/marketplace/providers/me/leave",
        {"reason": "Retiring"},
        content_type=JSON,
        headers=bearer(cast.broker),
    )
    assert answer.status_code == 200 and answer.json()["provider"]["status"] == "left"
    assert Provider.objects.get(organisation=cast.broker_org).status_reason == "Retiring"
