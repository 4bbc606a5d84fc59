"""Reference exchange rates (refdata): loaded by `ismit refdata load`, read by refdata.queries.convert."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from ismit.refdata.datafiles import EXCHANGE_RATES_JSON
from ismit.refdata.models import Currency, ExchangeRate
from ismit.refdata.queries import NoExchangeRate, convert

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_shipped_rates_are_dated_sourced_and_known_currencies():
    rows = json.loads(EXCHANGE_RATES_JSON.read_text(encoding="utf-8"))["rates"]
    by_code = {row["currency"]: row for row in rows}

    assert {"USD", "GBP", "CNY", "INR", "JPY", "XOF", "KES", "BDT"} <= set(by_code)
    assert by_code["XOF"]["rate_per_eur"] == "655.957"
    assert by_code["USD"]["on"] == "2026-10-02" and "ECB" in by_code["USD"]["source"]
    assert "Indicative" in by_code["KES"]["source"] and "Indicative" in by_code["BDT"]["source"]
    assert all(row["source"] and len(row["source"]) <= 300 for row in rows)
    assert set(by_code) <= set(Currency.objects.values_list("code", flat=True))


def test_refdata_load_loads_the_rates_and_again_gives_the_same_rows():
    out = io.StringIO()
    call_command("refdata", "load", stdout=out)
    call_command("refdata", "load", stdout=out)

    assert "exchange_rates" in out.getvalue()
    assert ExchangeRate.objects.filter(currency_id="USD").count() == 1
    assert ExchangeRate.objects.get(currency_id="XOF").rate_per_eur == D("655.957")


def test_convert_goes_through_the_euro():
    to_xof = convert(D("100"), "EUR", "XOF")
    from_usd = convert(D("1122.50"), "USD", "EUR")
    cross = convert(D("1000"), "USD", "XOF", on=dt.date(2026, 11, 1))

    assert (to_xof.amount, to_xof.rate, to_xof.rate_date) == (
        D("65595.70"),
        D("655.957"),
        dt.date(1999, 1, 1),
    )
    assert from_usd.amount == D("1000.00") and from_usd.rate_date == dt.date(2026, 10, 2)
    assert cross.rate == (D("655.957") / D("1.1225")).quantize(D("1e-10"))
    assert cross.amount == D("584371.49")
    assert cross.rate_date == dt.date(2026, 10, 2) and "ECB" in cross.source and "98/683/EC" in cross.source
    assert convert(5, "kes", "KES") == convert(D("5"), "KES", "KES")


def test_convert_uses_the_latest_rate_on_or_before_the_date():
    ExchangeRate.objects.create(
        currency_id="USD", rate_per_eur=D("1.2000"), on=dt.date(2026, 11, 20), source="t"
    )

    assert convert(120, "USD", "EUR").amount == D("100.00")  # the latest
    assert convert(112.25, "USD", "EUR", on=dt.date(2026, 11, 19)).amount == D("100.00")
    assert convert(112.25, "USD", "EUR", on=dt.date(2020, 1, 1)).rate_date == dt.date(2026, 10, 2)  # earliest


def test_an_unknown_currency_is_a_clear_error():
    with pytest.raises(NoExchangeRate, match="no exchange rate is known for NGN") as raised:
        convert(D("10"), "EUR", "NGN")
    assert raised.value.currency == "NGN"
