"""The code lists under /api/v1/refdata."""

from __future__ import annotations

import pytest

API = "/api/v1/refdata"


@pytest.fixture
def api(exporter_client, countries, currencies, hs_codes, builtin_locations, trade_terms):
    return exporter_client


@pytest.mark.django_db
def test_hs_codes_are_searched_by_prefix_and_by_words(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        by_prefix = api.get(f"{API}/hs-codes", {"q": "0801.3"})
    by_words = api.get(f"{API}/hs-codes", {"q": "cashew nuts", "limit": 2})

    assert by_prefix.status_code == 200
    assert by_prefix.json() == [
        {
            "code": "080131",
            "level": 6,
            "parent": "0801",
            "section": "II",
            "description": "Nuts, edible; cashew nuts, fresh or dried, in shell",
        },
        {
            "code": "080132",
            "level": 6,
            "parent": "0801",
            "section": "II",
            "description": "Nuts, edible; cashew nuts, fresh or dried, shelled",
        },
    ]
    assert [h["code"] for h in by_words.json()] == ["080131", "080132"]


@pytest.mark.django_db
def test_one_hs_code_is_read_by_code_or_404(api):
    assert api.get(f"{API}/hs-codes/080132").json()["parent"] == "0801"
    assert api.get(f"{API}/hs-codes/000000").status_code == 404


@pytest.mark.django_db
def test_locations_are_searched_and_filtered(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        found = api.get(f"{API}/locations", {"q": "Abid"}).json()
    ports = api.get(f"{API}/locations", {"country": "KE", "function": "1"}).json()

    assert found[0] == {
        "code": "CIABJ",
        "country": "CI",
        "name": "Abidjan",
        "name_ascii": "Abidjan",
        "subdivision": "AB",
        "functions": "1--45---",
        "status": "AI",
        "iata": "",
        "latitude": pytest.approx(5.33333),
        "longitude": pytest.approx(-4.01667),
    }
    assert [loc["code"] for loc in ports] == ["KEKIS", "KEMBA"]


@pytest.mark.django_db
def test_one_location_is_read_by_code_or_404(api):
    assert api.get(f"{API}/locations/FRMRS").json()["functions"] == "12-45---"
    assert api.get(f"{API}/locations/FRXXX").status_code == 404


@pytest.mark.django_db
def test_limit_defaults_to_20_and_cannot_exceed_100(api):
    assert len(api.get(f"{API}/units").json()) == 20
    assert len(api.get(f"{API}/units", {"limit": 100}).json()) == 100
    assert api.get(f"{API}/units", {"limit": 101}).status_code == 422
    assert api.get(f"{API}/locations", {"function": "9"}).status_code == 422


@pytest.mark.django_db
def test_countries_are_named_in_the_language_of_the_request(api):
    english = api.get(f"{API}/countries", {"q": "DE"}).json()[0]
    french = api.get(f"{API}/countries", {"q": "DE"}, HTTP_ACCEPT_LANGUAGE="fr").json()[0]

    assert english == {"name": "Germany", "code": "DE", "alpha3": "DEU", "numeric": "276"}
    assert french["name"] == "Allemagne"


@pytest.mark.django_db
def test_currencies_units_and_package_types_are_listed(api):
    assert api.get(f"{API}/currencies", {"q": "XOF"}).json() == [
        {"code": "XOF", "numeric": "952", "name": "CFA Franc BCEAO"}
    ]
    assert api.get(f"{API}/units", {"q": "KGM"}).json()[0] == {
        "code": "KGM",
        "name": "kilogram",
        "symbol": "kg",
        "common": True,
    }
    common = api.get(f"{API}/package-types", {"common": True, "limit": 100}).json()
    assert {"BG", "CT", "PX"} <= {p["code"] for p in common}
    assert all(p["common"] for p in common)


@pytest.mark.django_db
def test_incoterms_and_transport_modes_are_listed_whole_and_localised(api):
    incoterms = api.get(f"{API}/incoterms").json()
    modes_fr = api.get(f"{API}/transport-modes", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert len(incoterms) == 11
    cif = next(rule for rule in incoterms if rule["code"] == "CIF")
    assert (cif["name"], cif["insurance"], cif["insurance_required"], cif["any_mode"]) == (
        "Cost, Insurance and Freight",
        "S",
        True,
        False,
    )
    assert modes_fr[1] == {"name": "Transport maritime", "code": "1", "locode_function": "1"}


@pytest.mark.django_db
def test_a_stranger_without_credentials_cannot_read_code_lists(client, countries):
    assert client.get(f"{API}/countries", {"q": "CI"}).status_code == 401
    assert client.get(f"{API}/locations/CIABJ").status_code == 401
