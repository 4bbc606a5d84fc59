"""Operators configure single windows in the admin; the secret is stored encrypted, never shown."""

from __future__ import annotations

import pytest
from django.test import Client

from ismit.accounts.models import User
from ismit.customs.models import SingleWindow

pytestmark = pytest.mark.django_db


def test_an_operator_adds_a_window_with_its_secret(db):
    admin = User.objects.create_superuser(email="root@ismit.example", password="x")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/customs/singlewindow/add/").status_code == 200
    response = client.post(
        "/admin/customs/singlewindow/add/",
        {
            "name": "Guichet unique CI",
            "country": "ci",
            "procedure": "export",
            "connector": "wco-xml",
            "base_url": "https://nsw.example.ci/api",
            "client_id": "ismit",
            "new_secret": "very-secret",
            "secret_env": "",
            "timeout": "20",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    window = SingleWindow.objects.get()
    assert window.country == "CI" and window.secret == "very-secret"
    page = client.get(f"/admin/customs/singlewindow/{window.pk}/change/").content.decode()
    assert "very-secret" not in page and f"/customs/callback/{window.pk}/" in page
    for model in ("declaration", "declarationevent", "exchangedmessage", "customsquery"):
        assert client.get(f"/admin/customs/{model}/").status_code == 200
