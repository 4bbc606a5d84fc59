"""The data set is checked against the code lists and the rules of trade before anything is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from conftest import cashew_trade_data
from ismit.refdata.models import Location
from ismit.trades.models import GoodsItem, Party, Trade
from ismit.trades.services import GoodsItemData, create_trade

pytestmark = pytest.mark.django_db


def errors_of(cast, actor, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        create_trade(actor=actor, organisation=cast.msme, data=data)
    return exc.value.message_dict


def test_gross_mass_below_net_mass_is_refused_on_that_line(cast, exporter_actor):
    data = cashew_trade_data()
    data.items[1].gross_mass_kg = Decimal("4999")
    errors = errors_of(cast, exporter_actor, data)
    assert errors == {"items[1].gross_mass_kg": ["Gross mass cannot be less than net mass."]}


def test_fob_is_refused_for_air_transport_and_fca_is_suggested(cast, exporter_actor):
    data = cashew_trade_data(incoterm="FOB", incoterm_place="CIABJ", transport_mode="4")
    errors = errors_of(cast, exporter_actor, data)
    assert list(errors) == ["incoterm"]
    assert "FOB" in errors["incoterm"][0] and "FCA" in errors["incoterm"][0]


def test_an_unknown_un_locode_is_refused(cast, exporter_actor):
    errors = errors_of(cast, exporter_actor, cashew_trade_data(place_of_loading="CIZZZ"))
    assert errors == {"place_of_loading": ["CIZZZ is not a UN/LOCODE location."]}


def test_a_place_without_an_airport_is_refused_for_air_transport(cast, exporter_actor):
    fos = Location.objects.get(code="FRFOS")  # Fos-sur-Mer: a port, no airport
    assert not fos.is_airport
    assert Location.objects.get(code="FRMRS").is_airport  # Marseille has both
    data = cashew_trade_data(
        incoterm="FCA",
        incoterm_place="CIABJ",
        transport_mode="4",
        place_of_loading="CIABJ",
        place_of_discharge="FRFOS",
    )
    errors = errors_of(cast, exporter_actor, data)
    assert list(errors) == ["place_of_discharge"]
    assert "Fos-sur-Mer (FRFOS)" in errors["place_of_discharge"][0]


@pytest.mark.parametrize("code", ["0801", "08013", "0801321", "cashew"])
def test_an_hs_code_must_be_a_6_digit_subheading(cast, exporter_actor, code):
    data = cashew_trade_data()
    data.items[0].hs_code = code
    errors = errors_of(cast, exporter_actor, data)
    assert list(errors) == ["items[0].hs_code"]


def test_an_hs_subheading_that_does_not_exist_is_refused(cast, exporter_actor):
    data = cashew_trade_data()
    data.items[0].hs_code = "080199"
    assert errors_of(cast, exporter_actor, data) == {"items[0].hs_code": ["080199 is not an HS subheading."]}


def test_every_error_is_reported_at_once_with_its_path(cast, exporter_actor):
    data = cashew_trade_data(currency="EU", incoterm="XYZ", payment_terms="barter", payment_days="sixty")
    data.buyer.country = "ZZ"
    data.seller.name = " "
    data.items.append(
        GoodsItemData(
            description="",
            hs_code="080132",
            origin_country="CI",
            quantity="-1",
            unit="KGM",
            packages_count="two",
            package_type="BG",
            net_mass_kg="10",
            gross_mass_kg="x",
            unit_price="1",
        )
    )
    errors = errors_of(cast, exporter_actor, data)
    assert set(errors) == {
        "currency",
        "incoterm",
        "payment_terms",
        "payment_days",
        "buyer.country",
        "seller.name",
        "items[2].description",
        "items[2].quantity",
        "items[2].packages_count",
        "items[2].gross_mass_kg",
    }


def test_a_trade_needs_at_least_one_goods_line(cast, exporter_actor):
    assert errors_of(cast, exporter_actor, cashew_trade_data(items=[])) == {
        "items": ["Add at least one goods item."]
    }


def test_the_consignee_is_checked_only_when_given(cast, exporter_actor):
    from ismit.trades.services import PartyData

    errors = errors_of(
        cast, exporter_actor, cashew_trade_data(consignee=PartyData(name="Depot", country="XX"))
    )
    assert list(errors) == ["consignee.country"]


def test_nothing_is_saved_when_the_data_is_invalid(cast, exporter_actor):
    data = cashew_trade_data()
    data.items[1].gross_mass_kg = "1"
    errors_of(cast, exporter_actor, data)
    assert not Trade.objects.exists()
    assert not Party.objects.exists()
    assert not GoodsItem.objects.exists()


# Committed for real (foreign keys are checked when a transaction commits), hence a transactional test.
@pytest.mark.django_db(transaction=True)
def test_a_place_removed_from_its_list_while_this_process_kept_it_is_refused_on_its_field(
    cast, exporter_actor, settings
):
    from ismit.refdata import lookup

    settings.CODE_LIST_CACHE_S = 300
    Location.objects.create(code="FRZZP", country="FR", name="Zed Port", name_ascii="Zed Port", functions="1")
    lookup.resolve({Location: ["FRZZP"]})  # kept by this process
    Location.objects.filter(code="FRZZP").delete()  # a new UN/LOCODE release no longer has it
    data = cashew_trade_data(reference="ZED-1")
    data.place_of_discharge = "FRZZP"
    errors = errors_of(cast, exporter_actor, data)
    assert list(errors) == ["place_of_discharge"]
    assert not Trade.objects.filter(reference="ZED-1").exists()
