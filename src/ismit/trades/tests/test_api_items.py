"""Goods items of a trade, one by one, through the API."""

from __future__ import annotations

import pytest

from ismit.accounts.services import create_api_token
from ismit.trades.models import GoodsItem

pytestmark = pytest.mark.django_db
JSON = "application/json"

SESAME = {
    "description": "Sesame seeds, hulled",
    "hs_code": "120740",
    "origin_country": "CI",
    "quantity": "800",
    "unit": "KGM",
    "packages_count": 16,
    "package_type": "BG",
    "net_mass_kg": "800",
    "gross_mass_kg": "816.5",
    "unit_price": "1.95",
}


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_goods_items_are_listed_added_read_replaced_and_deleted(client, cast, cashew_trade):
    headers = bearer(cast.colleague)
    base = f"/api/v1/trades/{cashew_trade.id}/items"
    assert [i["line_no"] for i in client.get(base, headers=headers).json()] == [1, 2]

    added = client.post(base, SESAME, content_type=JSON, headers=headers)
    assert added.status_code == 201
    assert added.json()["line_no"] == 3
    assert added.json()["gross_mass_kg"] == "816.500"
    assert added.json()["line_amount"] == "1560.00"

    assert client.get(f"{base}/3", headers=headers).json()["description"] == "Sesame seeds, hulled"
    replaced = client.put(
        f"{base}/3",
        {**SESAME, "quantity": "1000", "net_mass_kg": "1000", "gross_mass_kg": "1020"},
        content_type=JSON,
        headers=headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["quantity"] == "1000.000"

    assert client.delete(f"{base}/3", headers=headers).status_code == 204
    assert client.get(f"{base}/3", headers=headers).status_code == 404
    totals = client.get(f"/api/v1/trades/{cashew_trade.id}", headers=headers).json()["totals"]
    assert totals["lines"] == 2


def test_item_errors_name_the_fields_of_the_item_itself(client, cast, cashew_trade):
    headers = bearer(cast.exporter)
    response = client.post(
        f"/api/v1/trades/{cashew_trade.id}/items",
        {**SESAME, "hs_code": "1207", "gross_mass_kg": "10"},
        content_type=JSON,
        headers=headers,
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"hs_code", "gross_mass_kg"}
    response = client.put(
        f"/api/v1/trades/{cashew_trade.id}/items/1",
        {**SESAME, "unit_price": "1.23456"},
        content_type=JSON,
        headers=headers,
    )
    assert [e["field"] for e in response.json()["errors"]] == ["unit_price"]
    assert GoodsItem.objects.filter(trade=cashew_trade).count() == 2


def test_the_last_goods_item_cannot_be_deleted(client, cast, cashew_trade):
    headers = bearer(cast.exporter)
    assert client.delete(f"/api/v1/trades/{cashew_trade.id}/items/2", headers=headers).status_code == 204
    response = client.delete(f"/api/v1/trades/{cashew_trade.id}/items/1", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"


def test_a_read_only_member_cannot_change_goods_items(client, cast, cashew_trade):
    headers = bearer(cast.viewer)
    base = f"/api/v1/trades/{cashew_trade.id}/items"
    assert client.get(f"{base}/1", headers=headers).status_code == 200
    assert client.post(base, SESAME, content_type=JSON, headers=headers).status_code == 403
    assert client.put(f"{base}/1", SESAME, content_type=JSON, headers=headers).status_code == 403
    assert client.delete(f"{base}/2", headers=headers).status_code == 403
    assert GoodsItem.objects.filter(trade=cashew_trade).count() == 2
    assert GoodsItem.objects.get(trade=cashew_trade, line_no=1).description != SESAME["description"]


def test_an_unknown_line_is_not_found(client, cast, cashew_trade):
    response = client.get(f"/api/v1/trades/{cashew_trade.id}/items/9", headers=bearer(cast.exporter))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
