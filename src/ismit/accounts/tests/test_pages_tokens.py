"""Personal API tokens: made on a page that shows the key once, listed, revoked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ismit.accounts.models import ApiToken
from ismit.accounts.services import create_api_token, user_for_api_key

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once(client, cast):
    client.force_login(cast.exporter)
    response = client.post(reverse("accounts:tokens"), {"name": "ERP export"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'value="(ismit_[^"]+)"', response.content.decode()).group(1)
    assert user_for_api_key(key) == cast.exporter
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert "ERP export" in listing
    assert key not in listing
    assert ApiToken.objects.get().hint in listing


def test_the_owner_revokes_a_token(client, cast):
    token, key = create_api_token(user=cast.exporter, name="script")
    client.force_login(cast.exporter)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response["Location"] == reverse("accounts:tokens")
    token.refresh_from_db()
    assert not token.is_active
    assert user_for_api_key(key) is None
    assert "Revoked on" in client.get(reverse("accounts:tokens")).content.decode()


def test_nobody_sees_or_revokes_another_persons_tokens(client, cast):
    token, key = create_api_token(user=cast.exporter, name="Nightly ERP sync")
    client.force_login(cast.colleague)
    assert "Nightly ERP sync" not in client.get(reverse("accounts:tokens")).content.decode()
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    assert user_for_api_key(key) == cast.exporter


def test_the_tokens_page_needs_a_login(client, db):
    assert client.get(reverse("accounts:tokens")).status_code == 302
