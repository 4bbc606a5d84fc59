"""Recording a trade once: reference, parties, goods, derived totals, and who may do it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from conftest import cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.trades.models import Party, Trade, TradeStatus
from ismit.trades.queries import totals
from ismit.trades.services import create_trade

pytestmark = pytest.mark.django_db


def test_create_trade_derives_the_totals_from_the_goods_lines(cashew_trade):
    trade = Trade.objects.get(pk=cashew_trade.pk)
    result = totals(trade)
    assert result["amount"] == Decimal("100250.00")  # 15000 x 6.20 + 5000 x 1.45
    assert result["net_mass_kg"] == Decimal("20000")
    assert result["gross_mass_kg"] == Decimal("20570")
    assert result["packages"] == 812
    assert result["lines"] == 2


def test_create_trade_stores_the_parties_goods_and_terms_as_entered(cashew_trade, cast):
    trade = Trade.objects.get(pk=cashew_trade.pk)
    assert trade.organisation == cast.msme
    assert trade.status == TradeStatus.DRAFT
    assert trade.created_by == cast.exporter
    assert (trade.seller.name, trade.seller.country_id) == ("Anacarde Abidjan SARL", "CI")
    assert trade.buyer.identifiers == {"vat": "FR40303265045"}
    assert (trade.incoterm_id, trade.incoterm_place_id, trade.transport_mode_id) == ("CIF", "FRMRS", "1")
    assert [i.line_no for i in trade.items.all()] == [1, 2]
    assert trade.items.get(line_no=1).hs_code_id == "080132"


def test_create_trade_numbers_references_by_direction_and_year(cast, exporter_actor):
    year = timezone.now().year
    first = create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    second = create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())
    imported = create_trade(
        actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(direction="import")
    )
    assert first.reference == f"EXP-{year}-00001"
    assert second.reference == f"EXP-{year}-00002"
    assert imported.reference == f"IMP-{year}-00001"


def test_create_trade_keeps_the_traders_own_reference_and_refuses_a_repeat(cast, exporter_actor):
    trade = create_trade(
        actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="PO-881")
    )
    assert trade.reference == "PO-881"
    with pytest.raises(ValidationError) as exc:
        create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="PO-881"))
    assert "reference" in exc.value.message_dict
    assert Trade.objects.filter(organisation=cast.msme).count() == 1


def test_two_organisations_may_use_the_same_reference(cast, exporter_actor):
    create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="2026-1"))
    theirs = create_trade(
        actor=actor_for(cast.other), organisation=cast.other_msme, data=cashew_trade_data(reference="2026-1")
    )
    assert theirs.reference == "2026-1"


def test_a_colleague_may_record_a_trade_for_the_organisation(cast):
    trade = create_trade(actor=actor_for(cast.colleague), organisation=cast.msme, data=cashew_trade_data())
    assert trade.created_by == cast.colleague


@pytest.mark.parametrize("who", ["viewer", "other", "stranger", "broker"])
def test_only_members_who_may_change_can_record_a_trade(cast, who):
    with pytest.raises(PermissionDenied):
        create_trade(actor=actor_for(getattr(cast, who)), organisation=cast.msme, data=cashew_trade_data())
    assert not Trade.objects.exists()
    assert not Party.objects.exists()


def test_codes_may_be_typed_in_lower_case_and_with_dotted_hs_codes(cast, exporter_actor):
    data = cashew_trade_data(
        currency="eur", incoterm="cif", incoterm_place="frmrs", place_of_loading="CI ABJ"
    )
    data.items[0].hs_code = "0801.32"
    data.items[0].unit = "kgm"
    data.items[0].quantity = "15000,5"
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=data)
    item = trade.items.get(line_no=1)
    assert (trade.currency_id, trade.incoterm_id, trade.place_of_loading_id) == ("EUR", "CIF", "CIABJ")
    assert (item.hs_code_id, item.unit_id, item.quantity) == ("080132", "KGM", Decimal("15000.5"))
