"""The trade data set through the API: create, read, list, replace, duplicate, delete."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from conftest import cashew_trade_data
from ismit.accounts.services import create_api_token
from ismit.trades.checklist import label_for
from ismit.trades.models import Trade, TradeStatus
from ismit.trades.services import create_trade

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def trade_payload(**overrides) -> dict:
    """The cashew export as a JSON document (decimals and dates as strings)."""
    payload = json.loads(json.dumps(asdict(cashew_trade_data()), cls=DjangoJSONEncoder))
    payload.update(overrides)
    return payload


def fields_of(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_an_msme_records_its_trade_once_through_the_api(client):
    client.post(
        "/api/v1/auth/signup",
        {"email": "awa@anacarde.example", "password": "long-enough-pass-42"},
        content_type=JSON,
    )
    key = client.post(
        "/api/v1/auth/tokens",
        {"email": "awa@anacarde.example", "password": "long-enough-pass-42"},
        content_type=JSON,
    ).json()["token"]
    headers = {"Authorization": f"Bearer {key}"}
    org = client.post(
        "/api/v1/organisations",
        {"legal_name": "Anacarde SARL", "kind": "msme", "country": "CI", "city": "Abidjan"},
        content_type=JSON,
        headers=headers,
    ).json()

    created = client.post("/api/v1/trades", trade_payload(), content_type=JSON, headers=headers)
    assert created.status_code == 201
    trade = created.json()
    assert trade["organisation"] == org["id"]
    assert trade["reference"].startswith("EXP-")
    assert trade["totals"] == {
        "amount": "100250.00",
        "net_mass_kg": "20000.000",
        "gross_mass_kg": "20570.000",
        "packages": 812,
        "lines": 2,
    }
    assert trade["items"][0]["unit_price"] == "6.2000"
    assert trade["invoice_date"] == "2026-11-02"

    read = client.get(f"/api/v1/trades/{trade['id']}", headers=headers).json()
    assert read == trade

    replaced = client.put(
        f"/api/v1/trades/{trade['id']}",
        trade_payload(
            reference="PO-7781",
            buyer={"name": "Fruits Secs de Provence", "country": "FR", "city": "Marseille"},
            items=trade_payload()["items"][:1],
        ),
        content_type=JSON,
        headers=headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["reference"] == "PO-7781"
    assert replaced.json()["buyer"]["name"] == "Fruits Secs de Provence"
    assert replaced.json()["totals"]["lines"] == 1

    step = client.patch(
        f"/api/v1/trades/{trade['id']}/checklist/contract",
        {"status": "done", "note": "PO signed"},
        content_type=JSON,
        headers=headers,
    )
    assert step.status_code == 200
    assert step.json()["status"] == "done"

    copy = client.post(
        f"/api/v1/trades/{trade['id']}/duplicate",
        {"reference": "PO-7782"},
        content_type=JSON,
        headers=headers,
    )
    assert copy.status_code == 201
    assert copy.json()["reference"] == "PO-7782"
    assert copy.json()["invoice_number"] == ""
    assert copy.json()["buyer"]["name"] == "Fruits Secs de Provence"
    assert {s["status"] for s in copy.json()["checklist"]} <= {"todo", "not_needed"}

    assert client.delete(f"/api/v1/trades/{copy.json()['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/trades/{copy.json()['id']}", headers=headers).status_code == 404
    listed = client.get("/api/v1/trades", headers=headers).json()
    assert [t["reference"] for t in listed["results"]] == ["PO-7781"]
    assert listed["results"][0]["status"] == "active"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"items": [{**trade_payload()["items"][0], "hs_code": "080199"}]},
            "items[0].hs_code",
            "not an HS subheading",
        ),
        (
            {"items": [{**trade_payload()["items"][0], "gross_mass_kg": "100"}]},
            "items[0].gross_mass_kg",
            "Gross mass cannot be less than net mass",
        ),
        ({"place_of_discharge": "FRZZZ"}, "place_of_discharge", "not a UN/LOCODE location"),
        (
            {"transport_mode": "4", "place_of_loading": "CIABJ", "place_of_discharge": "FRCDG"},
            "incoterm",
            "sea and inland waterway transport only",
        ),
        (
            {"items": [{**trade_payload()["items"][0], "quantity": "a lot"}]},
            "items[0].quantity",
            "Enter a number",
        ),
        ({"seller": {"country": "CI"}}, "seller.name", "required"),
    ],
)
def test_invalid_data_is_refused_with_the_path_of_each_field(client, cast, change, field, message):
    response = client.post(
        "/api/v1/trades", trade_payload(**change), content_type=JSON, headers=bearer(cast.exporter)
    )
    errors = fields_of(response)
    assert field in errors
    assert message in errors[field]
    assert response.json()["instance"] == "/api/v1/trades"
    assert not Trade.objects.exists()


def test_the_organisation_can_be_chosen_by_header_or_payload(client, cast):
    from ismit.accounts.models import Membership, Role

    Membership.objects.create(user=cast.exporter, organisation=cast.broker_org, role=Role.MEMBER)
    headers = bearer(cast.exporter)
    default = client.post("/api/v1/trades", trade_payload(), content_type=JSON, headers=headers).json()
    assert default["organisation"] == cast.msme.id  # first by name: "Anacarde…" before "Transit…"
    by_header = client.post(
        "/api/v1/trades",
        trade_payload(),
        content_type=JSON,
        headers={**headers, "X-ISMIT-Organisation": str(cast.broker_org.id)},
    ).json()
    assert by_header["organisation"] == cast.broker_org.id
    by_payload = client.post(
        "/api/v1/trades", trade_payload(organisation=cast.broker_org.id), content_type=JSON, headers=headers
    ).json()
    assert by_payload["organisation"] == cast.broker_org.id


def test_an_organisation_one_is_not_a_member_of_cannot_be_chosen(client, cast):
    response = client.post(
        "/api/v1/trades",
        trade_payload(organisation=cast.other_msme.id),
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert "organisation" in fields_of(response)
    response = client.post(
        "/api/v1/trades",
        trade_payload(),
        content_type=JSON,
        headers={**bearer(cast.exporter), "X-ISMIT-Organisation": str(cast.other_msme.id)},
    )
    assert "organisation" in fields_of(response)
    assert not Trade.objects.filter(organisation=cast.other_msme).exists()


def test_someone_without_an_organisation_is_told_to_create_one(client, cast):
    response = client.post(
        "/api/v1/trades", trade_payload(), content_type=JSON, headers=bearer(cast.stranger)
    )
    assert "organisation" in fields_of(response)


def test_a_read_only_member_sees_trades_but_cannot_change_them(client, cast, cashew_trade):
    headers = bearer(cast.viewer)
    assert client.get(f"/api/v1/trades/{cashew_trade.id}", headers=headers).status_code == 200
    assert (
        client.post("/api/v1/trades", trade_payload(), content_type=JSON, headers=headers).status_code == 403
    )
    assert (
        client.put(
            f"/api/v1/trades/{cashew_trade.id}",
            trade_payload(reference="MINE"),
            content_type=JSON,
            headers=headers,
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/trades/{cashew_trade.id}/duplicate", {}, content_type=JSON, headers=headers
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/trades/{cashew_trade.id}", headers=headers).status_code == 403
    assert list(Trade.objects.values_list("reference", flat=True)) == [cashew_trade.reference]


def test_another_organisations_trade_does_not_exist_for_them(client, cast, cashew_trade):
    headers = bearer(cast.other)
    assert client.get(f"/api/v1/trades/{cashew_trade.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/trades", headers=headers).json()["count"] == 0
    assert client.delete(f"/api/v1/trades/{cashew_trade.id}", headers=headers).status_code == 404
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()


def test_only_a_draft_can_be_deleted(client, cast, cashew_trade):
    Trade.objects.filter(pk=cashew_trade.pk).update(status=TradeStatus.ACTIVE)
    response = client.delete(f"/api/v1/trades/{cashew_trade.id}", headers=bearer(cast.exporter))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] is None
    assert "draft" in response.json()["detail"]
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()


def test_trades_are_filtered_by_status_direction_and_text(client, cast, exporter_actor):
    import_data = cashew_trade_data(direction="import", reference="IMP-MACHINE")
    create_trade(actor=exporter_actor, organisation=cast.msme, data=import_data)
    export = create_trade(
        actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="EXP-A")
    )
    Trade.objects.filter(pk=export.pk).update(status=TradeStatus.ACTIVE)
    headers = bearer(cast.exporter)

    def references(query: str) -> list[str]:
        response = client.get(f"/api/v1/trades{query}", headers=headers)
        assert response.status_code == 200, response.content
        return sorted(t["reference"] for t in response.json()["results"])

    assert references("") == ["EXP-A", "IMP-MACHINE"]
    assert references("?direction=import") == ["IMP-MACHINE"]
    assert references("?status=active") == ["EXP-A"]
    assert references("?q=machine") == ["IMP-MACHINE"]
    assert references("?q=provence") == ["EXP-A", "IMP-MACHINE"]
    assert references("?q=nobody") == []
    assert "status" in fields_of(client.get("/api/v1/trades?status=shipped", headers=headers))


def test_checklist_labels_are_in_the_language_of_the_request(client, cast, cashew_trade):
    response = client.get(
        f"/api/v1/trades/{cashew_trade.id}", headers={**bearer(cast.exporter), "Accept-Language": "fr"}
    )
    with translation.override("fr"):
        expected = str(label_for("contract"))
    step = next(s for s in response.json()["checklist"] if s["code"] == "contract")
    assert step["label"] == expected
    assert step["manual"] is True


def test_reading_a_trade_takes_a_fixed_number_of_queries(
    client, cast, exporter_actor, django_assert_num_queries
):
    small = create_trade(
        actor=exporter_actor,
        organisation=cast.msme,
        data=cashew_trade_data(items=cashew_trade_data().items[:1]),
    )
    large = create_trade(
        actor=exporter_actor,
        organisation=cast.msme,
        data=cashew_trade_data(items=cashew_trade_data().items * 10),
    )
    headers = bearer(cast.exporter)
    client.get("/api/v1/me", headers=headers)  # the token's first use is noted once
    # token + user, trade with its header rows (scoped by a subquery of the memberships), goods items,
    # checklist steps
    with django_assert_num_queries(4):
        assert len(client.get(f"/api/v1/trades/{small.id}", headers=headers).json()["items"]) == 1
    with django_assert_num_queries(4):
        assert len(client.get(f"/api/v1/trades/{large.id}", headers=headers).json()["items"]) == 20


def test_listing_trades_takes_the_same_queries_for_one_or_ten(
    client, cast, exporter_actor, django_assert_num_queries
):
    headers = bearer(cast.exporter)
    client.get("/api/v1/me", headers=headers)
    create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    # token + user, one page of trades scoped by a subquery of the memberships (a page that is not
    # full needs no count)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/trades", headers=headers).json()["count"] == 1
    for _ in range(9):
        create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    with django_assert_num_queries(2):
        assert client.get("/api/v1/trades", headers=headers).json()["count"] == 10
    with django_assert_num_queries(3):  # and a count when there are more pages
        page = client.get("/api/v1/trades?page_size=4", headers=headers).json()
    assert page["count"] == 10
    assert len(page["results"]) == 4
