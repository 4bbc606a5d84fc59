"""The API's sign-up, personal access tokens, authentication and error format."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.test.client import RequestFactory
from ninja import NinjaAPI

from ismit.accounts.models import ApiToken, User
from ismit.accounts.services import create_api_token, revoke_api_token
from ismit.lib.api import install_problem_handlers

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_a_person_signs_up_and_gets_a_token_shown_once(client):
    response = client.post(
        "/api/v1/auth/signup",
        {
            "email": "Kofi@Example.com",
            "password": "long-enough-pass-42",
            "full_name": "Kofi Mensah",
            "language": "fr",
        },
        content_type=JSON,
    )
    assert response.status_code == 201
    assert response.json()["email"] == "kofi@example.com"
    assert response.json()["language"] == "fr"
    assert "password" not in response.json()

    response = client.post(
        "/api/v1/auth/tokens",
        {"email": "kofi@example.com", "password": "long-enough-pass-42", "name": "ERP"},
        content_type=JSON,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "ERP"
    assert created["token"].startswith("ismit_")
    assert created["token"].startswith(created["hint"])

    headers = {"Authorization": f"Bearer {created['token']}"}
    listed = client.get("/api/v1/auth/tokens", headers=headers).json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    assert created["token"] not in str(listed)
    assert client.get("/api/v1/me", headers=headers).json()["user"]["email"] == "kofi@example.com"


def test_sign_up_errors_name_their_fields(client, cast):
    response = client.post(
        "/api/v1/auth/signup", {"email": cast.exporter.email, "password": "short"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"email", "password"}
    assert User.objects.filter(email__iexact=cast.exporter.email).count() == 1


def test_a_wrong_password_gets_no_token(client, cast):
    response = client.post(
        "/api/v1/auth/tokens",
        {"email": cast.exporter.email, "password": "wrong-password-1"},
        content_type=JSON,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ApiToken.objects.filter(user=cast.exporter).exists()


def test_requests_without_a_token_answer_401_problem(client):
    response = client.get("/api/v1/trades")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["instance"] == "/api/v1/trades"
    assert {"type", "title", "detail"} <= problem.keys()


def test_an_unknown_token_answers_401(client, cast):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer ismit_not-a-real-token"})
    assert response.status_code == 401


def test_a_revoked_token_is_rejected(client, cast):
    token, key = create_api_token(user=cast.exporter, name="old laptop")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    revoke_api_token(user=cast.exporter, token=token)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_user_revokes_their_own_token_through_the_api(client, cast):
    headers = bearer(cast.exporter)
    spare, spare_key = create_api_token(user=cast.exporter, name="spare")
    assert client.delete(f"/api/v1/auth/tokens/{spare.id}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {spare_key}"}).status_code == 401
    listed = {t["id"]: t for t in client.get("/api/v1/auth/tokens", headers=headers).json()}
    assert listed[spare.id]["active"] is False


def test_someone_elses_token_cannot_be_seen_or_revoked(client, cast):
    theirs, their_key = create_api_token(user=cast.other, name="theirs")
    headers = bearer(cast.exporter)
    assert client.delete(f"/api/v1/auth/tokens/{theirs.id}", headers=headers).status_code == 404
    assert theirs.id not in [t["id"] for t in client.get("/api/v1/auth/tokens", headers=headers).json()]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {their_key}"}).status_code == 200


def test_a_signed_in_browser_session_works_for_reads(client, cast):
    client.force_login(cast.exporter)
    assert client.get("/api/v1/me").json()["user"]["email"] == cast.exporter.email


def test_a_session_write_needs_the_csrf_token(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.exporter)
    payload = {"legal_name": "Anacarde Export Services", "kind": "msme", "country": "CI", "city": "Abidjan"}

    refused = browser.post("/api/v1/organisations", payload, content_type=JSON)
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"

    token = "a" * 32  # the secret of the csrftoken cookie, sent back in the header as pages do
    browser.cookies["csrftoken"] = token
    accepted = browser.post(
        "/api/v1/organisations", payload, content_type=JSON, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201


def test_a_bearer_token_needs_no_csrf_token(cast):
    program = Client(enforce_csrf_checks=True)
    payload = {"legal_name": "Anacarde Export Services", "kind": "msme", "country": "CI", "city": "Abidjan"}
    response = program.post(
        "/api/v1/organisations", payload, content_type=JSON, headers=bearer(cast.exporter)
    )
    assert response.status_code == 201


def test_the_openapi_document_is_public_and_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "ISMIT API"
    assert schema["info"]["version"] == "1"
    assert "/api/v1/trades/{trade_id}" in schema["paths"]
    assert {"BearerTokenAuth", "SessionCookieAuth"} <= schema["components"]["securitySchemes"].keys()


def test_the_docs_page_loads_nothing_from_outside(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert '"validatorUrl": null' in html  # swagger-ui would otherwise call validator.swagger.io
    assets = re.findall(r"""(?:src|href)\s*=\s*["']/static/([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset), f"{asset} is not shipped with the static files"


def test_unknown_api_paths_answer_a_404_problem(client, cast):
    response = client.get("/api/v1/no-such-thing", headers=bearer(cast.exporter))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_an_unexpected_error_answers_a_500_problem_without_traceback(caplog, settings):
    settings.DEBUG = True  # even then: ninja's own handler would answer with the traceback
    api = NinjaAPI(urls_namespace="test-errors")
    install_problem_handlers(api)  # as config/api.py does for the real API
    request = RequestFactory().get("/api/v1/trades")
    response = api.on_exception(request, RuntimeError("database on fire at line 42"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.content.decode()
    assert "on fire" not in body
    assert "Traceback" not in body
    assert "database on fire" in caplog.text  # logged for the operators


def test_errors_are_in_the_language_of_the_request(client, cast):
    headers = {**bearer(cast.exporter), "Accept-Language": "fr"}
    response = client.post("/api/v1/organisations", {"kind": "msme"}, content_type=JSON, headers=headers)
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["legal_name"] == "Ce champ est obligatoire."

    english = client.post(
        "/api/v1/organisations",
        {"kind": "msme"},
        content_type=JSON,
        headers={**headers, "Accept-Language": "en"},
    )
    assert {e["field"]: e["message"] for e in english.json()["errors"]}[
        "legal_name"
    ] == "This field is required."


def test_a_body_that_is_not_json_answers_a_400_problem(client, cast):
    response = client.generic("POST", "/api/v1/organisations", b"{not json", headers=bearer(cast.exporter))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_missing_body_is_explained(client, cast):
    response = client.generic("POST", "/api/v1/organisations", b"", headers=bearer(cast.exporter))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": None, "message": "Send the data as a JSON document in the request body."}
    ]


def test_an_organisation_header_that_is_not_a_number_is_refused(client, cast):
    response = client.get(
        "/api/v1/trades", headers={**bearer(cast.exporter), "X-ISMIT-Organisation": "Anacarde"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "X-ISMIT-Organisation"
