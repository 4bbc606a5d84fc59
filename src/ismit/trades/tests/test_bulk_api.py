"""Bulk import API (trades/bulk_api.py): a file in, the created references or the row errors out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import path

from ismit.accounts.actors import actor_for
from ismit.accounts.api import AUTH
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.lib.api import ProblemAPI, install_problem_handlers
from ismit.trades import bulk
from ismit.trades.bulk_api import router
from ismit.trades.models import ColumnMapping, Trade

FILES = Path(__file__).parent / "files"
ENGLISH = json.loads((FILES / "english_mapping.json").read_text())
FRENCH = json.loads((FILES / "french_mapping.json").read_text())
URL = "/api/v1/trades/imports"

# The router mounted where the lead mounts it, in an API of its own: these tests do not depend on
# config/api.py (the same router can be mounted in several APIs).
api = ProblemAPI(urls_namespace="bulk-import-test", auth=AUTH)
install_problem_handlers(api)
api.add_router("/trades/imports", router)
urlpatterns = [path("api/v1/", api.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes())


def bearer(user) -> dict:
    _token, key = create_api_token(user=user, name="bulk tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def save(cast, user=None, organisation=None, mapping=ENGLISH, name="ERP"):
    return bulk.save_mapping(
        actor=actor_for(user or cast.exporter),
        organisation=organisation or cast.msme,
        name=name,
        mapping=mapping,
    )


def test_a_file_with_a_saved_mapping_creates_its_trades(client, cast):
    saved = save(cast)

    response = client.post(
        URL, {"file": upload("good_trades.csv"), "mapping_id": saved.pk}, **bearer(cast.exporter)
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rows"] == 3 and body["file"] == "good_trades.csv"
    assert [t["reference"] for t in body["trades"]] == ["BULK-001", "BULK-002"]
    assert Trade.objects.get(pk=body["trades"][0]["id"]).items.count() == 2


def test_a_file_with_a_mapping_given_as_json_creates_its_trades(client, cast):
    response = client.post(
        URL, {"file": upload("french_trades.csv"), "mapping": json.dumps(FRENCH)}, **bearer(cast.exporter)
    )

    assert response.status_code == 201, response.content
    assert [t["reference"] for t in response.json()["trades"]] == ["CMD-2026-17"]


def test_a_bad_file_answers_422_with_its_row_errors_and_saves_nothing(client, cast):
    auth = bearer(cast.exporter)
    events = AuditEvent.objects.count()

    response = client.post(URL, {"file": upload("bad_trades.csv"), "mapping": json.dumps(ENGLISH)}, **auth)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["row"], e["column"], e["field"]) for e in errors] == [
        (4, "HS", "hs_code"),
        (5, "Incoterm place", "incoterm_place"),
        (5, "Port of discharge", "place_of_discharge"),
        (6, "Gross kg", "gross_mass_kg"),
    ]
    assert errors[3]["message"] == "Gross mass cannot be less than net mass."
    assert not Trade.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_file_over_the_size_limit_answers_422(client, cast, settings):
    settings.BULK_IMPORT_MAX_BYTES = 100

    response = client.post(
        URL, {"file": upload("good_trades.csv"), "mapping": json.dumps(ENGLISH)}, **bearer(cast.exporter)
    )

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["row"] is None and "larger than" in error["message"]


def test_a_mapping_that_is_not_json_answers_422(client, cast):
    response = client.post(
        URL, {"file": upload("good_trades.csv"), "mapping": "{oops"}, **bearer(cast.exporter)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping"


def test_another_organisations_mapping_is_not_found(client, cast):
    theirs = save(cast, user=cast.other, organisation=cast.other_msme)
    auth = bearer(cast.exporter)

    assert (
        client.post(URL, {"file": upload("good_trades.csv"), "mapping_id": theirs.pk}, **auth).status_code
        == 404
    )
    assert client.get(f"{URL}/mappings/{theirs.pk}", **auth).status_code == 404
    assert client.delete(f"{URL}/mappings/{theirs.pk}", **auth).status_code == 404
    assert client.get(f"{URL}/mappings", **auth).json()["results"] == []
    assert ColumnMapping.objects.filter(pk=theirs.pk).exists() and not Trade.objects.exists()


def test_a_read_only_member_cannot_import(client, cast):
    saved = save(cast)

    response = client.post(
        URL,
        {"file": upload("good_trades.csv"), "mapping_id": saved.pk},
        HTTP_X_ISMIT_ORGANISATION=str(cast.msme.id),
        **bearer(cast.viewer),
    )

    assert response.status_code == 403
    assert not Trade.objects.exists()


def test_mappings_are_saved_listed_and_deleted(client, cast):
    auth = bearer(cast.exporter)

    created = client.post(
        f"{URL}/mappings",
        {"name": "Fichier export", "mapping": FRENCH},
        content_type="application/json",
        **auth,
    )

    assert created.status_code == 201, created.content
    mapping_id = created.json()["id"]
    assert created.json()["mapping"]["_options"] == {"date_format": "%d/%m/%Y", "decimal_comma": True}
    listed = client.get(f"{URL}/mappings", **auth).json()
    assert [(m["name"], m["organisation"]) for m in listed["results"]] == [("Fichier export", cast.msme.id)]
    assert client.delete(f"{URL}/mappings/{mapping_id}", **auth).status_code == 204
    assert not ColumnMapping.objects.filter(pk=mapping_id).exists()


def test_a_mapping_with_unknown_fields_answers_422(client, cast):
    response = client.post(
        f"{URL}/mappings",
        {"name": "Bad", "mapping": {"colour": "Colour"}},
        content_type="application/json",
        **bearer(cast.exporter),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping.colour"


def test_a_read_only_member_sees_but_cannot_save_or_delete_mappings(client, cast):
    saved = save(cast)
    auth = {**bearer(cast.viewer), "HTTP_X_ISMIT_ORGANISATION": str(cast.msme.id)}

    assert client.get(f"{URL}/mappings/{saved.pk}", **auth).status_code == 200
    assert (
        client.post(
            f"{URL}/mappings", {"name": "Mine", "mapping": ENGLISH}, content_type="application/json", **auth
        ).status_code
        == 403
    )
    assert client.delete(f"{URL}/mappings/{saved.pk}", **auth).status_code == 403


def test_an_anonymous_request_is_refused(client):
    assert client.get(f"{URL}/mappings").status_code == 401
