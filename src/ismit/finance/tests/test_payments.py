"""Recording and deleting the payments received on a trade: checked, audited, scoped, on the checklist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.finance import queries
from ismit.finance.models import FilingStatus, FxReport, Payment
from ismit.finance.services import PaymentData, delete_payment, record_payment
from ismit.lib.errors import error_dict
from ismit.trades.models import ChecklistStep

pytestmark = pytest.mark.django_db


def step(trade, code: str) -> ChecklistStep:
    return ChecklistStep.objects.get(trade=trade, code=code)


def test_a_payment_is_recorded_and_audited(trade, exporter, cast, today):
    payment = record_payment(
        actor=exporter,
        trade=trade,
        data=PaymentData(
            amount="60 000,50", currency="eur", received_on=today.isoformat(), bank_reference=" SGCI-0042 "
        ),
    )
    payment.refresh_from_db()
    assert (payment.amount, payment.currency_id, payment.received_on) == (Decimal("60000.50"), "EUR", today)
    assert payment.bank_reference == "SGCI-0042" and payment.recorded_by == cast.exporter
    event = AuditEvent.objects.get(action="finance.payment_recorded")
    assert event.organisation_id == cast.msme.id and event.actor_id == cast.exporter.id
    assert event.changes["amount"] == "60000.50" and event.changes["bank_reference"] == "SGCI-0042"


def test_bad_payments_are_refused_field_by_field(trade, exporter, pay, today):
    pay(trade, "1000.00", reference="DUP-1")
    with pytest.raises(ValidationError) as caught:
        record_payment(
            actor=exporter,
            trade=trade,
            data=PaymentData(
                amount="-5",
                currency="XXY",
                received_on=today + dt.timedelta(days=1),
                bank_reference="DUP-1",
            ),
        )
    errors = error_dict(caught.value)
    assert set(errors) == {"amount", "currency", "received_on", "bank_reference"}
    assert "future" in errors["received_on"][0]
    assert "already recorded" in errors["bank_reference"][0]
    with pytest.raises(ValidationError) as caught:
        record_payment(actor=exporter, trade=trade, data=PaymentData())
    assert set(error_dict(caught.value)) == {"amount", "currency", "received_on", "bank_reference"}
    assert Payment.objects.count() == 1


def test_the_payment_step_follows_the_payments(trade, exporter, pay):
    assert step(trade, "payment_received").status == "todo"
    first = pay(trade, "50000.00")
    assert step(trade, "payment_received").status == "in_progress"
    assert "50,000.00 EUR received of 100,250.00 EUR" in step(trade, "payment_received").note
    pay(trade, "49000.00")  # 1,250.00 short: 1.2 %, bank charges
    assert step(trade, "payment_received").status == "done"
    delete_payment(actor=exporter, payment=first)
    assert step(trade, "payment_received").status == "in_progress"


def test_deleting_a_payment_is_audited(trade, exporter, pay):
    payment = pay(trade, "1000.00", reference="WRONG-1")
    delete_payment(actor=exporter, payment=payment)
    assert not Payment.objects.exists()
    event = AuditEvent.objects.get(action="finance.payment_deleted")
    assert event.changes["bank_reference"] == "WRONG-1"


def test_a_payment_reported_to_the_single_window_is_not_deleted(trade, exporter, pay):
    payment = pay(trade, "1000.00", reference="SENT-1")
    FxReport.objects.create(
        trade=trade, status=FilingStatus.SENT, payload={"payments": [{"bank_reference": "SENT-1"}]}
    )
    with pytest.raises(ValidationError) as caught:
        delete_payment(actor=exporter, payment=payment)
    assert "FX settlement report" in error_dict(caught.value)["__all__"][0]
    assert Payment.objects.filter(pk=payment.pk).exists()
    FxReport.objects.filter(trade=trade).update(status=FilingStatus.REJECTED)
    delete_payment(actor=exporter, payment=payment)
    assert not Payment.objects.exists()


def test_only_members_who_may_change_the_trade_record_payments(trade, cast, pay, today):
    data = PaymentData(amount="10", currency="EUR", received_on=today, bank_reference="R-1")
    with pytest.raises(PermissionDenied):
        record_payment(actor=actor_for(cast.viewer), trade=trade, data=data)
    record_payment(actor=actor_for(cast.colleague), trade=trade, data=data)
    payment = Payment.objects.get()
    with pytest.raises(PermissionDenied):
        delete_payment(actor=actor_for(cast.viewer), payment=payment)


def test_other_organisations_do_not_reach_the_payments(trade, cast, pay):
    payment = pay(trade, "1000.00")
    for user in (cast.other, cast.broker, cast.stranger, cast.banker):
        actor = actor_for(user)
        with pytest.raises(Http404):
            queries.get_payment_for(actor, trade.pk, payment.pk)
        with pytest.raises(Http404):
            queries.get_finance_trade_for(actor, trade.pk)
        assert not Payment.objects.visible_to(actor).exists()
    assert queries.get_payment_for(actor_for(cast.viewer), trade.pk, payment.pk) == payment
