"""Repeat orders start from an earlier trade; only drafts can be deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ismit.accounts.actors import actor_for
from ismit.trades.models import ChecklistStep, GoodsItem, Party, StepStatus, Trade, TradeStatus
from ismit.trades.services import delete_trade, duplicate_trade, mark_commercial_step

pytestmark = pytest.mark.django_db


def test_duplicate_makes_a_new_reference_without_invoice_or_dates(cashew_trade, exporter_actor):
    mark_commercial_step(
        actor=exporter_actor,
        step=ChecklistStep.objects.get(trade=cashew_trade, code="contract"),
        status="done",
    )
    copy = duplicate_trade(actor=exporter_actor, trade=cashew_trade)
    assert copy.pk != cashew_trade.pk
    assert copy.reference != cashew_trade.reference
    assert copy.reference.startswith("EXP-")
    assert (copy.invoice_number, copy.invoice_date, copy.planned_departure) == ("", None, None)
    assert copy.status == TradeStatus.DRAFT
    assert copy.buyer_id != cashew_trade.buyer_id  # its own parties, not shared
    assert copy.buyer.name == cashew_trade.buyer.name
    assert list(copy.items.values_list("description", "hs_code_id")) == list(
        cashew_trade.items.values_list("description", "hs_code_id")
    )
    assert ChecklistStep.objects.get(trade=copy, code="contract").status == StepStatus.TODO
    original = Trade.objects.get(pk=cashew_trade.pk)
    assert original.invoice_number == "INV-2026-041"


@pytest.mark.parametrize("who", ["viewer", "other"])
def test_only_members_who_may_change_can_duplicate(cashew_trade, cast, who):
    with pytest.raises(PermissionDenied):
        duplicate_trade(actor=actor_for(getattr(cast, who)), trade=cashew_trade)
    assert Trade.objects.count() == 1


def test_deleting_a_draft_removes_it_with_its_goods_steps_and_parties(cashew_trade, exporter_actor):
    parties = [cashew_trade.seller_id, cashew_trade.buyer_id]
    delete_trade(actor=exporter_actor, trade=cashew_trade)
    assert not Trade.objects.filter(pk=cashew_trade.pk).exists()
    assert not GoodsItem.objects.filter(trade_id=cashew_trade.pk).exists()
    assert not ChecklistStep.objects.filter(trade_id=cashew_trade.pk).exists()
    assert not Party.objects.filter(pk__in=parties).exists()


@pytest.mark.parametrize("status", [TradeStatus.ACTIVE, TradeStatus.COMPLETED, TradeStatus.CANCELLED])
def test_only_drafts_can_be_deleted(cashew_trade, exporter_actor, status):
    Trade.objects.filter(pk=cashew_trade.pk).update(status=status)
    cashew_trade.refresh_from_db()
    with pytest.raises(ValidationError):
        delete_trade(actor=exporter_actor, trade=cashew_trade)
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()


def test_a_trade_whose_steps_started_is_no_longer_a_draft(cashew_trade, exporter_actor):
    mark_commercial_step(
        actor=exporter_actor,
        step=ChecklistStep.objects.get(trade=cashew_trade, code="contract"),
        status="in_progress",
    )
    cashew_trade.refresh_from_db()
    with pytest.raises(ValidationError):
        delete_trade(actor=exporter_actor, trade=cashew_trade)


@pytest.mark.parametrize("who", ["viewer", "other", "stranger"])
def test_only_members_who_may_change_can_delete(cashew_trade, cast, who):
    with pytest.raises(PermissionDenied):
        delete_trade(actor=actor_for(getattr(cast, who)), trade=cashew_trade)
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()
