"""The check is fast: a 100-item trade against 1,000 rules, in a fixed number of queries."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ismit.compliance.check import run_check
from ismit.compliance.models import Rule
from ismit.compliance.samples import create_synthetic_rules, synthetic_rules
from ismit.compliance.tests.conftest import goods
from ismit.compliance.validation import KnownCodes, rule_errors
from ismit.refdata.models import HSCode
from ismit.trades.queries import get_trade_for

pytestmark = pytest.mark.django_db


def test_synthetic_rules_are_valid_and_reproducible(starter_rules):
    rules = synthetic_rules(300, seed=7)

    known = KnownCodes.for_rules(rules)
    assert all(not rule_errors(rule, known) for rule in rules)
    assert [r.key for r in rules] == [r.key for r in synthetic_rules(300, seed=7)]
    assert {r.kind for r in rules} == {
        "document",
        "licence",
        "restriction",
        "prohibition",
        "duty",
        "vat",
        "de_minimis",
    }


def test_a_100_item_trade_is_checked_against_1000_rules_in_well_under_a_second(
    starter_rules, make_trade, exporter_actor
):
    assert create_synthetic_rules(1000) == 1000
    assert Rule.objects.count() == 1025
    codes = list(HSCode.objects.filter(level=6).order_by("code").values_list("code", flat=True)[::50])[:96]
    items = [goods(f"Line {n}", code, "CI") for n, code in enumerate(codes)]
    items += [
        goods("Cashew", "080132", "CI"),
        goods("Cocoa", "180100", "CI"),
        goods("Roses", "060311", "KE"),
        goods("T-shirts", "610910", "BD"),
    ]
    trade = make_trade(items=items)
    get_trade_for(exporter_actor, trade.pk)  # warm the code paths once

    started = time.perf_counter()
    read = get_trade_for(exporter_actor, trade.pk)
    with CaptureQueriesContext(connection) as queries:
        result = run_check(read)
    elapsed = time.perf_counter() - started

    assert len(result.landed_cost.lines) == 100
    assert result.rules_considered > 100
    assert len(queries) <= 6, "\n".join(q["sql"][:150] for q in queries)
    assert elapsed < 1.0, f"check took {elapsed * 1000:.0f} ms"
