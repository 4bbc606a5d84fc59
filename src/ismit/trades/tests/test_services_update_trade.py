"""Correcting a trade: the data set is replaced, the checklist follows and keeps what was done."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.trades.models import ChecklistStep, Party, StepStatus, Trade, TradeStatus
from ismit.trades.queries import totals
from ismit.trades.services import (
    GoodsItemData,
    create_trade,
    mark_commercial_step,
    trade_data_from,
    update_trade,
)

pytestmark = pytest.mark.django_db


def status_of(trade, code) -> str:
    return ChecklistStep.objects.get(trade=trade, code=code).status


def test_trade_data_from_gives_back_what_was_entered(cashew_trade):
    data = trade_data_from(Trade.objects.get(pk=cashew_trade.pk))
    entered = cashew_trade_data()
    assert data.reference == cashew_trade.reference
    assert (data.incoterm, data.incoterm_place, data.payment_terms) == ("CIF", "FRMRS", "lc")
    assert data.buyer.identifiers == entered.buyer.identifiers
    assert [i.hs_code for i in data.items] == ["080132", "080131"]
    assert data.items[0].unit_price == Decimal("6.20")


def test_update_keeps_the_status_of_steps_that_still_apply(cashew_trade, exporter_actor):
    contract = ChecklistStep.objects.get(trade=cashew_trade, code="contract")
    mark_commercial_step(actor=exporter_actor, step=contract, status="done", note="signed")
    update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(payment_terms="advance"))
    assert status_of(cashew_trade, "contract") == StepStatus.DONE
    assert ChecklistStep.objects.get(trade=cashew_trade, code="contract").note == "signed"
    assert status_of(cashew_trade, "lc_opened") == StepStatus.NOT_NEEDED
    assert status_of(cashew_trade, "advance_payment") == StepStatus.TODO
    assert status_of(cashew_trade, "payment_received") == StepStatus.NOT_NEEDED

    update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(payment_terms="lc"))
    assert status_of(cashew_trade, "lc_opened") == StepStatus.TODO
    assert status_of(cashew_trade, "contract") == StepStatus.DONE


def test_update_moves_responsibility_when_the_incoterms_rule_changes(cashew_trade, exporter_actor):
    update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(incoterm="CFR"))
    step = ChecklistStep.objects.get(trade=cashew_trade, code="cargo_insurance")
    assert step.responsible == "buyer"
    assert ChecklistStep.objects.get(trade=cashew_trade, code="carriage_booked").responsible == "seller"


def test_update_replaces_the_goods_lines_and_the_parties(cashew_trade, exporter_actor):
    old_parties = [cashew_trade.seller_id, cashew_trade.buyer_id]
    data = cashew_trade_data(
        reference="PO-2",
        items=[
            GoodsItemData(
                description="Cashew kernels W240",
                hs_code="080132",
                origin_country="CI",
                quantity="1000",
                unit="KGM",
                packages_count=40,
                package_type="BG",
                net_mass_kg="1000",
                gross_mass_kg="1030",
                unit_price="8.10",
            ),
        ],
    )
    data.buyer = dataclasses.replace(data.buyer, name="Marseille Noix SARL")
    update_trade(actor=exporter_actor, trade=cashew_trade, data=data)
    trade = Trade.objects.get(pk=cashew_trade.pk)
    assert trade.reference == "PO-2"
    assert trade.buyer.name == "Marseille Noix SARL"
    assert totals(trade)["amount"] == Decimal("8100.00")
    assert [i.line_no for i in trade.items.all()] == [1]
    assert not Party.objects.filter(pk__in=old_parties).exists()


def test_an_invalid_update_changes_nothing(cashew_trade, exporter_actor):
    data = cashew_trade_data(incoterm="FOB", transport_mode="4", reference="PO-3")
    with pytest.raises(ValidationError):
        update_trade(actor=exporter_actor, trade=cashew_trade, data=data)
    trade = Trade.objects.get(pk=cashew_trade.pk)
    assert (trade.incoterm_id, trade.reference) == ("CIF", cashew_trade.reference)
    assert trade.items.count() == 2


def test_update_refuses_a_reference_another_trade_uses(cast, cashew_trade, exporter_actor):
    create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="TAKEN"))
    with pytest.raises(ValidationError) as exc:
        update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(reference="TAKEN"))
    assert "reference" in exc.value.message_dict


def test_a_completed_trade_cannot_be_changed(cashew_trade, exporter_actor):
    Trade.objects.filter(pk=cashew_trade.pk).update(status=TradeStatus.COMPLETED)
    with pytest.raises(ValidationError) as exc:
        update_trade(actor=exporter_actor, trade=cashew_trade, data=cashew_trade_data(payment_days=30))
    assert "__all__" in exc.value.message_dict


@pytest.mark.parametrize("who", ["viewer", "other", "stranger"])
def test_only_members_who_may_change_can_update(cashew_trade, cast, who):
    with pytest.raises(PermissionDenied):
        update_trade(
            actor=actor_for(getattr(cast, who)), trade=cashew_trade, data=cashew_trade_data(payment_days=5)
        )
    assert Trade.objects.get(pk=cashew_trade.pk).payment_days == 60
