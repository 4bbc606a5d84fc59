"""How rules match a trade: validity dates, group membership on the date, customs territories, HS
prefixes, and the paths of prohibitions, licences and restrictions; and the data findings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ismit.compliance.check import run_check
from ismit.compliance.queries import memberships_on
from ismit.compliance.services import import_rules
from ismit.compliance.tests.conftest import goods
from ismit.trades.models import ChecklistStep, GoodsItem, Trade
from ismit.trades.services import PartyData, set_step_status

pytestmark = pytest.mark.django_db


def keys(result, severity=None) -> set[str]:
    return {
        f.rule_key for f in result.findings if f.rule_key and (severity is None or f.severity == severity)
    }


def finding(result, code):
    return next(f for f in result.findings if f.code == code)


# -- dates and groups -------------------------------------------------------------------------------


def test_a_rule_applies_from_its_first_day_to_its_last_day_inclusive(starter_rules, other_trade, trade_on):
    trade = trade_on(other_trade)
    on_30_june = keys(run_check(trade, on=dt.date(2024, 6, 30)))
    on_1_july = keys(run_check(trade, on=dt.date(2024, 7, 1)))

    assert "ke-eu-cut-flowers-duty-mar" in on_30_june
    assert "ke-eu-cut-flowers-duty" not in on_30_june and "ke-eu-epa-proof-of-origin" not in on_30_june
    assert {"ke-eu-cut-flowers-duty", "ke-eu-epa-proof-of-origin"} <= on_1_july
    assert "ke-eu-cut-flowers-duty-mar" not in on_1_july


def test_the_check_date_is_the_planned_departure_else_the_invoice_date(
    starter_rules, make_trade, other_trade
):
    cocoa = [goods("Cocoa beans", "180100", "CI")]
    by_departure = run_check(make_trade(items=cocoa, planned_departure=dt.date(2027, 1, 4)))
    by_invoice = run_check(
        make_trade(items=cocoa, planned_departure=None, invoice_date=dt.date(2026, 12, 31), reference="R-2")
    )

    assert by_departure.checked_on == dt.date(2027, 1, 4)
    assert by_invoice.checked_on == dt.date(2026, 12, 31)
    assert "eu-cocoa-eudr-due-diligence" in keys(by_invoice)
    assert finding(by_invoice, "data.departure_missing").severity == "info"


def test_group_membership_follows_accession_and_withdrawal_dates(starter_rules):
    assert memberships_on(["GB"], dt.date(2020, 1, 31)).is_member("GB", "EU")
    assert not memberships_on(["GB"], dt.date(2020, 2, 1)).is_member("GB", "EU")
    assert not memberships_on(["HR"], dt.date(2013, 6, 30)).is_member("HR", "EU")
    assert memberships_on(["HR"], dt.date(2013, 7, 1)).is_member("HR", "EU")
    assert memberships_on(["ML"], dt.date(2025, 1, 29)).is_member("ML", "ECOWAS")
    assert not memberships_on(["ML"], dt.date(2025, 1, 30)).is_member("ML", "ECOWAS")
    assert memberships_on(["KE", "SO"], dt.date(2024, 3, 4)).places("SO") == {"SO", "EAC"}


def test_rules_for_the_eu_applied_to_the_united_kingdom_until_it_left(starter_rules, make_trade):
    trade = make_trade(
        buyer=PartyData(name="London Nuts Ltd", country="GB", city="London", street="1 Dock Road"),
        incoterm_place="GBFXT",
        place_of_discharge="GBFXT",
    )

    assert "ci-eu-epa-proof-of-origin" in keys(run_check(trade, on=dt.date(2020, 1, 31)))
    after = run_check(trade, on=dt.date(2020, 2, 1))
    assert "ci-eu-epa-proof-of-origin" not in keys(after)
    assert "data.eori_missing" not in {f.code for f in after.findings}
    assert {f.code for f in after.findings if f.kind == "cost"} == {"cost.duty_unknown"}


def test_import_rules_do_not_apply_inside_a_customs_union(starter_rules, make_trade):
    trade = make_trade(
        seller=PartyData(name="Marseille Négoce SARL", country="FR", city="Marseille", street="2 quai"),
        buyer=PartyData(name="Hamburg Nuss GmbH", country="DE", city="Hamburg", street="Kai 1"),
        incoterm="CIF",
        incoterm_place="DEHAM",
        place_of_loading="FRMRS",
        place_of_discharge="DEHAM",
    )
    result = run_check(trade)

    assert not {"ci-eu-epa-proof-of-origin", "de-vat-standard", "ci-eu-cashew-kernels-duty"} & keys(result)
    assert not [f for f in result.findings if f.kind == "cost"]
    cost = result.landed_cost
    assert cost.duty == cost.vat == 0
    assert cost.assumptions[0].code == "same_territory"


# -- conflicts and HS prefixes ----------------------------------------------------------------------

EXTRA = """
rules:
- key: test-eu-mfn-t-shirts
  kind: duty
  direction: import
  destination: EU
  hs_prefix: '610910'
  rate: 10.5
  title: Test duty on T-shirts
  source_title: Test source
  source_url: https://example.org/tariff
"""


def test_a_longer_hs_prefix_wins_but_a_preference_for_the_origin_wins_over_the_general_rate(
    starter_rules, make_trade
):
    import_rules(EXTRA, actor=None)
    trade = make_trade(
        items=[
            goods("T-shirts", "610910", "CN", quantity="100", price="4"),
            goods("Pullovers", "611020", "CN", quantity="100", price="10"),
            goods("T-shirts", "610910", "BD", quantity="100", price="4"),
        ]
    )
    result = run_check(trade)
    rates = {line.line_no: line.duty_rate for line in result.landed_cost.lines}

    assert rates == {1: Decimal("10.5"), 2: Decimal("12.000"), 3: Decimal("0.000")}
    duty_lines = {f.rule_key: f.lines for f in result.findings if f.kind == "duty"}
    assert duty_lines == {
        "test-eu-mfn-t-shirts": (1,),
        "eu-mfn-knitted-garments-duty": (2,),
        "bd-eu-eba-knitted-garments-duty": (3,),
    }


# -- prohibitions, licences, documents --------------------------------------------------------------


def test_prohibited_goods_are_an_error(starter_rules, make_trade):
    trade = make_trade(items=[goods("Carved ivory tusk", "050710", "CI", quantity="2", price="900")])
    result = run_check(trade)

    assert result.has_errors
    prohibition = finding(result, "rule.prohibition")
    assert prohibition.severity == "error"
    assert prohibition.field == "items[0].hs_code"
    assert "338/97" in prohibition.source_title


def test_a_licence_is_a_warning_with_its_document_code(starter_rules, make_trade):
    trade = make_trade(items=[goods("Live royal pythons", "010690", "CI", quantity="20", price="40")])
    result = run_check(trade)

    licence = finding(result, "rule.licence")
    assert (licence.severity, licence.document_code, licence.rule_key) == (
        "warning",
        "911",
        "eu-live-animals-cites-permit",
    )
    assert not result.has_errors


def test_documents_already_obtained_on_the_checklist_become_information(starter_rules, cashew_trade):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="certificate_of_origin")
    set_step_status(actor=None, step=step, status="done")
    trade = Trade.objects.get(pk=cashew_trade.pk)
    result = run_check(trade)

    severities = {f.rule_key: f.severity for f in result.findings if f.rule_key}
    assert severities["ci-eu-epa-proof-of-origin"] == "info"
    assert severities["ci-export-cashew-kernels-authorisation"] == "warning"  # licences step still to do


def test_no_rules_for_a_corridor_is_said(starter_rules, make_trade):
    trade = make_trade(
        seller=PartyData(name="Accra Cashew Ltd", country="GH", city="Tema", street="Harbour Rd"),
        buyer=PartyData(name="Boston Nuts Inc", country="US", city="Boston", street="1 Pier"),
        incoterm="CIF",
        incoterm_place="USBAL",
        place_of_loading="GHTEM",
        place_of_discharge="USBAL",
        items=[goods("Cashew kernels", "080132", "GH")],
    )
    result = run_check(trade)

    assert finding(result, "rules.none").severity == "info"
    assert finding(result, "cost.duty_unknown").field == "items[0].hs_code"
    assert result.landed_cost.destination_currency == "USD"


# -- data findings ----------------------------------------------------------------------------------


def test_data_errors_name_the_field_to_fix(starter_rules, cashew_trade):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(gross_mass_kg=Decimal("100"))
    GoodsItem.objects.filter(trade=cashew_trade, line_no=2).update(unit_price=0, hs_code_id="0801")
    result = run_check(Trade.objects.get(pk=cashew_trade.pk))

    errors = {(f.code, f.field) for f in result.findings if f.severity == "error"}
    assert errors == {
        ("data.gross_below_net", "items[0].gross_mass_kg"),
        ("data.value_zero", "items[1].unit_price"),
        ("data.hs_not_subheading", "items[1].hs_code"),
    }
    assert result.has_errors


def test_places_must_serve_the_mode_of_transport(starter_rules, make_trade):
    trade = make_trade()
    Trade.objects.filter(pk=trade.pk).update(
        transport_mode_id="4", incoterm_id="FOB", incoterm_place_id="FRCDG", place_of_discharge_id="GBFXT"
    )
    result = run_check(Trade.objects.get(pk=trade.pk))

    errors = {(f.code, f.field) for f in result.findings if f.severity == "error"}
    assert ("data.incoterm_mode", "incoterm") in errors
    assert ("data.place_not_for_mode", "place_of_discharge") in errors
    assert ("data.incoterm_place_not_port", "incoterm_place") in errors
    assert finding(result, "data.incoterm_place_country").severity == "warning"  # FOB place is in France


def test_missing_invoice_references_and_addresses_are_warnings(starter_rules, make_trade):
    trade = make_trade(
        invoice_number="",
        invoice_date=None,
        consignee=PartyData(name="Entrepôt du Port", country="FR"),
    )
    result = run_check(trade)
    warnings = {(f.code, f.field) for f in result.findings if f.severity == "warning"}

    assert ("data.invoice_number_missing", "invoice_number") in warnings
    assert ("data.invoice_date_missing", "invoice_date") in warnings
    assert ("data.address_incomplete", "consignee.street") in warnings
    assert "data.consignee_is_buyer" not in {f.code for f in result.findings}


def test_a_currency_without_exchange_rate_is_a_warning_and_the_cost_stays_in_it(starter_rules, make_trade):
    result = run_check(make_trade(currency="NGN"))

    assert finding(result, "data.currency_no_rate").field == "currency"
    cost = result.landed_cost
    assert cost.currency == "NGN" and cost.destination_total is None
    assert any(a.code == "conversion" and "NGN" in a.text for a in cost.assumptions)


def test_messages_follow_the_language(starter_rules, make_trade):
    trade = make_trade(invoice_number="")
    english = run_check(trade, language="en")
    french = run_check(trade, language="fr-FR")

    assert french.language == "fr"
    assert finding(english, "rule.document").message.startswith("Proof of origin")
    assert finding(french, "rule.document").message.startswith("Preuve de l'origine")
    assert finding(french, "rule.document").detail.startswith("Les marchandises originaires")


EXPORT_TAX = """
rules:
- key: test-ci-export-tax
  kind: duty
  direction: export
  origin: CI
  hs_prefix: '080131'
  rate: 10
  title: Test export tax
  source_title: Test source
  source_url: https://example.org/tax
"""


def test_an_export_duty_is_reported_but_not_added_to_the_import_landed_cost(starter_rules, make_trade):
    import_rules(EXPORT_TAX, actor=None)
    result = run_check(make_trade())

    tax = next(f for f in result.findings if f.rule_key == "test-ci-export-tax")
    assert (tax.severity, tax.message, tax.responsible) == ("info", "Test export tax: 10%", "seller")
    assert result.landed_cost.duty == 0
    assert {line.duty_rate for line in result.landed_cost.lines} == {Decimal("0.000")}
