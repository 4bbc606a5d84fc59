"""The check and the rules through the API: scoped to the caller's trades, in the caller's language."""

from __future__ import annotations

import pytest

from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def check_url(trade) -> str:
    return f"/api/v1/trades/{trade.pk}/check"


def test_the_check_answers_findings_and_landed_cost_and_is_audited(client, cast, starter_rules, cashew_trade):
    response = client.get(check_url(cashew_trade), headers=bearer(cast.viewer))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == cashew_trade.reference and body["has_errors"] is False
    assert body["checked_on"] == "2026-12-01" and body["language"] == "en"
    proof = next(f for f in body["findings"] if f["rule_key"] == "ci-eu-epa-proof-of-origin")
    assert proof["severity"] == "warning" and proof["document_code"] == "861" and proof["lines"] == [1, 2]
    assert proof["source_url"].startswith("https://eur-lex.europa.eu/")
    cost = body["landed_cost"]
    assert (cost["customs_value"], cost["vat"], cost["total"]) == ("100250.00", "5513.75", "105763.75")
    assert cost["assumptions"][0]["code"] == "cif_basis"
    event = AuditEvent.objects.filter(action="compliance.checked").latest("id")
    assert event.organisation_id == cast.msme.pk and event.actor_id == cast.viewer.pk
    assert event.changes["via"] == "api" and event.changes["findings"]["warning"] >= 3


def test_the_language_comes_from_lang_or_accept_language(client, cast, starter_rules, cashew_trade):
    headers = bearer(cast.exporter)
    by_header = client.get(check_url(cashew_trade), headers={**headers, "Accept-Language": "fr"}).json()
    by_param = client.get(check_url(cashew_trade) + "?lang=fr", headers=headers).json()
    english = client.get(
        check_url(cashew_trade) + "?lang=en", headers={**headers, "Accept-Language": "fr"}
    ).json()

    for body in (by_header, by_param):
        assert body["language"] == "fr"
        assert any(f["message"].startswith("Preuve de l'origine") for f in body["findings"])
    assert any(f["message"].startswith("Proof of origin") for f in english["findings"])


def test_the_check_date_can_be_given(client, cast, starter_rules, cashew_trade):
    body = client.get(check_url(cashew_trade) + "?on=2016-09-02", headers=bearer(cast.exporter)).json()

    assert body["checked_on"] == "2016-09-02"
    assert "ci-eu-epa-proof-of-origin" not in {f["rule_key"] for f in body["findings"]}


def test_another_tenants_trade_is_not_found(client, cast, starter_rules, cashew_trade, other_trade):
    other, stranger, exporter = bearer(cast.other), bearer(cast.stranger), bearer(cast.exporter)

    response = client.get(check_url(cashew_trade), headers=other)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert client.get(check_url(other_trade), headers=stranger).status_code == 404
    assert client.get(check_url(other_trade), headers=exporter).status_code == 404
    assert client.get("/api/v1/trades/999999/check", headers=exporter).status_code == 404
    assert not AuditEvent.objects.filter(action="compliance.checked").exists()
    assert client.get(check_url(other_trade), headers=other).status_code == 200
    event = AuditEvent.objects.get(action="compliance.checked")
    assert event.organisation_id == cast.other_msme.pk


def test_the_check_needs_authentication(client, cashew_trade):
    assert client.get(check_url(cashew_trade)).status_code == 401


def test_rules_are_listed_by_the_corridor_and_goods_they_apply_to(client, cast, starter_rules):
    headers = bearer(cast.stranger)  # reference data: any signed-in user
    everything = client.get("/api/v1/compliance/rules?page_size=200", headers=headers).json()
    roses = client.get("/api/v1/compliance/rules?origin=KE&destination=NL&hs=060311", headers=headers).json()
    vat = client.get("/api/v1/compliance/rules?destination=DE&kind=vat", headers=headers).json()

    assert everything["count"] == 25 and everything["next"] is None
    assert {r["key"] for r in roses["results"]} == {
        "ke-eu-epa-proof-of-origin",
        "ke-eu-cut-flowers-duty",
        "ke-eu-cut-flowers-duty-mar",
        "eu-cut-flowers-phytosanitary",
        "nl-vat-cut-flowers",
        "eu-customs-de-minimis",
    }
    assert [r["key"] for r in vat["results"]] == ["de-vat-standard"]
    first = everything["results"][0]
    assert {
        "key",
        "kind",
        "origin",
        "destination",
        "hs_prefix",
        "source_url",
        "is_sample",
        "title_fr",
    } <= set(first)


def test_rules_are_paginated(client, cast, starter_rules):
    page = client.get("/api/v1/compliance/rules?page_size=10&page=2", headers=bearer(cast.exporter)).json()

    assert page["count"] == 25 and len(page["results"]) == 10
    assert page["previous"] and page["next"]
