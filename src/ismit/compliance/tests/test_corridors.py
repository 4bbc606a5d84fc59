"""Each corridor of the starter rules: a trade whose check gives the findings the rules promise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ismit.compliance.check import run_check
from ismit.compliance.tests.conftest import goods
from ismit.trades.services import PartyData

pytestmark = pytest.mark.django_db


def keys(result, severity=None, kind=None) -> set[str]:
    return {
        f.rule_key
        for f in result.findings
        if f.rule_key and (severity is None or f.severity == severity) and (kind is None or f.kind == kind)
    }


def codes(result, severity=None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity == severity}


def test_cashew_from_cote_divoire_to_france(starter_rules, make_trade, trade_on):
    result = run_check(trade_on(make_trade()))

    assert not result.has_errors
    assert keys(result, "warning") == {
        "ci-eu-epa-proof-of-origin",
        "ci-export-cashew-kernels-authorisation",
        "ci-export-cashew-in-shell-authorisation",
    }
    assert keys(result, "info") == {
        "ci-eu-cashew-kernels-duty",
        "ci-eu-cashew-in-shell-duty",
        "fr-vat-edible-nuts",
    }
    proof = next(f for f in result.findings if f.rule_key == "ci-eu-epa-proof-of-origin")
    assert proof.document_code == "861" and proof.lines == (1, 2) and proof.responsible == "buyer"
    assert proof.source_url.startswith("https://eur-lex.europa.eu/") and proof.sample
    licence = next(f for f in result.findings if f.rule_key == "ci-export-cashew-in-shell-authorisation")
    assert licence.field == "items[1].hs_code" and licence.responsible == "seller"
    # The buyer in Marseille has a VAT number but no EORI number.
    assert "data.eori_missing" in codes(result, "warning")
    cost = result.landed_cost
    assert (cost.customs_value, cost.duty, cost.vat, cost.total) == (
        Decimal("100250.00"),
        Decimal("0.00"),
        Decimal("5513.75"),
        Decimal("105763.75"),
    )
    assert cost.destination_currency == "EUR" and cost.destination_total == Decimal("105763.75")


def test_cocoa_beans_from_cote_divoire_to_france_need_a_due_diligence_statement_from_30_december_2026(
    starter_rules, make_trade, trade_on
):
    cocoa = [goods("Cocoa beans, raw", "180100", "CI", quantity="12500", price="7.80")]
    before = run_check(trade_on(make_trade(items=cocoa, planned_departure=dt.date(2026, 12, 29))))
    after = run_check(trade_on(make_trade(items=cocoa, planned_departure=dt.date(2026, 12, 30))))

    assert "eu-cocoa-eudr-due-diligence" not in keys(before)
    assert "eu-cocoa-eudr-due-diligence" in keys(after, "warning", "restriction")
    for result in (before, after):
        assert {"ci-eu-cocoa-beans-duty", "fr-vat-cocoa-beans"} <= keys(result, "info")
        assert {"ci-export-cocoa-approval", "ci-eu-epa-proof-of-origin"} <= keys(result, "warning")
        assert result.landed_cost.vat == Decimal("5362.50")  # 5.5 % of 97,500


def test_cocoa_beans_to_the_netherlands_pay_dutch_vat(starter_rules, make_trade, trade_on):
    trade = make_trade(
        buyer=PartyData(name="Zaandam Cacao BV", country="NL", city="Amsterdam", street="Hemweg 1"),
        incoterm="CIF",
        incoterm_place="NLAMS",
        place_of_discharge="NLAMS",
        items=[goods("Cocoa beans, raw", "180100", "CI", quantity="10000", price="8.00")],
        planned_departure=dt.date(2027, 2, 1),
    )
    result = run_check(trade_on(trade))

    assert "nl-vat-cocoa-beans" in keys(result, "info")
    assert "fr-vat-cocoa-beans" not in keys(result)
    assert "eu-cocoa-eudr-due-diligence" in keys(result, "warning")
    assert result.landed_cost.vat == Decimal("7200.00")


def test_cut_roses_from_kenya_to_the_netherlands(starter_rules, other_trade, trade_on):
    result = run_check(trade_on(other_trade), language="fr")

    assert not result.has_errors
    assert keys(result, "warning", "document") == {
        "eu-cut-flowers-phytosanitary",
        "ke-eu-epa-proof-of-origin",
    }
    phyto = next(f for f in result.findings if f.rule_key == "eu-cut-flowers-phytosanitary")
    assert phyto.document_code == "851"
    assert phyto.message == "Certificat phytosanitaire pour les fleurs coupées"  # the rule's French title
    assert "KEPHIS" in phyto.detail
    assert {"ke-eu-cut-flowers-duty", "nl-vat-cut-flowers"} <= keys(result, "info")
    assert "ke-eu-cut-flowers-duty-mar" not in keys(result)
    # CPT Amsterdam by air: freight is in the price, insurance is added (0.3 % of 110 % of 6,200).
    cost = result.landed_cost
    assert (cost.goods_value, cost.freight, cost.insurance) == (Decimal("6200.00"), 0, Decimal("20.46"))
    assert (cost.customs_value, cost.duty, cost.vat, cost.total) == (
        Decimal("6220.46"),
        Decimal("0.00"),
        Decimal("559.84"),
        Decimal("6780.30"),
    )


def test_t_shirts_from_bangladesh_to_germany_enter_duty_free_under_everything_but_arms(
    starter_rules, make_trade, trade_on
):
    trade = make_trade(
        seller=PartyData(name="Dhaka Knitwear Ltd", country="BD", city="Gazipur", street="Plot 12"),
        buyer=PartyData(
            name="Hamburger Mode GmbH",
            country="DE",
            city="Hamburg",
            street="Speicherstadt 3",
            identifiers={"eori": "DE123456789012345"},
        ),
        currency="USD",
        incoterm="FOB",
        incoterm_place="BDCGP",
        place_of_loading="BDCGP",
        place_of_discharge="DEHAM",
        items=[
            goods(
                "T-shirts, cotton, knitted",
                "610910",
                "BD",
                quantity="5000",
                price="2.40",
                unit="NAR",
                package_type="CT",
                net_mass_kg=Decimal("900"),
                gross_mass_kg=Decimal("980"),
            )
        ],
        planned_departure=dt.date(2027, 3, 1),
    )
    result = run_check(trade_on(trade))

    assert not result.has_errors
    assert "data.eori_missing" not in codes(result)
    assert keys(result, "info", "duty") == {"bd-eu-eba-knitted-garments-duty"}  # not the 12 % MFN rate
    assert keys(result, "warning", "document") == {"bd-eu-gsp-statement-on-origin"}
    assert "de-vat-standard" in keys(result, "info")
    cost = result.landed_cost
    # FOB Chattogram: freight (5 % by sea) and insurance are added to reach the customs value.
    assert (cost.currency, cost.freight, cost.insurance) == ("USD", Decimal("600.00"), Decimal("41.58"))
    assert (cost.customs_value, cost.duty, cost.vat) == (
        Decimal("12641.58"),
        Decimal("0.00"),
        Decimal("2401.90"),
    )
    assert cost.total == Decimal("15043.48")
    assert cost.destination_currency == "EUR"
    assert cost.conversion.rate == (Decimal(1) / Decimal("1.1225")).quantize(Decimal("1e-10"))
    assert cost.destination_total == (cost.total * cost.conversion.rate).quantize(Decimal("0.01"))
    conversion = next(a.text for a in cost.assumptions if a.code == "conversion")
    assert "0.8908685969 EUR per USD" in conversion and "10/02/2026" in conversion


def test_garments_from_bangladesh_pay_the_general_rate_once_the_gsp_regulation_has_lapsed(
    starter_rules, make_trade, trade_on
):
    trade = make_trade(items=[goods("Men's shirts, woven", "620520", "BD", quantity="100", price="10")])
    result = run_check(trade_on(trade), on=dt.date(2028, 1, 1))

    assert keys(result, "info", "duty") == {"eu-mfn-woven-garments-duty"}
    assert result.landed_cost.duty == Decimal("120.00")
