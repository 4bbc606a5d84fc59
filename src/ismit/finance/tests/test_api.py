"""The finance API: payments, the finance of a trade, and filing refused while the data disagree."""

from __future__ import annotations

import datetime as dt

import pytest

from ismit.accounts.services import create_api_token
from ismit.finance.models import FxReport, Payment, VatClaim
from ismit.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def payment_body(today: dt.date, **overrides) -> dict:
    body = {
        "amount": "60000.00",
        "currency": "EUR",
        "received_on": (today - dt.timedelta(days=3)).isoformat(),
        "bank_reference": "SGCI-2026-0042",
        "payer": "Provence Fruits Secs SAS",
    }
    body.update(overrides)
    return body


def test_payments_are_recorded_listed_and_deleted(client, cast, trade, today):
    headers = bearer(cast.colleague)
    base = f"/api/v1/trades/{trade.pk}/payments"
    created = client.post(base, payment_body(today), content_type=JSON, headers=headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["amount"] == "60000.00" and body["currency"] == "EUR"
    assert body["bank_reference"] == "SGCI-2026-0042" and body["recorded_by"] == cast.colleague.email
    listed = client.get(base, headers=headers).json()
    assert [p["id"] for p in listed] == [body["id"]]
    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert client.get(base, headers=headers).json() == []
    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 404


def test_payment_errors_are_problem_documents_by_field(client, cast, trade, today):
    headers = bearer(cast.exporter)
    base = f"/api/v1/trades/{trade.pk}/payments"
    future = (today + dt.timedelta(days=2)).isoformat()
    answer = client.post(
        base, payment_body(today, currency="ZZZ", received_on=future), content_type=JSON, headers=headers
    )
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in answer.json()["errors"]} == {"currency", "received_on"}


def test_an_idempotency_key_records_a_payment_once(client, cast, trade, today):
    headers = {**bearer(cast.exporter), "Idempotency-Key": "pay-once-1"}
    base = f"/api/v1/trades/{trade.pk}/payments"
    first = client.post(base, payment_body(today), content_type=JSON, headers=headers)
    again = client.post(base, payment_body(today), content_type=JSON, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Payment.objects.count() == 1


def test_read_only_members_read_but_do_not_write(client, cast, trade, today, pay):
    payment = pay(trade, "1000.00")
    headers = bearer(cast.viewer)
    base = f"/api/v1/trades/{trade.pk}"
    assert client.get(f"{base}/payments", headers=headers).status_code == 200
    assert client.get(f"{base}/finance", headers=headers).status_code == 200
    assert (
        client.post(f"{base}/payments", payment_body(today), content_type=JSON, headers=headers).status_code
        == 403
    )
    assert client.delete(f"{base}/payments/{payment.pk}", headers=headers).status_code == 403
    assert client.post(f"{base}/fx-report", {}, content_type=JSON, headers=headers).status_code == 403
    assert client.post(f"{base}/vat-claim", {}, content_type=JSON, headers=headers).status_code == 403


def test_another_organisation_gets_404_everywhere(client, cast, trade, today, pay):
    payment = pay(trade, "1000.00")
    base = f"/api/v1/trades/{trade.pk}"
    for user in (cast.other, cast.broker):
        headers = bearer(user)
        assert client.get(f"{base}/payments", headers=headers).status_code == 404
        assert client.get(f"{base}/finance", headers=headers).status_code == 404
        answer = client.post(f"{base}/payments", payment_body(today), content_type=JSON, headers=headers)
        assert answer.status_code == 404
        assert client.delete(f"{base}/payments/{payment.pk}", headers=headers).status_code == 404
        assert client.post(f"{base}/fx-report", {}, content_type=JSON, headers=headers).status_code == 404
        assert client.post(f"{base}/vat-claim", {}, content_type=JSON, headers=headers).status_code == 404
    assert list(Payment.objects.values_list("pk", flat=True)) == [payment.pk]
    assert not FxReport.objects.exists() and not VatClaim.objects.exists()


def test_a_payment_of_another_trade_is_not_reached_through_this_one(client, cast, trade, other_trade, pay):
    from ismit.accounts.actors import actor_for
    from ismit.finance.services import PaymentData, record_payment

    theirs = record_payment(
        actor=actor_for(cast.other),
        trade=other_trade,
        data=PaymentData(amount="5", currency="EUR", received_on=dt.date(2026, 1, 5), bank_reference="KE-1"),
    )
    headers = bearer(cast.other)
    assert (
        client.delete(f"/api/v1/trades/{trade.pk}/payments/{theirs.pk}", headers=headers).status_code == 404
    )
    headers = bearer(cast.exporter)
    assert (
        client.delete(f"/api/v1/trades/{trade.pk}/payments/{theirs.pk}", headers=headers).status_code == 404
    )
    assert Payment.objects.filter(pk=theirs.pk).exists()


def test_the_finance_of_a_trade_shows_totals_and_the_cross_check(client, cast, trade, pay, identifiers):
    pay(trade, "60000.00", reference="P-1")
    pay(trade, "100.00", reference="P-2", currency="USD")
    answer = client.get(f"/api/v1/trades/{trade.pk}/finance", headers=bearer(cast.exporter))
    assert answer.status_code == 200
    body = answer.json()
    assert body["invoice"] == {
        "number": "INV-2026-041",
        "date": trade.invoice_date.isoformat(),
        "currency": "EUR",
        "total": "100250.00",
    }
    assert body["declaration"] is None
    assert [(t["currency"], t["paid"], t["invoiced"], t["difference"]) for t in body["totals"]] == [
        ("EUR", "60000.00", "100250.00", "-40250.00"),
        ("USD", "100.00", None, None),
    ]
    fx = body["crosscheck"]["fx"]
    assert fx["ready"] is False
    found = {m["code"]: m for m in fx["mismatches"]}
    assert set(found) == {"declaration.missing", "currency.payment", "value.payments"}
    short = found["value.payments"]
    assert short["ours"] == {"source": "Payments recorded", "value": "60,000.00 EUR"}
    assert short["theirs"]["value"] == "100,250.00 EUR" and "INV-2026-041" in short["theirs"]["source"]
    assert body["fx_report"] is None and body["vat_claim"] is None


def test_filing_is_refused_with_every_mismatch_while_the_data_disagree(client, cast, trade, pay, identifiers):
    pay(trade, "60000.00")
    headers = bearer(cast.exporter)
    answer = client.post(f"/api/v1/trades/{trade.pk}/fx-report", {}, content_type=JSON, headers=headers)
    assert answer.status_code == 422, answer.content
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert set(errors) == {"declaration", "payments"}
    assert "60,000.00 EUR" in errors["payments"] and "100,250.00 EUR" in errors["payments"]
    answer = client.post(
        f"/api/v1/trades/{trade.pk}/vat-claim",
        {"vat_amount": "1500.00", "input_invoices": "SUPPLIER-1 2026-10-01"},
        content_type=JSON,
        headers=headers,
    )
    assert answer.status_code == 422
    assert not OutboxMessage.objects.exists()
    assert not FxReport.objects.exists() and not VatClaim.objects.exists()


def test_an_appointed_customs_broker_does_not_reach_the_finance(client, cast, trade, exporter, pay):
    from ismit.trades.services import appoint

    payment = pay(trade, "10.00")
    appoint(actor=exporter, trade=trade, organisation=cast.broker_org, scope="customs")
    headers = bearer(cast.broker)
    assert client.get(f"/api/v1/trades/{trade.pk}", headers=headers).status_code == 200  # the trade, yes
    assert client.get(f"/api/v1/trades/{trade.pk}/finance", headers=headers).status_code == 404
    assert client.get(f"/api/v1/trades/{trade.pk}/payments", headers=headers).status_code == 404
    assert (
        client.delete(f"/api/v1/trades/{trade.pk}/payments/{payment.pk}", headers=headers).status_code == 404
    )
