"""The marketplace demo: catalogues of the demo providers, seeded once, that cover the demo trade."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.matching import match_offerings
from ismit.marketplace.models import Provider, ServiceOffering
from ismit.marketplace.pricing import price_offering

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_covers_the_demo_trade(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=None)
    call_command("seed_marketplace_demo")
    call_command("seed_marketplace_demo")
    assert ServiceOffering.objects.count() == 6
    assert Provider.objects.filter(status="active").count() == 4
    assert all(p.quality_score == Decimal("50.00") for p in Provider.objects.all())
    cashew = CargoSpec(
        origin_country="CI",
        destination_country="FR",
        origin_location="CIABJ",
        destination_location="FRMRS",
        mode="1",
        gross_mass_kg=Decimal("15450"),
        volume_m3=Decimal("24"),
        goods_value=Decimal("100250"),
        value_currency="EUR",
    )
    today = timezone.localdate()
    sea = match_offerings(service_type="carriage", cargo=cashew, on=today)
    assert [o.name for o in sea] == [
        "Sea groupage West Africa – Europe",
        "Full container Abidjan – Marseille",
    ]
    assert price_offering(offering=sea[0], cargo=cashew, on=today).total > 0
    assert price_offering(offering=sea[1], cargo=cashew, on=today) is None  # no container asked for
    [insurance] = match_offerings(service_type="insurance", cargo=cashew, on=today)
    assert price_offering(offering=insurance, cargo=cashew, on=today).total == Decimal("360.88")
    [broker] = match_offerings(service_type="customs_brokerage", cargo=cashew, on=today)
    assert broker.currency_id == "XOF"
