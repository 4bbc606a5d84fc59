"""The marketplace API from request to contract, as the MSME and the provider use it (bearer tokens)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ismit.accounts.services import create_api_token
from ismit.marketplace.models import Contract, Quote, Rfq
from ismit.marketplace.tests.support import forwarder_for, make_contract, make_offering

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user, **extra) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture
def msme(cast):
    return bearer(cast.exporter)


@pytest.fixture
def provider(cast):
    make_offering(cast.forwarder_org, transit_days=21)
    return bearer(cast.forwarder)


def rfq_body(**overrides) -> dict:
    body = {
        "services": ["carriage"],
        "deadline": (timezone.now() + dt.timedelta(days=2)).isoformat(),
        "cargo": {"volume_m3": "31.5", "containers": {"20": 1}},
        "notes": "Jute bags",
    }
    body.update(overrides)
    return body


def quote_body(**overrides) -> dict:
    body = {
        "service_type": "carriage",
        "lines": [
            {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
            {"code": "BAF", "description": "Bunker surcharge", "amount": "180.00"},
        ],
        "currency": "USD",
        "valid_until": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        "transit_days": 18,
        "terms": "Door to door",
        "pickup_within_days": 2,
    }
    body.update(overrides)
    return body


def test_from_request_to_contract_through_the_api(client, cast, cashew_trade, msme, provider):
    base = f"/api/v1/trades/{cashew_trade.pk}/rfqs"
    body = rfq_body()
    created = client.post(base, body, content_type=JSON, headers={**msme, "Idempotency-Key": "rfq-1"})
    assert created.status_code == 201, created.content
    rfq = created.json()
    assert rfq["trade_id"] == cashew_trade.pk and rfq["cargo"]["volume_m3"] == "31.5"
    [carriage] = rfq["comparison"]
    assert carriage["quotes"][0]["firm"] is False  # the indicative quote from the rate card
    again = client.post(base, body, content_type=JSON, headers={**msme, "Idempotency-Key": "rfq-1"})
    assert again["Idempotent-Replayed"] == "true" and Rfq.objects.count() == 1
    listed = client.get(base, headers=msme).json()
    assert listed["count"] == 1 and listed["results"][0]["reference"] == rfq["reference"]

    # The provider's inbox, its view of the RFQ (the cargo, not the trade), its firm quote.
    inbox = client.get("/api/v1/marketplace/inbox", headers=provider).json()
    assert [i["rfq_id"] for i in inbox["results"]] == [rfq["id"]]
    assert inbox["results"][0]["cargo"]["origin_location"] == "CIABJ"
    seen = client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}", headers=provider).json()
    assert seen["trade_id"] is None and seen["cargo"]["packages"] == 812
    posted = client.post(
        f"/api/v1/marketplace/rfqs/{rfq['id']}/quotes",
        quote_body(),
        content_type=JSON,
        headers={**provider, "Idempotency-Key": "q-1"},
    )
    assert posted.status_code == 201, posted.content
    quote = posted.json()
    assert (
        quote["kind"] == "firm" and quote["total"] == "2280.00" and quote["sla"] == {"pickup_within_days": 2}
    )

    # The MSME compares in EUR (the rate and its date shown) and accepts.
    compared = client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}?sort=transit", headers=msme).json()
    assert compared["sort"] == "transit"
    row = next(r for r in compared["comparison"][0]["quotes"] if r["quote"]["id"] == quote["id"])
    assert row["currency"] == "USD" and row["converted"] and row["rate"] and row["rate_date"]
    accepted = client.post(f"/api/v1/marketplace/quotes/{quote['id']}/accept", headers=msme)
    assert accepted.status_code == 201, accepted.content
    contract = accepted.json()
    assert contract["price"] == "2280.00" and contract["currency"] == "USD"
    assert contract["sla"]["pickup_within_days"] == 2 and contract["sla"]["transit_days"] == 18

    # The provider records a milestone and invoices; the MSME sees the invoice against the quote.
    cid = contract["id"]
    milestone = client.post(
        f"/api/v1/marketplace/contracts/{cid}/milestones",
        {"code": "picked_up"},
        content_type=JSON,
        headers=provider,
    )
    assert milestone.status_code == 201, milestone.content
    invoice = client.post(
        f"/api/v1/marketplace/contracts/{cid}/invoices",
        {
            "number": "SF-9",
            "issued_on": timezone.localdate().isoformat(),
            "lines": [
                {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
                {"code": "PSS", "description": "Peak season", "amount": "50.00"},
            ],
        },
        content_type=JSON,
        headers=provider,
    )
    assert invoice.status_code == 201, invoice.content
    assert invoice.json()["variance"] == "-130.00"
    detail = client.get(f"/api/v1/marketplace/contracts/{cid}", headers=msme).json()
    statuses = {d["code"]: d["status"] for d in detail["invoices"][0]["against_quote"]}
    assert statuses == {"FRT": "same", "BAF": "missing", "PSS": "added"}
    assert [m["code"] for m in detail["milestones"]] == ["picked_up"] and detail["accesses"] == []
    assert client.get(f"/api/v1/marketplace/contracts/{cid}", headers=provider).json()["accesses"] is None

    # Completion, then the MSME's rating (once) and a claim.
    client.post(
        f"/api/v1/marketplace/contracts/{cid}/milestones",
        {"code": "completed"},
        content_type=JSON,
        headers=provider,
    )
    rating = client.post(
        f"/api/v1/marketplace/contracts/{cid}/rating", {"stars": 5}, content_type=JSON, headers=msme
    )
    assert rating.status_code == 201, rating.content
    again = client.post(
        f"/api/v1/marketplace/contracts/{cid}/rating", {"stars": 4}, content_type=JSON, headers=msme
    )
    assert again.status_code == 422
    claim = client.post(
        f"/api/v1/marketplace/contracts/{cid}/claims",
        {"reason": "One bag torn", "amount": "40.00"},
        content_type=JSON,
        headers=msme,
    )
    assert claim.status_code == 201 and claim.json()["status"] == "open"
    assert [
        c["id"] for c in client.get("/api/v1/marketplace/contracts", headers=provider).json()["results"]
    ] == [cid]


def test_a_provider_sees_only_its_own_quotes(client, cast, cashew_trade, msme, provider):
    forwarder_for()
    rfq = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/rfqs", rfq_body(), content_type=JSON, headers=msme
    ).json()
    mine = client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}", headers=provider).json()
    providers = {q["quote"]["provider_id"] for s in mine["comparison"] for q in s["quotes"]}
    assert providers == {cast.forwarder_org.pk}
    assert {i["provider_id"] for i in mine["invitations"]} == {cast.forwarder_org.pk}
    full = client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}", headers=msme).json()
    assert len({q["quote"]["provider_id"] for s in full["comparison"] for q in s["quotes"]}) == 2


def test_the_roles_are_kept_apart(client, cast, cashew_trade, msme, provider):
    rfq = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/rfqs", rfq_body(), content_type=JSON, headers=msme
    ).json()
    quote = client.post(
        f"/api/v1/marketplace/rfqs/{rfq['id']}/quotes", quote_body(), content_type=JSON, headers=provider
    ).json()
    # The provider cannot accept its own quote; the MSME cannot quote; read-only members change nothing.
    assert (
        client.post(f"/api/v1/marketplace/quotes/{quote['id']}/accept", headers=provider).status_code == 403
    )
    assert (
        client.post(
            f"/api/v1/marketplace/rfqs/{rfq['id']}/quotes", quote_body(), content_type=JSON, headers=msme
        ).status_code
        == 403
    )
    viewer = bearer(cast.viewer)
    assert client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}", headers=viewer).status_code == 200
    assert client.post(f"/api/v1/marketplace/quotes/{quote['id']}/accept", headers=viewer).status_code == 403
    # Others see nothing of it.
    for user in (cast.other, cast.broker, cast.stranger, cast.operator):
        headers = bearer(user)
        assert client.get(f"/api/v1/marketplace/rfqs/{rfq['id']}", headers=headers).status_code == 404
        assert (
            client.post(f"/api/v1/marketplace/quotes/{quote['id']}/accept", headers=headers).status_code
            == 404
        )
        assert client.get(f"/api/v1/trades/{cashew_trade.pk}/rfqs", headers=headers).status_code == 404
        assert client.get("/api/v1/marketplace/inbox", headers=headers).json()["count"] == 0
    assert not Contract.objects.exists()


def test_errors_are_problem_documents_by_field(client, cast, cashew_trade, msme, provider):
    answer = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/rfqs",
        rfq_body(services=["carriage", "magic"], deadline="2001-01-01T00:00:00Z"),
        content_type=JSON,
        headers=msme,
    )
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in answer.json()["errors"]} == {"services", "deadline"}
    rfq = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/rfqs", rfq_body(), content_type=JSON, headers=msme
    ).json()
    bad = client.post(
        f"/api/v1/marketplace/rfqs/{rfq['id']}/quotes",
        quote_body(currency="XYZ", valid_until="2001-01-01"),
        content_type=JSON,
        headers=provider,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"currency", "valid_until"}
    assert not Quote.objects.filter(kind="firm").exists()


def test_an_unverified_msme_gets_403(client, cast, cashew_trade, msme, provider):
    cast.msme.verification_status = "pending"
    cast.msme.save()
    answer = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/rfqs", rfq_body(), content_type=JSON, headers=msme
    )
    assert answer.status_code == 403


def test_list_endpoints_read_in_a_fixed_number_of_queries(client, cast, msme):
    make_contract(cast.msme)
    headers = msme
    client.get("/api/v1/marketplace/contracts", headers=headers)  # warm up (token lookup caches)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/marketplace/contracts", headers=headers).json()["count"] == 1
    for _ in range(3):
        make_contract(cast.msme)
    with CaptureQueriesContext(connection) as four:
        assert client.get("/api/v1/marketplace/contracts", headers=headers).json()["count"] == 4
    assert len(four) == len(one)
