"""Goods lines one by one (as the API adds and corrects them)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ismit.accounts.actors import actor_for
from ismit.trades.models import GoodsItem
from ismit.trades.services import GoodsItemData, add_goods_item, delete_goods_item, update_goods_item

pytestmark = pytest.mark.django_db


def roses(**overrides) -> GoodsItemData:
    values = dict(
        description="Cashew kernels W180",
        hs_code="080132",
        origin_country="CI",
        quantity="500",
        unit="KGM",
        packages_count=25,
        package_type="BG",
        net_mass_kg="500",
        gross_mass_kg="515",
        unit_price="9.40",
    )
    return GoodsItemData(**{**values, **overrides})


def test_add_goods_item_numbers_the_next_line(cashew_trade, exporter_actor):
    goods = add_goods_item(actor=exporter_actor, trade=cashew_trade, item=roses())
    assert goods.line_no == 3
    assert cashew_trade.items.count() == 3


def test_add_goods_item_checks_the_line(cashew_trade, exporter_actor):
    with pytest.raises(ValidationError) as exc:
        add_goods_item(
            actor=exporter_actor, trade=cashew_trade, item=roses(hs_code="0801", gross_mass_kg="1")
        )
    assert set(exc.value.message_dict) == {"item.hs_code", "item.gross_mass_kg"}
    assert cashew_trade.items.count() == 2


def test_update_goods_item_corrects_one_line(cashew_trade, exporter_actor):
    goods = GoodsItem.objects.select_related("trade").get(trade=cashew_trade, line_no=2)
    update_goods_item(actor=exporter_actor, goods=goods, item=roses(description="Corrected"))
    goods.refresh_from_db()
    assert (goods.description, goods.line_no) == ("Corrected", 2)


def test_the_last_goods_line_cannot_be_deleted(cashew_trade, exporter_actor):
    first, second = GoodsItem.objects.select_related("trade").filter(trade=cashew_trade)
    delete_goods_item(actor=exporter_actor, goods=first)
    with pytest.raises(ValidationError):
        delete_goods_item(actor=exporter_actor, goods=second)
    assert list(cashew_trade.items.values_list("line_no", flat=True)) == [2]


@pytest.mark.parametrize("who", ["viewer", "other"])
def test_only_members_who_may_change_can_touch_goods_lines(cashew_trade, cast, who):
    actor = actor_for(getattr(cast, who))
    goods = GoodsItem.objects.select_related("trade").get(trade=cashew_trade, line_no=1)
    with pytest.raises(PermissionDenied):
        add_goods_item(actor=actor, trade=cashew_trade, item=roses())
    with pytest.raises(PermissionDenied):
        update_goods_item(actor=actor, goods=goods, item=roses(description="x"))
    with pytest.raises(PermissionDenied):
        delete_goods_item(actor=actor, goods=goods)
    assert cashew_trade.items.count() == 2
