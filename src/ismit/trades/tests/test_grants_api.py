"""Grants through the API: the owner appoints and revokes a customs broker; the broker sees that one trade."""

from __future__ import annotations

import json

import pytest

from conftest import cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.accounts.models import Organisation, VerificationStatus
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.trades.models import Trade, TradeGrant
from ismit.trades.services import appoint, create_trade, revoke_grant

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def grants_url(trade) -> str:
    return f"/api/v1/trades/{trade.pk}/grants"


@pytest.fixture
def grant(cast, cashew_trade, exporter_actor) -> TradeGrant:
    return appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope="customs")


@pytest.fixture
def second_trade(cast, exporter_actor) -> Trade:
    return create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())


def post(client, trade, user, body: dict):
    return client.post(grants_url(trade), json.dumps(body), content_type=JSON, headers=bearer(user))


def problem_fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# -- appoint, list, revoke --------------------------------------------------------------------------


def test_the_owner_appoints_lists_and_revokes_a_broker(client, cast, cashew_trade):
    created = post(
        client, cashew_trade, cast.exporter, {"organisation": cast.broker_org.pk, "scope": "customs"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["trade"] == cashew_trade.pk
    assert body["organisation"] == cast.broker_org.pk
    assert body["organisation_name"] == "Transit Lagunaire"
    assert body["scope"] == "customs" and body["active"] is True and body["revoked_at"] is None

    listed = client.get(grants_url(cashew_trade), headers=bearer(cast.viewer))  # read-only sees all
    assert [g["id"] for g in listed.json()] == [body["id"]]

    deleted = client.delete(f"{grants_url(cashew_trade)}/{body['id']}", headers=bearer(cast.exporter))
    assert deleted.status_code == 204, deleted.content
    assert TradeGrant.objects.get(pk=body["id"]).revoked_at is not None
    after = client.get(grants_url(cashew_trade), headers=bearer(cast.exporter)).json()
    assert [(g["id"], g["active"]) for g in after] == [(body["id"], False)]
    assert (
        AuditEvent.objects.filter(organisation_id=cast.msme.pk, action__startswith="trade.grant_").count()
        == 2
    )


def test_the_scope_defaults_to_customs(client, cast, cashew_trade):
    created = post(client, cashew_trade, cast.exporter, {"organisation": cast.broker_org.pk})
    assert created.status_code == 201 and created.json()["scope"] == "customs"


@pytest.mark.parametrize("who", ["viewer", "broker"])
def test_who_sees_the_trade_but_may_not_change_it_gets_403(client, cast, cashew_trade, grant, who):
    response = post(client, cashew_trade, getattr(cast, who), {"organisation": cast.broker_org.pk})
    assert response.status_code == 403, response.content
    response = client.delete(f"{grants_url(cashew_trade)}/{grant.pk}", headers=bearer(getattr(cast, who)))
    assert response.status_code == 403, response.content
    grant.refresh_from_db()
    assert grant.is_active


def test_another_organisation_gets_404(client, cast, cashew_trade, grant):
    headers = bearer(cast.other)
    assert client.get(grants_url(cashew_trade), headers=headers).status_code == 404
    assert post(client, cashew_trade, cast.other, {"organisation": cast.broker_org.pk}).status_code == 404
    assert client.delete(f"{grants_url(cashew_trade)}/{grant.pk}", headers=headers).status_code == 404
    grant.refresh_from_db()
    assert grant.is_active


def test_a_grant_of_another_trade_is_404(client, cast, cashew_trade, second_trade, grant):
    response = client.delete(f"{grants_url(second_trade)}/{grant.pk}", headers=bearer(cast.exporter))
    assert response.status_code == 404


@pytest.mark.parametrize("org", ["forwarder_org", "other_msme", "unverified", "missing"])
def test_only_a_verified_customs_broker_can_be_appointed(client, cast, cashew_trade, org):
    if org == "unverified":
        organisation_id = Organisation.objects.create(
            legal_name="Transit Nouveau",
            kind="provider",
            provider_types=["broker"],
            country="CI",
            city="Abidjan",
            verification_status=VerificationStatus.PENDING,
        ).pk
    elif org == "missing":
        organisation_id = 999999
    else:
        organisation_id = getattr(cast, org).pk
    response = post(client, cashew_trade, cast.exporter, {"organisation": organisation_id})
    assert "organisation" in problem_fields(response)
    assert not TradeGrant.objects.exists()


def test_an_unknown_scope_is_422(client, cast, cashew_trade):
    response = post(client, cashew_trade, cast.exporter, {"organisation": cast.broker_org.pk, "scope": "x"})
    assert "scope" in problem_fields(response)


def test_appointing_twice_is_422(client, cast, cashew_trade, grant):
    response = post(client, cashew_trade, cast.exporter, {"organisation": cast.broker_org.pk})
    assert "organisation" in problem_fields(response)


def test_a_retried_appointment_with_the_same_idempotency_key_creates_one_grant(client, cast, cashew_trade):
    headers = {**bearer(cast.exporter), "Idempotency-Key": "appoint-1"}
    body = json.dumps({"organisation": cast.broker_org.pk})
    first = client.post(grants_url(cashew_trade), body, content_type=JSON, headers=headers)
    again = client.post(grants_url(cashew_trade), body, content_type=JSON, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert TradeGrant.objects.count() == 1


# -- what the broker sees ---------------------------------------------------------------------------


def test_the_broker_reads_the_trade_its_goods_and_steps(client, cast, cashew_trade, grant):
    headers = bearer(cast.broker)
    trade = client.get(f"/api/v1/trades/{cashew_trade.pk}", headers=headers)
    assert trade.status_code == 200, trade.content
    assert trade.json()["reference"] == cashew_trade.reference
    assert trade.json()["organisation"] == cast.msme.pk
    items = client.get(f"/api/v1/trades/{cashew_trade.pk}/items", headers=headers)
    assert len(items.json()) == cashew_trade.items.count() > 0
    assert client.get(f"/api/v1/trades/{cashew_trade.pk}/items/1", headers=headers).status_code == 200
    steps = client.get(f"/api/v1/trades/{cashew_trade.pk}/checklist", headers=headers)
    assert len(steps.json()) == cashew_trade.steps.count() > 0
    grants = client.get(grants_url(cashew_trade), headers=headers).json()
    assert [g["organisation"] for g in grants] == [cast.broker_org.pk]


def test_the_broker_lists_only_the_granted_trade(
    client, cast, cashew_trade, second_trade, other_trade, grant
):
    results = client.get("/api/v1/trades", headers=bearer(cast.broker)).json()["results"]
    assert [t["id"] for t in results] == [cashew_trade.pk]
    assert results[0]["organisation"] == cast.msme.pk  # not the broker's own: it is there by appointment


def test_the_broker_gets_404_on_the_msmes_other_trades_and_organisation(
    client, cast, cashew_trade, second_trade, grant
):
    headers = bearer(cast.broker)
    for url in (
        f"/api/v1/trades/{second_trade.pk}",
        f"/api/v1/trades/{second_trade.pk}/items",
        f"/api/v1/trades/{second_trade.pk}/checklist",
        f"/api/v1/trades/{second_trade.pk}/grants",
        f"/api/v1/organisations/{cast.msme.pk}",
        f"/api/v1/organisations/{cast.msme.pk}/audit",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    organisations = client.get("/api/v1/organisations", headers=headers).json()["results"]
    assert cast.msme.pk not in [o["id"] for o in organisations]


def test_the_broker_may_not_change_the_msmes_data(client, cast, cashew_trade, grant):
    headers = bearer(cast.broker)
    before = Trade.objects.filter(pk=cashew_trade.pk).values().get()
    payload = json.loads(client.get(f"/api/v1/trades/{cashew_trade.pk}", headers=headers).content)
    payload.update(invoice_number="BROKER-EDIT")
    put = client.put(
        f"/api/v1/trades/{cashew_trade.pk}", json.dumps(payload), content_type=JSON, headers=headers
    )
    assert put.status_code == 403, put.content
    item = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/items",
        json.dumps(payload["items"][0]),
        content_type=JSON,
        headers=headers,
    )
    assert item.status_code == 403, item.content
    step = client.patch(
        f"/api/v1/trades/{cashew_trade.pk}/checklist/contract",
        json.dumps({"status": "done"}),
        content_type=JSON,
        headers=headers,
    )
    assert step.status_code == 403, step.content
    assert client.delete(f"/api/v1/trades/{cashew_trade.pk}", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/trades/{cashew_trade.pk}/items/1", headers=headers).status_code == 403
    assert Trade.objects.filter(pk=cashew_trade.pk).values().get() == before


def test_after_revoke_the_broker_gets_404_at_once(client, cast, cashew_trade, exporter_actor, grant):
    headers = bearer(cast.broker)
    assert client.get(f"/api/v1/trades/{cashew_trade.pk}", headers=headers).status_code == 200
    revoke_grant(actor=exporter_actor, grant=grant)
    for url in (
        f"/api/v1/trades/{cashew_trade.pk}",
        f"/api/v1/trades/{cashew_trade.pk}/items",
        f"/api/v1/trades/{cashew_trade.pk}/checklist",
        grants_url(cashew_trade),
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    assert client.delete(f"{grants_url(cashew_trade)}/{grant.pk}", headers=headers).status_code == 404
    assert client.get("/api/v1/trades", headers=headers).json()["count"] == 0


# -- cost -------------------------------------------------------------------------------------------


def test_the_grant_adds_no_query_to_reading_or_listing(
    client, cast, cashew_trade, grant, django_assert_num_queries
):
    for user in (cast.exporter, cast.broker):
        headers = bearer(user)
        client.get("/api/v1/me", headers=headers)  # the token's first use is noted once
        with django_assert_num_queries(4):
            assert client.get(f"/api/v1/trades/{cashew_trade.pk}", headers=headers).status_code == 200
        with django_assert_num_queries(2):
            assert client.get("/api/v1/trades", headers=headers).json()["count"] == 1


def test_the_broker_list_costs_the_same_for_1_and_10_granted_trades(client, cast, django_assert_num_queries):
    exporter = actor_for(cast.exporter)
    headers = bearer(cast.broker)
    client.get("/api/v1/me", headers=headers)
    for n in range(10):
        trade = create_trade(
            actor=exporter, organisation=cast.msme, data=cashew_trade_data(reference=f"G-{n}")
        )
        appoint(actor=exporter, trade=trade, organisation=cast.broker_org, scope="customs")
    with django_assert_num_queries(2):
        assert client.get("/api/v1/trades", headers=headers).json()["count"] == 10
