"""The autocomplete options of the pages: GET /refdata/suggest/<list>/?q=…"""

from __future__ import annotations

import pytest
from django.urls import reverse


def suggest(list_name: str) -> str:
    return reverse("refdata:suggest", args=[list_name])


@pytest.mark.django_db
def test_hs_suggestions_are_options_with_code_and_description(exporter_client, hs_codes):
    response = exporter_client.get(suggest("hs"), {"q": "cashew nuts"})

    assert response.status_code == 200
    html = response.content.decode()
    option = '<option value="080131">080131 – Nuts, edible; cashew nuts, fresh or dried, in shell</option>'
    assert option in html
    assert html.count("<option") == 4


@pytest.mark.django_db
def test_location_suggestions_accept_country_and_function(exporter_client, builtin_locations):
    abidjan = exporter_client.get(suggest("locations"), {"q": "abid"}).content.decode()
    kenyan_airports = exporter_client.get(suggest("locations"), {"country": "KE", "function": "4"})

    assert '<option value="CIABJ">CIABJ – Abidjan (CI)</option>' in abidjan
    assert 'value="KENBO"' in kenyan_airports.content.decode()
    assert 'value="KEMBA"' in kenyan_airports.content.decode()  # Mombasa has an airport too


@pytest.mark.django_db
def test_every_list_has_suggestions(exporter_client, countries, currencies, trade_terms):
    for list_name, q, code in [
        ("countries", "sene", "SN"),
        ("currencies", "xof", "XOF"),
        ("units", "kg", "KGM"),
        ("package-types", "carton", "CT"),
    ]:
        response = exporter_client.get(suggest(list_name), {"q": q})
        assert f'<option value="{code}">' in response.content.decode(), list_name


@pytest.mark.django_db
def test_country_suggestions_are_in_french_for_french_users(exporter_client, countries):
    response = exporter_client.get(suggest("countries"), {"q": "DE"}, HTTP_ACCEPT_LANGUAGE="fr")

    assert '<option value="DE">DE – Allemagne</option>' in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_list_is_not_found(exporter_client):
    assert exporter_client.get(suggest("planets"), {"q": "mars"}).status_code == 404


@pytest.mark.django_db
def test_a_stranger_who_is_not_signed_in_is_sent_to_sign_in(client, settings, hs_codes):
    settings.LOGIN_URL = "/accounts/login/"

    response = client.get(suggest("hs"), {"q": "0801"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert b"<option" not in response.content


@pytest.mark.django_db
def test_htmx_asking_without_a_session_gets_401_and_no_options(client, hs_codes):
    response = client.get(suggest("hs"), {"q": "0801"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 401
    assert response.content == b""
