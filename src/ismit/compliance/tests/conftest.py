"""Fixtures of the compliance tests: the starter rules, and trades on each corridor of the starter set."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import cashew_trade_data


@pytest.fixture
def starter_rules(db):
    from ismit.compliance.services import load_starter_rules

    return load_starter_rules(actor=None)


def goods(description: str, hs_code: str, origin: str, quantity="1000", price="2.50", **extra):
    from ismit.trades.services import GoodsItemData

    values = dict(
        description=description,
        hs_code=hs_code,
        origin_country=origin,
        quantity=Decimal(quantity),
        unit="KGM",
        packages_count=10,
        package_type="BG",
        net_mass_kg=Decimal(quantity),
        gross_mass_kg=Decimal(quantity) * Decimal("1.05"),
        unit_price=Decimal(price),
    )
    values.update(extra)
    return GoodsItemData(**values)


@pytest.fixture
def make_trade(cast, exporter_actor):
    """make_trade(**overrides of the cashew data set) -> a trade of the exporter's organisation."""
    from ismit.trades.services import create_trade

    def make(**overrides):
        return create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(**overrides))

    return make


@pytest.fixture
def trade_on():
    """trade_on(trade) -> the trade as the pages and the API read it (items and steps prefetched)."""
    from ismit.trades.models import Trade
    from ismit.trades.queries import DETAIL_RELATED

    def read(trade):
        return (
            Trade.objects.select_related(*DETAIL_RELATED)
            .prefetch_related("items__hs_code", "steps")
            .get(pk=trade.pk)
        )

    return read
