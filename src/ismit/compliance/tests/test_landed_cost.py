"""Landed cost: the customs value from the Incoterms rule, duty, VAT, total, and every assumption."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismit.compliance import landed
from ismit.compliance.check import run_check
from ismit.compliance.tests.conftest import goods
from ismit.trades.services import PartyData

D = Decimal


def assumption_codes(cost) -> list[str]:
    return [a.code for a in cost.assumptions]


@pytest.mark.django_db
def test_cif_the_price_is_the_customs_value(starter_rules, make_trade):
    cost = run_check(make_trade()).landed_cost  # 93,000 + 7,250 EUR, CIF Marseille

    assert (cost.goods_value, cost.freight, cost.insurance, cost.customs_value) == (
        D("100250.00"),
        0,
        0,
        D("100250.00"),
    )
    assert [line.vat for line in cost.lines] == [D("5115.00"), D("398.75")]
    assert cost.total == cost.customs_value + cost.duty + cost.vat == D("105763.75")
    assert cost.duties_paid_by == "buyer"
    assert assumption_codes(cost) == ["cif_basis", "freight", "insurance", "vat_base", "rounding"]


@pytest.mark.django_db
def test_fob_adds_estimated_freight_and_insurance(starter_rules, make_trade):
    cost = run_check(make_trade(incoterm="FOB", incoterm_place="CIABJ")).landed_cost

    freight = D("5012.50")  # 5 % of 100,250 by sea
    insurance = D("347.37")  # 0.3 % x 110 % x (100,250 + 5,012.50) = 347.36625
    assert (cost.freight, cost.insurance) == (freight, insurance)
    assert cost.customs_value == D("100250.00") + freight + insurance == D("105609.87")
    # Shared out in proportion to the line amounts (93,000 and 7,250), the remainder on the larger line.
    # Freight 4,650.00 + 362.50, insurance 322.25 + 25.12, in proportion to the line amounts.
    assert [line.customs_value for line in cost.lines] == [D("97972.25"), D("7637.62")]
    assert [line.vat for line in cost.lines] == [D("5388.47"), D("420.07")]
    assert cost.total == D("105609.87") + D("5808.54") == D("111418.41")
    texts = {a.code: a.text for a in cost.assumptions}
    assert "5%" in texts["freight"] and "5,012.50 EUR" in texts["freight"] and "maritime" in texts["freight"]
    assert (
        "0.3%" in texts["insurance"] and "110%" in texts["insurance"] and "347.37 EUR" in texts["insurance"]
    )


@pytest.mark.django_db
def test_ddp_takes_duty_and_vat_out_of_the_price(starter_rules, make_trade):
    trade = make_trade(
        incoterm="DDP",
        incoterm_place="DEHAM",
        place_of_discharge="DEHAM",
        items=[
            goods("T-shirts", "610910", "CN", quantity="1000", price="6.664", unit="NAR", package_type="CT")
        ],
        buyer=PartyData(name="Hamburger Mode GmbH", country="DE", city="Hamburg", street="Kai 3"),
    )
    result = run_check(trade)
    cost = result.landed_cost

    # 6,664 = customs value x 1.12 (12 % duty) x 1.19 (19 % VAT): customs value 5,000.
    line = cost.lines[0]
    assert (line.customs_value, line.duty, line.vat) == (D("5000.00"), D("600.00"), D("1064.00"))
    assert cost.total == cost.goods_value == D("6664.00")
    assert cost.duties_paid_by == "seller"
    assert {"post_border", "ddp"} <= set(assumption_codes(cost))
    # Under DDP the seller is the importer: it needs the EORI number.
    assert (
        next(f for f in result.findings if f.code == "data.eori_missing").field == "seller.identifiers.eori"
    )


@pytest.mark.django_db
def test_a_consignment_under_the_de_minimis_threshold_pays_no_duty_while_the_relief_lasts(
    starter_rules, make_trade
):
    small = [goods("T-shirts", "610910", "CN", quantity="20", price="6.50", unit="NAR", package_type="CT")]
    trade = make_trade(
        items=small,
        currency="USD",
        incoterm="CPT",
        incoterm_place="FRCDG",
        transport_mode="4",
        place_of_loading="CIABJ",
        place_of_discharge="FRCDG",
    )

    before = run_check(trade, on=dt.date(2026, 6, 30))
    after = run_check(trade, on=dt.date(2026, 7, 1))

    assert before.landed_cost.duty == 0 and "de_minimis" in assumption_codes(before.landed_cost)
    converted = next(f for f in before.findings if f.code == "currency.converted")
    assert "115.81 EUR" in converted.message  # 130 USD / 1.1225
    assert after.landed_cost.duty > 0 and "de_minimis" not in assumption_codes(after.landed_cost)


# -- the arithmetic, for any lines and any Incoterms rule ---------------------------------------------

TERMS = [
    landed.Terms("EXW", "B", "B", "B"),
    landed.Terms("FOB", "B", "B", "B"),
    landed.Terms("CPT", "S", "B", "B"),
    landed.Terms("CIF", "S", "S", "B"),
    landed.Terms("DAP", "S", "S", "B"),
    landed.Terms("DDP", "S", "S", "S"),
]
amounts = st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2)
rates = st.one_of(st.none(), st.decimals(min_value=0, max_value=D("40"), places=3))


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(amounts, rates, rates), min_size=1, max_size=12),
    terms=st.sampled_from(TERMS),
    mode=st.sampled_from("0123456789"),
    relief=st.booleans(),
)
def test_the_landed_cost_adds_up(lines, terms, mode, relief):
    cost = landed.estimate(
        [landed.CostLine(n, "goods", "010690", a, d, v) for n, (a, d, v) in enumerate(lines, start=1)],
        currency="EUR",
        terms=terms,
        mode=mode,
        duty_relief=relief,
    )

    assert cost.total == cost.customs_value + cost.duty + cost.vat
    assert cost.customs_value == sum(line.customs_value for line in cost.lines)
    assert all(line.duty >= 0 and line.vat >= 0 for line in cost.lines)
    if terms.seller_pays_duties:
        assert cost.total == cost.goods_value  # the DDP price includes duty and VAT
    else:
        assert cost.customs_value == cost.goods_value + cost.freight + cost.insurance
        for line in cost.lines:
            expected_duty = (
                0 if relief or line.duty_rate is None else line.customs_value * line.duty_rate / 100
            )
            assert abs(line.duty - expected_duty) <= D("0.005")
    expected_freight = landed.money(cost.goods_value * landed.freight_percent(mode) / 100)
    assert cost.freight == (expected_freight if terms.buyer_pays_freight else 0)
    assert ("freight" in [a.code for a in cost.assumptions]) and cost.assumptions[-1].code == "rounding"
    unknown = [n for n, (_a, d, _v) in enumerate(lines, start=1) if d is None]
    assert ("duty_unknown" in [a.code for a in cost.assumptions]) == bool(unknown)


def test_freight_and_insurance_rates_come_from_the_settings(settings):
    settings.COMPLIANCE_FREIGHT_PERCENT = {"1": "8"}
    settings.COMPLIANCE_INSURANCE_PERCENT = "0.5"
    cost = landed.estimate(
        [landed.CostLine(1, "goods", "080132", D("1000.00"), D(0), D(0))],
        currency="EUR",
        terms=TERMS[1],
        mode="1",
    )

    assert (cost.freight, cost.insurance) == (D("80.00"), D("5.94"))  # 0.5 % x 110 % x 1,080
