"""Operators browse the code lists in the admin but cannot change them."""

from __future__ import annotations

import pytest
from django.contrib import admin

from ismit.refdata import models


@pytest.fixture
def operator_client(client, django_user_model, settings):
    # Plain static file names: the test run has no collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    operator = django_user_model.objects.create_superuser(email="ops@ismit.test", password="operator-2024")
    client.force_login(operator)
    return client


def test_every_code_list_is_registered_and_read_only(rf):
    request = rf.get("/")
    for model in [
        models.Country,
        models.Subdivision,
        models.Currency,
        models.HSCode,
        models.Location,
        models.Incoterm,
        models.UnitOfMeasure,
        models.PackageType,
        models.TransportMode,
    ]:
        model_admin = admin.site._registry[model]
        assert model_admin.search_fields
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


@pytest.mark.django_db
def test_an_operator_can_search_locations_but_not_add_one(operator_client, builtin_locations):
    found = operator_client.get("/admin/refdata/location/", {"q": "abidjan"})

    assert found.status_code == 200
    assert b"CIABJ" in found.content
    assert operator_client.get("/admin/refdata/location/add/").status_code == 403
