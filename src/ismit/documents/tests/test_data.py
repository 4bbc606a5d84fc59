from decimal import Decimal

import pytest

from ismit.documents.data import document_data

pytestmark = pytest.mark.django_db


def test_snapshot_resolves_codes_and_totals(cashew_trade, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        data = document_data(cashew_trade, language="fr")
    assert data.reference == cashew_trade.reference
    assert data.seller.country == "CI"
    assert data.seller.country_name == "Côte d'Ivoire"
    assert data.items and data.items[0].hs_code == cashew_trade.items.first().hs_code_id
    assert data.total_amount == sum(i.quantity * i.unit_price for i in cashew_trade.items.all()).quantize(
        Decimal("0.01")
    )
    assert data.export_country == cashew_trade.place_of_loading.country
