"""The trade's API answer, built field by field from the rows of queries.get_trade_record_for."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from django.http import Http404
from django.utils import translation
from ninja.renderers import JSONRenderer

from conftest import cashew_trade_data
from ismit.trades import queries
from ismit.trades.api import TradeOut
from ismit.trades.services import PartyData, create_trade, set_step_status
from ismit.trades.tests.test_api_trades import bearer

pytestmark = pytest.mark.django_db


def schema_answer(actor, trade_id: int) -> dict:
    """The answer as the schema's resolvers make it from the fully loaded trade."""
    trade = queries.get_trade_for(actor, trade_id)
    dumped = TradeOut.model_validate(trade).model_dump()
    return json.loads(JSONRenderer().render(None, dumped, response_status=200))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_trade_answer_is_what_the_schema_makes_of_the_trade(client, cast, exporter_actor, language):
    data = replace(
        cashew_trade_data(),
        consignee=PartyData(name="Entrepôt Marseille", country="FR", identifiers={"eori": "FR123"}),
        invoice_date=dt.date(2026, 1, 2),
        planned_departure=dt.date(2026, 2, 3),
    )
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=data)
    step = queries.get_step_for(exporter_actor, trade.id, "contract")
    set_step_status(
        actor=exporter_actor, step=step, status="done", note="signed", acting_organisation=cast.msme
    )
    response = client.get(
        f"/api/v1/trades/{trade.id}", headers={**bearer(cast.exporter), "Accept-Language": language}
    )
    with translation.override(language):
        expected = schema_answer(exporter_actor, trade.id)
    assert response.json() == expected
    assert response.json()["consignee"]["identifiers"] == {"eori": "FR123"}
    assert response.json()["checklist"][0]["acting_organisation"] == cast.msme.id


def test_the_trade_record_of_a_trade_one_cannot_see_is_not_found(cast, other_trade, exporter_actor):
    with pytest.raises(Http404):
        queries.get_trade_record_for(exporter_actor, other_trade.id)


@pytest.mark.parametrize("typed", ["1000", "1000.5", "999.125", "7"])
def test_the_answer_to_a_create_is_what_a_later_read_answers(client, cast, typed):
    """The create's answer is built from the rows it wrote, not read back: it must match a read."""
    from ismit.trades.tests.test_api_trades import trade_payload

    headers = bearer(cast.exporter)
    payload = trade_payload(
        consignee={"name": "Entrepôt Marseille", "country": "fr", "identifiers": {"eori": "FR123"}},
        invoice_date="2026-01-02",
    )
    payload["items"][0].update(quantity=typed, net_mass_kg=typed, gross_mass_kg="2000", unit="kgm")
    created = client.post("/api/v1/trades", payload, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/trades/{created.json()['id']}", headers=headers)
    assert created.json() == read.json()
