"""A trade's documents through the API, and the public verification endpoint."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ismit.accounts.services import create_api_token
from ismit.documents.models import IssuedDocument
from ismit.documents.tests.issuing import content, flipped, signature

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_issue_then_list_documents(client, cast, cashew_trade, media_root):
    headers = bearer(cast.exporter)
    url = f"/api/v1/trades/{cashew_trade.pk}/documents"

    created = client.post(
        url,
        {"kinds": ["commercial_invoice", "cii_invoice"], "language": "fr"},
        content_type=JSON,
        headers=headers,
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert {d["kind"] for d in body} == {"commercial_invoice", "cii_invoice"}
    cii = next(d for d in body if d["kind"] == "cii_invoice")
    assert cii["version"] == 1 and cii["status"] == "issued" and cii["language"] == "fr"
    assert cii["signature_url"] == f"/api/v1/documents/{cii['id']}/signature"
    assert next(d for d in body if d["format"] == "pdf")["signature_url"] is None

    client.post(url, {"kinds": ["cii_invoice"]}, content_type=JSON, headers=headers)
    listed = client.get(url, headers=headers).json()
    assert listed["count"] == 3
    assert [(d["kind"], d["version"], d["status"]) for d in listed["results"]] == [
        ("cii_invoice", 2, "issued"),
        ("cii_invoice", 1, "superseded"),
        ("commercial_invoice", 1, "issued"),
    ]
    assert listed["results"][0]["supersedes"] == cii["id"]


def test_listing_takes_a_fixed_number_of_queries(
    client, cast, cashew_trade, issued_set, django_assert_max_num_queries
):
    headers = bearer(cast.exporter)
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/trades/{cashew_trade.pk}/documents", headers=headers)
    assert response.json()["count"] == len(issued_set)


def test_content_and_signature_are_the_bytes_as_issued(client, cast, issued_set):
    headers = bearer(cast.viewer)
    for document in issued_set:
        answer = client.get(f"/api/v1/documents/{document.pk}/content", headers=headers)
        assert answer.status_code == 200 and answer["Content-Type"] == document.media_type
        assert b"".join(answer.streaming_content) == content(document)
        signed = client.get(f"/api/v1/documents/{document.pk}/signature", headers=headers)
        if document.signature:
            assert b"".join(signed.streaming_content) == signature(document)
        else:
            assert signed.status_code == 404 and signed["Content-Type"] == "application/problem+json"


def test_a_read_only_member_may_read_but_not_issue(client, cast, cashew_trade, media_root):
    response = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/documents", {}, content_type=JSON, headers=bearer(cast.viewer)
    )
    assert response.status_code == 403
    assert not IssuedDocument.objects.exists()


def test_another_organisation_gets_404_everywhere(client, cast, cashew_trade, issued_set):
    headers = bearer(cast.other)
    document = issued_set[0]
    for method, path in (
        ("get", f"/api/v1/trades/{cashew_trade.pk}/documents"),
        ("post", f"/api/v1/trades/{cashew_trade.pk}/documents"),
        ("get", f"/api/v1/documents/{document.pk}/content"),
        ("get", f"/api/v1/documents/{document.pk}/signature"),
    ):
        response = getattr(client, method)(
            path, {} if method == "post" else None, content_type=JSON, headers=headers
        )
        assert response.status_code == 404, (method, path, response.content)
    assert IssuedDocument.objects.count() == len(issued_set)


def test_an_unverified_organisation_gets_a_clear_422(client, cast, cashew_trade, media_root):
    from ismit.accounts.models import Organisation, VerificationStatus

    Organisation.objects.filter(pk=cast.msme.pk).update(verification_status=VerificationStatus.PENDING)
    response = client.post(
        f"/api/v1/trades/{cashew_trade.pk}/documents", {}, content_type=JSON, headers=bearer(cast.exporter)
    )
    assert response.status_code == 422 and "not verified" in response.json()["detail"]


# -- POST /verify: no authentication ----------------------------------------------------------------


def test_verify_a_file_without_authentication_or_csrf(issued_set, cashew_trade):
    client = Client(enforce_csrf_checks=True)
    edifact = next(d for d in issued_set if d.format == "edi")

    answer = client.post(
        "/api/v1/verify",
        {
            "file": SimpleUploadedFile("invoic.edi", content(edifact)),
            "signature": SimpleUploadedFile("invoic.edi.xades.xml", signature(edifact)),
        },
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "valid" and body["signature_checked"] is True
    assert body["issuer"] == "Anacarde Abidjan SARL" and body["reference"] == cashew_trade.reference
    # Who, when, which reference and document, and the verdict: nothing else of the trade.
    assert set(body) == {
        "status",
        "label",
        "explanation",
        "sha256",
        "issuer",
        "issued_at",
        "reference",
        "kind",
        "format",
        "version",
        "latest_version",
        "signature_checked",
    }

    altered = client.post(
        "/api/v1/verify",
        {
            "file": SimpleUploadedFile("invoic.edi", flipped(content(edifact), 40)),
            "signature": SimpleUploadedFile("invoic.edi.xades.xml", signature(edifact)),
        },
    ).json()
    assert altered["status"] == "altered" and altered["issuer"] == "Anacarde Abidjan SARL"


def test_verify_a_sha256_as_json(client, issued_set):
    answer = client.post("/api/v1/verify", {"sha256": issued_set[0].sha256}, content_type=JSON)
    assert answer.status_code == 200 and answer.json()["status"] == "valid"
    assert (
        client.post("/api/v1/verify", {"sha256": "a" * 64}, content_type=JSON).json()["status"] == "unknown"
    )
    bad = client.post("/api/v1/verify", {"sha256": "nope"}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sha256"
    empty = client.post("/api/v1/verify", {}, content_type=JSON)
    assert empty.status_code == 422


def test_the_verify_endpoint_is_in_the_openapi_document(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/verify"]["post"]
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert not operation.get("security")
