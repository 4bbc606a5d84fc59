"""Evidence of an organisation's identity: uploaded by its members, read by them and the operators."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ismit.accounts.actors import actor_for
from ismit.accounts.models import VerificationEvidence
from ismit.accounts.services import add_evidence

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 registre du commerce"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def extract(cast):
    return add_evidence(
        actor=actor_for(cast.exporter),
        organisation=cast.msme,
        description="RCCM extract",
        file=SimpleUploadedFile("rccm.pdf", PDF, content_type="application/pdf"),
    )


def test_a_member_uploads_evidence_and_sees_it_listed(client, cast):
    client.force_login(cast.colleague)
    url = reverse("accounts:evidence", args=[cast.msme.pk])
    response = client.post(
        url, {"description": "Trade register extract", "file": SimpleUploadedFile("extract.pdf", PDF)}
    )
    assert response["Location"] == url
    evidence = VerificationEvidence.objects.get(organisation=cast.msme)
    assert evidence.uploaded_by == cast.colleague
    html = client.get(url).content.decode()
    assert "Trade register extract" in html
    assert reverse("accounts:evidence_download", args=[evidence.pk]) in html


def test_uploading_without_a_description_shows_the_error(client, cast):
    client.force_login(cast.exporter)
    response = client.post(
        reverse("accounts:evidence", args=[cast.msme.pk]),
        {"description": "", "file": SimpleUploadedFile("extract.pdf", PDF)},
    )
    assert response.context["form"].errors["description"]
    assert not VerificationEvidence.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "other", "operator"])
def test_read_only_members_outsiders_and_operators_cannot_upload(client, cast, who):
    client.force_login(getattr(cast, who))
    response = client.post(
        reverse("accounts:evidence", args=[cast.msme.pk]),
        {"description": "Fake", "file": SimpleUploadedFile("x.pdf", PDF)},
    )
    assert response.status_code == 404
    assert not VerificationEvidence.objects.exists()


@pytest.mark.parametrize("who", ["exporter", "viewer", "operator"])
def test_members_and_operators_download_the_file(client, cast, extract, who):
    client.force_login(getattr(cast, who))
    response = client.get(reverse("accounts:evidence_download", args=[extract.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("who", ["other", "broker", "stranger"])
def test_a_member_of_another_organisation_cannot_download_it(client, cast, extract, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("accounts:evidence_download", args=[extract.pk])).status_code == 404


def test_downloading_needs_a_login(client, cast, extract):
    response = client.get(reverse("accounts:evidence_download", args=[extract.pk]))
    assert response.status_code == 302
