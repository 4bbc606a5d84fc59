"""The trade data set as JSON: the whole DocumentData, decimals as strings, dates ISO 8601."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from ismit.documents.coverage import occurrences
from ismit.documents.data import DocumentData, ItemView, PartyView
from ismit.documents.generators import get_generator
from ismit.documents.tests.strategies import document_datas

GENERATOR = get_generator("trade_dataset", "json")


def _render(data: DocumentData, language: str = "en") -> dict:
    return json.loads(GENERATOR.render(data, language=language).decode("utf-8"))


@given(document_datas())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_json_carries_every_field_with_exact_decimals_and_iso_dates(data):
    body = _render(data)

    assert body["schema"] == "urn:ismit:trade-dataset:1"
    for f in fields(DocumentData):
        assert f.name in body, f.name
    assert body["reference"] == data.reference
    assert Decimal(body["total_amount"]) == data.total_amount
    assert body["total_packages"] == data.total_packages
    for item, line in zip(data.items, body["items"], strict=True):
        assert set(line) == {f.name for f in fields(ItemView)}
        assert isinstance(line["quantity"], str) and Decimal(line["quantity"]) == item.quantity
        assert (
            Decimal(line["unit_price"]) == item.unit_price
            and Decimal(line["line_amount"]) == item.line_amount
        )
    if data.invoice_date is not None:
        assert dt.date.fromisoformat(body["invoice_date"]) == data.invoice_date
    assert dt.datetime.fromisoformat(body["created_at"]) == data.created_at
    assert set(body["seller"]) == {f.name for f in fields(PartyView)}
    assert isinstance(body["seller"]["identifiers"], dict)


@given(document_datas())
@settings(max_examples=20, deadline=None)
def test_reads_lists_every_field_and_each_resolves(data):
    for path in GENERATOR.reads:
        occurrences(data, path)  # a path that names no field raises
    assert {f"items[].{f.name}" for f in fields(ItemView)} <= set(GENERATOR.reads)
    assert {f"seller.{f.name}" for f in fields(PartyView)} <= set(GENERATOR.reads)
    scalars = {f.name for f in fields(DocumentData)} - {"issuer", "seller", "buyer", "consignee", "items"}
    scalars -= {"incoterm_place", "place_of_loading", "place_of_discharge"}
    assert scalars <= set(GENERATOR.reads)


def test_the_same_data_gives_the_same_bytes():
    from hypothesis import find

    data = find(document_datas(), lambda d: len(d.items) >= 2)
    assert GENERATOR.render(data, language="fr") == GENERATOR.render(data, language="fr")
    assert GENERATOR.is_declaration is False and GENERATOR.media_type == "application/json"


@pytest.mark.django_db
def test_the_cashew_trade_as_json(cashew_trade):
    from ismit.documents.data import document_data

    body = _render(document_data(cashew_trade, language="fr"), "fr")
    assert body["language"] == "fr" and body["seller"]["country_name"] == "Côte d'Ivoire"
    assert body["items"][0]["hs_code"] == "080132" and body["total_amount"] == "100250.00"
    assert body["buyer"]["identifiers"] == {"vat": "FR40303265045"}
