from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import cashew_trade_data


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def exporter(cast):
    from ismit.accounts.actors import actor_for

    return actor_for(cast.exporter)


@pytest.fixture
def identifiers(cast):
    """The exporter's tax and VAT numbers, as its organisation profile holds them."""
    from ismit.accounts.models import OrganisationIdentifier

    OrganisationIdentifier.objects.create(organisation=cast.msme, scheme="tax", value="CI1234567890")
    OrganisationIdentifier.objects.create(organisation=cast.msme, scheme="vat", value="CI0012345A")


@pytest.fixture
def trade(cast, exporter, today):
    """The cashew export (100,250.00 EUR), invoiced a month ago."""
    from ismit.trades.services import create_trade

    data = cashew_trade_data(
        invoice_date=today - dt.timedelta(days=30), planned_departure=today - dt.timedelta(days=20)
    )
    return create_trade(actor=exporter, organisation=cast.msme, data=data)


@pytest.fixture
def pay(exporter, today):
    """pay(trade, "100.00", reference=..., currency=..., days_ago=...) records a payment as the exporter."""
    from ismit.finance.services import PaymentData, record_payment

    def record(trade, amount: str, reference: str = "", currency: str = "EUR", days_ago: int = 5):
        return record_payment(
            actor=exporter,
            trade=trade,
            data=PaymentData(
                amount=Decimal(amount),
                currency=currency,
                received_on=today - dt.timedelta(days=days_ago),
                bank_reference=reference or f"BANK-{amount}",
                payer="Provence Fruits Secs SAS",
            ),
        )

    return record
