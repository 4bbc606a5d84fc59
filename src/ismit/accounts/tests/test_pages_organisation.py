"""Creating, seeing and editing an organisation; switching between one's organisations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.accounts.middleware import SESSION_ORG_KEY
from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus
from ismit.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _organisation(**overrides):
    data = {
        "legal_name": "Provence Fruits Secs SAS",
        "kind": "msme",
        "country": "FR",
        "city": "Marseille",
        "street": "12 quai de la Joliette",
        "postcode": "13002",
        "vat": "FR40303265045",
    }
    return {**data, **overrides}


def test_create_organisation_with_an_invalid_french_vat_number_shows_the_error_and_saves_nothing(
    client, cast
):
    client.force_login(cast.stranger)
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("accounts:organisation_create"), _organisation(vat="FR40303265046"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["vat"]
    assert "FR40303265046" in errors["vat"][0]
    assert 'aria-invalid="true"' in response.content.decode()
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


def test_create_organisation_with_a_valid_vat_number_makes_the_creator_its_owner(client, cast):
    client.force_login(cast.stranger)
    response = client.post(reverse("accounts:organisation_create"), _organisation(vat="FR 40 303 265 045"))
    org = Organisation.objects.get(legal_name="Provence Fruits Secs SAS")
    assert response["Location"] == reverse("accounts:organisation", args=[org.pk])
    assert org.verification_status == VerificationStatus.PENDING
    assert org.identifiers.get().value.removeprefix("FR") == "40303265045"
    assert Membership.objects.get(organisation=org).user == cast.stranger
    assert client.session[SESSION_ORG_KEY] == org.pk


def test_a_service_provider_must_say_which_services_it_offers(client, cast):
    client.force_login(cast.stranger)
    response = client.post(reverse("accounts:organisation_create"), _organisation(kind="provider"))
    assert response.context["form"].errors["provider_types"]
    assert not Organisation.objects.filter(legal_name="Provence Fruits Secs SAS").exists()

    client.post(
        reverse("accounts:organisation_create"),
        _organisation(kind="provider", provider_types=["forwarder", "broker"]),
    )
    org = Organisation.objects.get(legal_name="Provence Fruits Secs SAS")
    assert org.provider_types == ["broker", "forwarder"]


def test_provider_types_ticked_for_another_kind_are_ignored(client, cast):
    client.force_login(cast.stranger)
    client.post(reverse("accounts:organisation_create"), _organisation(provider_types=["bank"]))
    assert Organisation.objects.get(legal_name="Provence Fruits Secs SAS").provider_types == []


def test_only_administrators_may_create_an_operator_organisation(client, cast):
    client.force_login(cast.stranger)
    response = client.post(reverse("accounts:organisation_create"), _organisation(kind="operator"))
    assert response.context["form"].errors["kind"]
    assert not Organisation.objects.filter(kind="operator", legal_name="Provence Fruits Secs SAS").exists()


def test_the_create_form_offers_country_suggestions(client, cast):
    client.force_login(cast.stranger)
    html = client.get(reverse("accounts:organisation_create")).content.decode()
    assert f'hx-get="{reverse("refdata:suggest", args=["countries"])}"' in html
    assert '<datalist id="country-options">' in html


def test_members_see_their_organisation(client, cast):
    cast.msme.identifiers.create(scheme="vat", value="CI0000000A")
    client.force_login(cast.viewer)
    response = client.get(reverse("accounts:organisation", args=[cast.msme.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Anacarde Abidjan SARL" in html
    assert "CI0000000A" in html
    assert cast.colleague.email in html
    assert reverse("accounts:organisation_edit", args=[cast.msme.pk]) not in html


@pytest.mark.parametrize(
    "page", ["organisation", "organisation_edit", "members", "organisation_audit", "evidence"]
)
def test_a_member_of_another_organisation_cannot_see_its_pages(client, cast, page):
    client.force_login(cast.exporter)
    assert client.get(reverse(f"accounts:{page}", args=[cast.msme.pk])).status_code == 200
    assert client.get(reverse(f"accounts:{page}", args=[cast.other_msme.pk])).status_code == 404


@pytest.mark.parametrize(
    "page", ["organisation", "organisation_edit", "members", "organisation_audit", "evidence"]
)
def test_pages_of_an_organisation_need_a_login(client, cast, page):
    response = client.get(reverse(f"accounts:{page}", args=[cast.msme.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_owner_edits_the_profile_and_identifiers(client, cast):
    client.force_login(cast.other)
    url = reverse("accounts:organisation_edit", args=[cast.other_msme.pk])
    form = client.get(url).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v}, "city": "Naivasha", "vat": ""}
    response = client.post(url, data)
    assert response["Location"] == reverse("accounts:organisation", args=[cast.other_msme.pk])
    cast.other_msme.refresh_from_db()
    assert cast.other_msme.city == "Naivasha"
    assert AuditEvent.objects.filter(
        organisation_id=cast.other_msme.pk, action="organisation.updated"
    ).exists()


def test_an_invalid_identifier_in_the_edit_form_saves_nothing(client, cast):
    client.force_login(cast.exporter)
    url = reverse("accounts:organisation_edit", args=[cast.msme.pk])
    before = AuditEvent.objects.count()
    response = client.post(
        url, {"legal_name": "Anacarde Abidjan SARL", "country": "FR", "city": "Lyon", "vat": "FR40303265046"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["vat"]
    cast.msme.refresh_from_db()
    assert (cast.msme.country, cast.msme.city) == ("CI", "Abidjan")
    assert not cast.msme.identifiers.exists()
    assert AuditEvent.objects.count() == before


def test_changing_the_legal_name_sends_a_verified_organisation_back_for_verification(client, cast):
    client.force_login(cast.exporter)
    client.post(
        reverse("accounts:organisation_edit", args=[cast.msme.pk]),
        {"legal_name": "Anacarde Abidjan SA", "country": "CI", "city": "Abidjan"},
    )
    cast.msme.refresh_from_db()
    assert cast.msme.legal_name == "Anacarde Abidjan SA"
    assert cast.msme.verification_status == VerificationStatus.PENDING


@pytest.mark.parametrize("who", ["colleague", "viewer", "operator"])
def test_only_owners_edit_the_organisation(client, cast, who):
    client.force_login(getattr(cast, who))
    url = reverse("accounts:organisation_edit", args=[cast.msme.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"legal_name": "Taken over", "country": "CI", "city": "Abidjan"})
    assert response.status_code == 404
    cast.msme.refresh_from_db()
    assert cast.msme.legal_name == "Anacarde Abidjan SARL"


def test_members_of_an_unverified_organisation_see_the_pending_banner(client, cast):
    client.force_login(cast.exporter)
    banner = "Your organisation is pending verification"
    assert banner not in client.get(reverse("accounts:tokens")).content.decode()
    Organisation.objects.filter(pk=cast.msme.pk).update(verification_status=VerificationStatus.PENDING)
    assert banner in client.get(reverse("accounts:tokens")).content.decode()


def test_switching_to_one_of_ones_organisations(client, cast):
    Membership.objects.create(user=cast.exporter, organisation=cast.bank, role=Role.READ_ONLY)
    client.force_login(cast.exporter)
    response = client.post(reverse("accounts:switch_organisation"), {"organisation": cast.bank.pk})
    assert response.status_code == 302
    assert client.session[SESSION_ORG_KEY] == cast.bank.pk


@pytest.mark.parametrize("who", ["exporter", "operator"])
def test_switching_refuses_an_organisation_the_user_is_not_a_member_of(client, cast, who):
    client.force_login(getattr(cast, who))
    response = client.post(reverse("accounts:switch_organisation"), {"organisation": cast.other_msme.pk})
    assert response.status_code == 404
    assert SESSION_ORG_KEY not in client.session


def test_switching_redirects_only_to_pages_of_this_site(client, cast):
    client.force_login(cast.exporter)
    url = reverse("accounts:switch_organisation")
    response = client.post(url, {"organisation": cast.msme.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
    response = client.post(url, {"organisation": cast.msme.pk, "next": reverse("accounts:tokens")})
    assert response["Location"] == reverse("accounts:tokens")
