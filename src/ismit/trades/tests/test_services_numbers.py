"""Numbers as people type them: decimal commas, thousands separators, too many digits."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from conftest import cashew_trade_data
from ismit.lib.errors import error_dict
from ismit.trades.services import create_trade


def test_thousands_separators_and_decimal_commas_are_read(cast, exporter_actor):
    data = cashew_trade_data()
    data.items[0].quantity = "15 000"
    data.items[0].unit_price = "6,2"
    data.items[0].net_mass_kg = "15\u202f000,0004"  # narrow no-break space, as French locales print it
    trade = create_trade(actor=exporter_actor, organisation=cast.msme, data=data)
    line = trade.items.get(line_no=1)
    assert line.quantity == Decimal("15000.000")
    assert line.unit_price == Decimal("6.2000")
    assert line.net_mass_kg == Decimal("15000.000")  # rounded to the gram
    assert line.line_amount == Decimal("93000.00")


def test_a_number_too_large_to_store_is_a_field_error_not_a_crash(cast, exporter_actor):
    data = cashew_trade_data()
    data.items[1].gross_mass_kg = "12345678901234"
    with pytest.raises(ValidationError) as caught:
        create_trade(actor=exporter_actor, organisation=cast.msme, data=data)
    assert "items[1].gross_mass_kg" in error_dict(caught.value)


def test_a_reference_already_used_is_a_field_error_and_saves_nothing(cast, exporter_actor):
    from ismit.trades.models import Party, Trade

    create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="PO-4471"))
    trades, parties = Trade.objects.count(), Party.objects.count()
    with pytest.raises(ValidationError) as caught:
        create_trade(
            actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(reference="PO-4471")
        )
    assert list(error_dict(caught.value)) == ["reference"]
    assert (Trade.objects.count(), Party.objects.count()) == (trades, parties)


def test_another_organisation_may_use_the_same_reference(cast):
    from ismit.accounts.actors import actor_for

    create_trade(
        actor=actor_for(cast.exporter), organisation=cast.msme, data=cashew_trade_data(reference="X-1")
    )
    other = create_trade(
        actor=actor_for(cast.other), organisation=cast.other_msme, data=cashew_trade_data(reference="X-1")
    )
    assert other.reference == "X-1"
