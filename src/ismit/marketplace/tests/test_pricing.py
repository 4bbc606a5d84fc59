"""Indicative prices from rate cards: bases, minimum charge, surcharges, rounding, currency of the value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import RateLine
from ismit.marketplace.pricing import price_offering, price_rate_card
from ismit.marketplace.tests.support import make_offering


def card(*lines: tuple[str, str, str, bool]) -> list[RateLine]:
    return [
        RateLine(code=code, description=code, basis=basis, amount=Decimal(amount), is_surcharge=surcharge)
        for code, basis, amount, surcharge in lines
    ]


def cargo(**fields) -> CargoSpec:
    return CargoSpec(origin_country="CI", destination_country="FR", **fields)


def amounts(price) -> dict[str, Decimal]:
    return {line.code: line.amount for line in price.lines}


def test_per_kg_rate_is_charged_on_the_gross_mass_and_surcharges_are_itemised():
    price = price_rate_card(
        rate_lines=card(("FRT", "kg", "0.45", False), ("BAF", "shipment", "35", True)),
        currency="EUR",
        cargo=cargo(gross_mass_kg=Decimal("1000")),
    )
    assert amounts(price) == {"FRT": Decimal("450.00"), "BAF": Decimal("35.00")}
    assert price.total == Decimal("485.00")
    assert price.currency == "EUR"
    assert price.lines[0].quantity == Decimal("1000") and price.lines[0].rate == Decimal("0.45")


def test_minimum_charge_lifts_the_base_but_not_the_surcharges():
    price = price_rate_card(
        rate_lines=card(
            ("FRT", "kg", "0.45", False), ("MIN", "minimum", "150", False), ("DOC", "shipment", "25", True)
        ),
        currency="EUR",
        cargo=cargo(gross_mass_kg=Decimal("100")),
    )
    assert [(line.code, line.amount) for line in price.lines] == [
        ("FRT", Decimal("45.00")),
        ("MIN", Decimal("105.00")),
        ("DOC", Decimal("25.00")),
    ]
    assert price.total == Decimal("175.00")


def test_no_minimum_line_when_the_base_is_above_the_minimum():
    price = price_rate_card(
        rate_lines=card(("FRT", "kg", "0.45", False), ("MIN", "minimum", "150", False)),
        currency="EUR",
        cargo=cargo(gross_mass_kg=Decimal("1000")),
    )
    assert [line.code for line in price.lines] == ["FRT"]


def test_containers_are_charged_by_type_and_other_types_do_not_apply():
    price = price_rate_card(
        rate_lines=card(
            ("F20", "container_20", "1200", False),
            ("F40", "container_40", "1900", False),
            ("F4H", "container_40hc", "2000", False),
            ("THC", "container_20", "150", True),
        ),
        currency="USD",
        cargo=cargo(containers={"20": 2, "40HC": 1}),
    )
    assert amounts(price) == {"F20": Decimal("2400.00"), "F4H": Decimal("2000.00"), "THC": Decimal("300.00")}
    assert price.total == Decimal("4700.00")


def test_per_m3_rate_uses_the_volume():
    price = price_rate_card(
        rate_lines=card(("LCL", "m3", "62.5", False)), currency="EUR", cargo=cargo(volume_m3=Decimal("3.3"))
    )
    assert price.total == Decimal("206.25")


def test_container_only_card_cannot_price_a_groupage_request():
    rates = card(("F20", "container_20", "1200", False), ("BAF", "shipment", "35", True))
    assert price_rate_card(rate_lines=rates, currency="EUR", cargo=cargo(gross_mass_kg=Decimal(500))) is None


def test_empty_card_cannot_price_anything_but_a_minimum_alone_is_a_flat_fee():
    assert price_rate_card(rate_lines=[], currency="EUR", cargo=cargo()) is None
    assert (
        price_rate_card(rate_lines=card(("DOC", "shipment", "5", True)), currency="EUR", cargo=cargo())
        is None
    )
    flat = price_rate_card(rate_lines=card(("MIN", "minimum", "80", False)), currency="EUR", cargo=cargo())
    assert flat.total == Decimal("80.00") and [line.code for line in flat.lines] == ["MIN"]


def test_amounts_are_rounded_half_up_to_the_cent():
    price = price_rate_card(
        rate_lines=card(("FRT", "kg", "0.125", False)),
        currency="EUR",
        cargo=cargo(gross_mass_kg=Decimal("1")),
    )
    assert price.total == Decimal("0.13")


def test_value_percent_in_the_same_currency():
    price = price_rate_card(
        rate_lines=card(("INS", "value_percent", "0.35", False), ("MIN", "minimum", "25", False)),
        currency="EUR",
        cargo=cargo(goods_value=Decimal("100250.00"), value_currency="EUR"),
    )
    assert amounts(price) == {"INS": Decimal("350.88")}
    assert price.value_rate is None


def test_value_percent_without_a_value_cannot_be_priced():
    rates = card(("INS", "value_percent", "0.35", False))
    assert price_rate_card(rate_lines=rates, currency="EUR", cargo=cargo()) is None


@pytest.mark.django_db
def test_value_in_another_currency_is_converted_with_the_rate_and_its_date():
    # 100,250.00 EUR at the fixed parity of 655.957 XOF per EUR
    price = price_rate_card(
        rate_lines=card(("INS", "value_percent", "0.5", False)),
        currency="XOF",
        cargo=cargo(goods_value=Decimal("100250.00"), value_currency="EUR"),
        on=dt.date(2026, 10, 2),
    )
    value = (Decimal("100250.00") * Decimal("655.957")).quantize(Decimal("0.01"))
    assert price.lines[0].quantity == value
    assert price.total == (value * Decimal("0.005")).quantize(Decimal("0.01"))
    assert price.value_rate == Decimal("655.957")
    assert price.value_rate_date == dt.date(1999, 1, 1)


@pytest.mark.django_db
def test_value_in_a_currency_without_rate_cannot_be_priced():
    rates = card(("INS", "value_percent", "0.5", False))
    spec = cargo(goods_value=Decimal("1000"), value_currency="ZMW")
    assert price_rate_card(rate_lines=rates, currency="EUR", cargo=spec) is None


@pytest.mark.django_db
def test_price_offering_reads_the_offerings_rate_card(cast):
    offering = make_offering(cast.forwarder_org)
    price = price_offering(offering=offering, cargo=cargo(gross_mass_kg=Decimal("2000")))
    assert price.currency == "EUR"
    assert amounts(price) == {"FRT": Decimal("900.00"), "BAF": Decimal("35.00")}


# -- properties --------------------------------------------------------------------------------------------

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=4)
masses = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("50000"), places=3)
bases = st.sampled_from(["shipment", "kg", "m3", "container_20", "container_40", "container_40hc"])
rate_lines = st.lists(
    st.tuples(st.sampled_from(["FRT", "BAF", "THC", "DOC"]), bases, money.map(str), st.booleans()),
    min_size=1,
    max_size=6,
)
cargos = st.builds(
    cargo,
    gross_mass_kg=masses,
    volume_m3=st.decimals(min_value=Decimal("0"), max_value=Decimal("80"), places=3),
    containers=st.dictionaries(st.sampled_from(["20", "40", "40HC"]), st.integers(0, 5), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(lines=rate_lines, minimum=st.none() | money, spec=cargos)
def test_total_is_the_sum_of_the_lines_and_never_below_the_minimum(lines, minimum, spec):
    rates = card(*lines, *([("MIN", "minimum", str(minimum), False)] if minimum is not None else []))
    price = price_rate_card(rate_lines=rates, currency="EUR", cargo=spec)
    if price is None:
        return
    assert price.total == sum(line.amount for line in price.lines)
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in price.lines)
    if minimum is not None:
        assert price.total >= minimum.quantize(Decimal("0.01"))
    assert all(line.amount >= 0 for line in price.lines)


@settings(max_examples=300, deadline=None)
@given(
    rate=money,
    minimum=st.none() | money,
    surcharges=st.lists(
        st.tuples(st.just("BAF"), st.sampled_from(["shipment", "kg"]), money.map(str), st.just(True))
    ),
    lighter=masses,
    extra=st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=3),
)
def test_per_kg_cards_are_monotone_in_mass(rate, minimum, surcharges, lighter, extra):
    rates = card(("FRT", "kg", str(rate), False), *surcharges)
    if minimum is not None:
        rates += card(("MIN", "minimum", str(minimum), False))
    light = price_rate_card(rate_lines=rates, currency="EUR", cargo=cargo(gross_mass_kg=lighter))
    heavy = price_rate_card(rate_lines=rates, currency="EUR", cargo=cargo(gross_mass_kg=lighter + extra))
    assert light is not None and heavy is not None
    assert heavy.total >= light.total
