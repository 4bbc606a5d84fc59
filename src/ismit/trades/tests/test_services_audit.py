"""Every write of the trades app leaves a link in the hash-chained audit log."""

from __future__ import annotations

import pytest

from conftest import cashew_trade_data
from ismit.audit.models import AuditEvent
from ismit.audit.services import verify_chain
from ismit.trades.models import ChecklistStep, GoodsItem
from ismit.trades.services import (
    GoodsItemData,
    add_goods_item,
    create_trade,
    delete_goods_item,
    delete_trade,
    duplicate_trade,
    mark_commercial_step,
    set_step_status,
    update_goods_item,
    update_trade,
)

pytestmark = pytest.mark.django_db


def actions_after(number: int) -> list[str]:
    # An event's number is its id (the linker copies it to `seq` after commit).
    return list(AuditEvent.objects.filter(id__gt=number).order_by("id").values_list("action", flat=True))


def last_seq() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_every_trade_service_writes_an_audit_event_and_the_chain_holds(cast, exporter_actor):
    start = last_seq()
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    update_trade(actor=exporter_actor, trade=trade, data=cashew_trade_data(payment_days=30))
    item = GoodsItemData(
        description="Kernels",
        hs_code="080132",
        origin_country="CI",
        quantity="1",
        unit="KGM",
        packages_count=1,
        package_type="BG",
        net_mass_kg="1",
        gross_mass_kg="1",
        unit_price="1",
    )
    goods = add_goods_item(actor=exporter_actor, trade=trade, item=item)
    goods = GoodsItem.objects.select_related("trade").get(pk=goods.pk)
    update_goods_item(actor=exporter_actor, goods=goods, item=item)
    delete_goods_item(actor=exporter_actor, goods=goods)
    mark_commercial_step(
        actor=exporter_actor, step=ChecklistStep.objects.get(trade=trade, code="contract"), status="done"
    )
    set_step_status(
        actor=None,
        step=ChecklistStep.objects.get(trade=trade, code="export_declaration"),
        status="in_progress",
    )
    copy = duplicate_trade(actor=exporter_actor, trade=trade)
    delete_trade(actor=exporter_actor, trade=copy)

    assert actions_after(start) == [
        "trade.created",
        "trade.updated",
        "trade.item_added",
        "trade.item_updated",
        "trade.item_deleted",
        "trade.step_changed",
        "trade.step_changed",
        "trade.created",
        "trade.duplicated",
        "trade.deleted",
    ]
    assert set(AuditEvent.objects.filter(id__gt=start).values_list("organisation_id", flat=True)) == {
        cast.msme.id
    }
    report = verify_chain()
    assert report.ok, report.reason


def test_the_creation_event_holds_the_data_set_as_entered(cast, exporter_actor):
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    event = AuditEvent.objects.get(action="trade.created", object_id=str(trade.pk))
    assert event.actor_id == cast.exporter.pk
    assert event.changes["reference"] == trade.reference
    assert event.changes["data"]["items"][0]["hs_code"] == "080132"


def test_the_update_event_records_what_changed(cashew_trade, exporter_actor):
    update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(payment_days=30))
    event = AuditEvent.objects.get(action="trade.updated", object_id=str(cashew_trade.pk))
    assert event.changes == {"payment_days": [60, 30]}  # not the kept reference, not 15000.000 vs 15000
