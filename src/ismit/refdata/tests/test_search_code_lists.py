"""Searching the code lists and looking codes up (refdata.queries)."""

from __future__ import annotations

import pytest
from django.utils import translation

from ismit.refdata import queries
from ismit.refdata.models import TransportMode


def codes(rows) -> list[str]:
    return [row.code for row in rows]


@pytest.mark.django_db
def test_hs_search_by_code_prefix_lists_the_heading_then_its_subheadings(hs_codes):
    found = codes(queries.search_hs("0801"))

    assert found == ["0801", "080111", "080112", "080119", "080121", "080122", "080131", "080132"]
    assert codes(queries.search_hs("0801.3")) == codes(queries.search_hs("0801 3")) == ["080131", "080132"]


@pytest.mark.django_db
def test_hs_search_by_words_puts_subheadings_first(hs_codes):
    found = codes(queries.search_hs("Cashew nuts"))

    assert found[:2] == ["080131", "080132"]
    assert set(found) == {"080131", "080132", "0801", "0802"}


@pytest.mark.django_db
def test_hs_words_match_the_start_of_words_only(hs_codes):
    assert "080111" in codes(queries.search_hs("coconut"))
    assert "080111" not in codes(queries.search_hs("conut"))
    assert codes(queries.search_hs("xyzzy")) == []


@pytest.mark.django_db
def test_hs_search_without_query_offers_the_chapters(hs_codes):
    assert codes(queries.search_hs("", limit=100))[:3] == ["01", "02", "03"]
    assert len(queries.search_hs("", limit=100)) == 97


@pytest.mark.django_db
def test_location_search_finds_abidjan_by_name_prefix_and_by_code(builtin_locations):
    assert codes(queries.search_locations("Abid"))[0] == "CIABJ"
    assert codes(queries.search_locations("CIABJ")) == ["CIABJ"]
    assert codes(queries.search_locations("ci abj")) == ["CIABJ"]


@pytest.mark.django_db
def test_a_short_lower_case_query_reads_as_a_name_before_a_code(builtin_locations):
    assert codes(queries.search_locations("par"))[:2] == ["BRPNG", "FRPAR"]  # Paranaguá, Paris
    assert codes(queries.search_locations("KEN")) == ["KENBO", "USJFK"]  # the code, then "John F. Kennedy"


@pytest.mark.django_db
def test_location_search_ignores_case_and_accents_and_finds_inner_words(builtin_locations):
    assert codes(queries.search_locations("san-pedro")) == ["CISPY"]
    assert codes(queries.search_locations("SAN PÉDRO")) == ["CISPY"]
    assert "FRLEH" in codes(queries.search_locations("havre"))
    assert "FRCDG" in codes(queries.search_locations("charles gaulle"))


@pytest.mark.django_db
def test_location_search_narrows_by_country_and_function(builtin_locations):
    airports_in_france = queries.search_locations("", country="fr", function="4", limit=100)
    assert "FRCDG" in codes(airports_in_france)
    assert all(loc.country == "FR" and loc.is_airport for loc in airports_in_france)
    assert codes(queries.search_locations("paris", country="CI")) == []
    assert queries.search_locations("", function="Z") == []


@pytest.mark.django_db
def test_search_limits_are_clamped(hs_codes):
    assert len(queries.search_hs("", limit=1000)) == 97  # all chapters, fewer than MAX_LIMIT
    assert len(queries.search_hs("0", limit=1000)) == queries.MAX_LIMIT
    assert len(queries.search_hs("0")) == queries.DEFAULT_LIMIT
    assert len(queries.search_hs("0", limit=0)) == 1


@pytest.mark.django_db
def test_countries_are_found_by_code_and_by_english_or_french_name(countries):
    assert codes(queries.search_countries("CI"))[0] == "CI"
    assert codes(queries.search_countries("CIV")) == ["CI"]
    assert codes(queries.search_countries("cote")) == ["CI"]
    assert codes(queries.search_countries("Allemagne")) == ["DE"]
    assert codes(queries.search_countries("kenya")) == ["KE"]


@pytest.mark.django_db
def test_country_names_follow_the_active_language(countries):
    germany = queries.get_country("de")
    with translation.override("fr"):
        assert queries.localized_name(germany) == "Allemagne"
    with translation.override("en"):
        assert queries.localized_name(germany) == "Germany"


@pytest.mark.django_db
def test_currencies_are_found_by_code_and_name(currencies):
    assert codes(queries.search_currencies("xof")) == ["XOF"]
    assert {"XOF", "XAF"} <= set(codes(queries.search_currencies("CFA franc")))


@pytest.mark.django_db
def test_units_are_found_by_code_symbol_or_name_common_ones_first(trade_terms):
    assert codes(queries.search_units("KGM"))[0] == "KGM"
    assert codes(queries.search_units("kg"))[0] == "KGM"
    assert codes(queries.search_units("kilogram"))[0] == "KGM"
    assert codes(queries.search_units("piece"))[0] == "H87"
    common = queries.search_units("", common_only=True, limit=100)
    assert len(common) == 22 and all(u.common for u in common)


@pytest.mark.django_db
def test_package_types_are_found_by_code_or_name(trade_terms):
    assert codes(queries.search_package_types("ct")) == ["CT"]
    assert codes(queries.search_package_types("carton"))[0] == "CT"
    bags = codes(queries.search_package_types("bag", common_only=True))
    assert {"BG", "5H", "JB"} <= set(bags)
    assert codes(queries.search_package_types("jute")) == ["JT"]


@pytest.mark.django_db
def test_lookups_accept_codes_as_users_write_them(hs_codes, builtin_locations, countries, trade_terms):
    assert queries.get_location("ci abj").name == "Abidjan"
    assert queries.get_location("ZZZZZ") is None
    assert queries.get_hs_code("0801.32").code == "080132"
    assert queries.get_hs_code("000000") is None
    assert queries.exists_country("sn") and not queries.exists_country("XX")
    assert queries.exists_location("FRMRS") and not queries.exists_location("FRXXX")
    assert queries.exists_unit("kgm") and queries.exists_package_type("CT")
    assert queries.exists_incoterm("fob") and queries.get_incoterm("CIF").insurance_required
    assert queries.exists_transport_mode("1") and queries.get_transport_mode("X") is None


@pytest.mark.django_db
def test_a_place_serves_a_transport_mode_when_it_has_the_mode_function(builtin_locations, trade_terms):
    sea, air, unspecified = (TransportMode.objects.get(code=c) for c in "140")
    nairobi, mombasa = queries.get_location("KENBO"), queries.get_location("KEMBA")

    assert queries.location_serves_mode(mombasa, sea)
    assert not queries.location_serves_mode(nairobi, sea)
    assert queries.location_serves_mode(nairobi, air)
    assert queries.location_serves_mode(nairobi, unspecified)


@pytest.mark.django_db
def test_lists_of_incoterms_and_transport_modes_are_complete(trade_terms):
    assert codes(queries.list_incoterms())[0] == "EXW" and len(queries.list_incoterms()) == 11
    assert codes(queries.list_transport_modes()) == list("0123456789")
