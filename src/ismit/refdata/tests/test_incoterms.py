"""The Incoterms 2020 rules and who bears each obligation."""

from __future__ import annotations

import pytest

from ismit.refdata.models import Incoterm

S, B = Incoterm.SELLER, Incoterm.BUYER


@pytest.fixture
def rules(trade_terms) -> dict[str, Incoterm]:
    return {rule.code: rule for rule in Incoterm.objects.all()}


@pytest.mark.django_db
def test_there_are_eleven_rules_in_their_usual_order(rules):
    assert list(rules) == ["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"]


@pytest.mark.django_db
def test_four_rules_are_for_sea_and_inland_waterway_only(rules):
    assert {code for code, rule in rules.items() if not rule.any_mode} == {"FAS", "FOB", "CFR", "CIF"}


@pytest.mark.django_db
def test_under_exw_the_buyer_clears_the_goods_for_export(rules):
    exw = rules["EXW"]
    assert (exw.export_clearance, exw.main_carriage, exw.insurance, exw.import_clearance) == (B, B, B, B)
    assert all(rule.export_clearance == S for code, rule in rules.items() if code != "EXW")


@pytest.mark.django_db
def test_under_ddp_the_seller_clears_the_goods_for_import(rules):
    assert rules["DDP"].import_clearance == S
    assert all(rule.import_clearance == B for code, rule in rules.items() if code != "DDP")


@pytest.mark.django_db
def test_only_cip_and_cif_oblige_the_seller_to_insure(rules):
    assert rules["CIF"].insurance == S
    assert rules["CIP"].insurance == S
    assert {code for code, rule in rules.items() if rule.insurance_required} == {"CIP", "CIF"}


@pytest.mark.django_db
def test_the_seller_pays_main_carriage_under_c_and_d_rules_only(rules):
    paid_by_seller = {code for code, rule in rules.items() if rule.main_carriage == S}
    assert paid_by_seller == {"CPT", "CIP", "CFR", "CIF", "DAP", "DPU", "DDP"}


@pytest.mark.django_db
def test_every_rule_has_a_french_name_and_says_what_its_place_means(rules):
    assert rules["FOB"].name_fr == "Franco à bord"
    assert all(rule.name_fr and rule.place_meaning for rule in rules.values())
