"""Signing up, logging in and out, resetting and changing a password, and the language of the pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from ismit.accounts.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-42"


def test_sign_up_creates_the_user_logs_in_and_asks_for_the_organisation(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Fatou Diop",
            "email": "Fatou@Example.org",
            "password": NEW_PASSWORD,
            "language": "fr",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")
    user = User.objects.get(email="fatou@example.org")
    assert user.full_name == "Fatou Diop"
    assert user.language == "fr"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert response.cookies["django_language"].value == "fr"


def test_sign_up_shows_the_services_errors_on_the_fields(client, cast):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": cast.exporter.email,
            "password": "12345",
            "language": "en",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "already exists" in form.errors["email"][0]
    assert form.errors["password"]
    assert "_auth_user_id" not in client.session


def test_login_with_e_mail_address_sets_the_language_of_the_user(client, cast):
    response = client.post(
        reverse("accounts:login"), {"username": "AWA@cashew-ci.example", "password": cast.password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("trades:list")
    assert client.session["_auth_user_id"] == str(cast.exporter.pk)
    assert response.cookies["django_language"].value == "fr"


def test_login_sends_a_person_without_organisation_to_create_one(client, cast):
    response = client.post(
        reverse("accounts:login"), {"username": cast.stranger.email, "password": cast.password}
    )
    assert response["Location"] == reverse("accounts:organisation_create")


def test_login_with_a_wrong_password_fails(client, cast):
    response = client.post(reverse("accounts:login"), {"username": cast.exporter.email, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_logs_out(client, cast):
    client.force_login(cast.exporter)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_e_mail_with_a_working_link(client, cast, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": cast.colleague.email})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [cast.colleague.email]
    link = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)

    response = client.get(link, follow=True)
    assert response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0],
        {
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    cast.colleague.refresh_from_db()
    assert cast.colleague.check_password(NEW_PASSWORD)


def test_the_password_reset_e_mail_is_in_the_language_of_the_person(client, cast, mailoutbox):
    client.cookies["django_language"] = "en"
    client.post(reverse("accounts:password_reset"), {"email": cast.exporter.email})
    with translation.override(cast.exporter.language):
        expected = gettext("Choose a new password for ISMIT")
    assert mailoutbox[0].subject == expected


def test_password_reset_for_an_unknown_address_sends_nothing(client, db, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@nowhere.example"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_change_needs_the_old_password(client, cast):
    client.force_login(cast.colleague)
    url = reverse("accounts:password_change")
    response = client.post(
        url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.context["form"].errors["old_password"]
    response = client.post(
        url, {"old_password": cast.password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:password_change_done")
    cast.colleague.refresh_from_db()
    assert cast.colleague.check_password(NEW_PASSWORD)


def test_pages_render_in_french_when_the_language_cookie_is_fr(client, db):
    client.cookies["django_language"] = "fr"
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_pages_render_in_english_by_default(client, db):
    response = client.get(reverse("accounts:login"))
    assert '<html lang="en">' in response.content.decode()
