"""The Documents tab of a trade, its downloads, and the public verification page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ismit.accounts.models import Organisation, VerificationStatus
from ismit.audit.models import AuditEvent
from ismit.documents.models import IssuedDocument
from ismit.documents.tests.issuing import content, flipped, signature
from ismit.trades.models import GoodsItem

pytestmark = pytest.mark.django_db


def _list(trade) -> str:
    return reverse("documents:list", kwargs={"pk": trade.pk})


def test_the_exporter_issues_the_whole_set_from_the_documents_tab(client, cast, cashew_trade, media_root):
    client.force_login(cast.exporter)
    page = client.get(_list(cashew_trade))
    assert page.status_code == 200
    assert "Issue documents" in page.text and "No document has been issued" in page.text

    response = client.post(_list(cashew_trade), {"language": "fr"}, follow=True)

    documents = list(IssuedDocument.objects.filter(trade=cashew_trade))
    assert documents and {d.language for d in documents} == {"fr"}
    assert response.redirect_chain[-1][0] == _list(cashew_trade)
    assert f"{len(documents)} documents issued and signed" in response.text
    for document in documents:
        assert (
            reverse("documents:download", kwargs={"pk": cashew_trade.pk, "doc_id": document.pk})
            in response.text
        )
    assert "data-ratio" in response.text


def test_a_second_issue_lists_both_versions(client, cast, cashew_trade, exporter_actor, issued_set):
    client.force_login(cast.exporter)
    client.post(_list(cashew_trade), {"language": "en"})

    page = client.get(_list(cashew_trade)).text
    assert page.count('data-version="2" data-status="issued"') == len(issued_set)
    assert page.count('data-version="1" data-status="superseded"') == len(issued_set)


def test_downloads_give_the_document_and_its_signature_as_issued(client, cast, cashew_trade, issued_set):
    client.force_login(cast.viewer)  # read-only members may download
    for document in issued_set:
        url = reverse("documents:download", kwargs={"pk": cashew_trade.pk, "doc_id": document.pk})
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content(document)
        assert response["Content-Type"] == document.media_type
        assert f"{cashew_trade.reference}-v1-{document.filename}" in response["Content-Disposition"]
        signature_url = reverse("documents:signature", kwargs={"pk": cashew_trade.pk, "doc_id": document.pk})
        answer = client.get(signature_url)
        if document.format == "pdf":
            assert answer.status_code == 404  # its signature is inside
        else:
            assert b"".join(answer.streaming_content) == signature(document)


def test_a_read_only_member_sees_the_documents_but_cannot_issue(client, cast, cashew_trade, issued_set):
    client.force_login(cast.viewer)
    page = client.get(_list(cashew_trade))
    assert page.status_code == 200 and "Issue documents" not in page.text
    assert client.post(_list(cashew_trade), {"language": "en"}).status_code == 404
    assert IssuedDocument.objects.filter(trade=cashew_trade).count() == len(issued_set)


def test_another_organisation_gets_404_on_every_documents_page(client, cast, cashew_trade, issued_set):
    document = issued_set[0]
    urls = [
        _list(cashew_trade),
        reverse("documents:download", kwargs={"pk": cashew_trade.pk, "doc_id": document.pk}),
        reverse("documents:signature", kwargs={"pk": cashew_trade.pk, "doc_id": document.pk}),
    ]
    for person in (cast.other, cast.stranger, cast.broker, cast.operator):
        client.force_login(person)
        for url in urls:
            assert client.get(url).status_code == 404, (person, url)
            assert client.post(url, {"language": "en"}).status_code in (404, 405), (person, url)
    assert IssuedDocument.objects.filter(trade=cashew_trade).count() == len(issued_set)


def test_a_document_is_reached_only_under_its_own_trade(client, cast, cashew_trade, other_trade, issued_set):
    from ismit.accounts.actors import actor_for
    from ismit.documents.services import issue_documents

    (theirs,) = issue_documents(actor=actor_for(cast.other), trade=other_trade, kinds=["trade_dataset"])
    client.force_login(cast.exporter)
    # Their document id under our trade's URL, and ours under theirs: both 404.
    assert (
        client.get(
            reverse("documents:download", kwargs={"pk": cashew_trade.pk, "doc_id": theirs.pk})
        ).status_code
        == 404
    )
    ours = issued_set[0]
    assert (
        client.get(
            reverse("documents:download", kwargs={"pk": other_trade.pk, "doc_id": ours.pk})
        ).status_code
        == 404
    )


def test_pages_need_a_login(client, cashew_trade, issued_set):
    response = client.get(_list(cashew_trade))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unverified_organisation_is_told_why_it_cannot_issue(client, cast, cashew_trade, media_root):
    Organisation.objects.filter(pk=cast.msme.pk).update(verification_status=VerificationStatus.PENDING)
    client.force_login(cast.exporter)
    page = client.get(_list(cashew_trade)).text
    assert "not verified yet" in page

    response = client.post(_list(cashew_trade), {"language": "en"}, follow=True)

    assert "not verified yet" in response.text
    assert not IssuedDocument.objects.exists()


def test_declarations_left_out_are_announced(client, cast, cashew_trade, media_root):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(gross_mass_kg=Decimal("10"))
    client.force_login(cast.exporter)

    response = client.post(_list(cashew_trade), {"language": "en"}, follow=True)

    assert "Not issued while the compliance check reports errors" in response.text
    assert not IssuedDocument.objects.filter(kind="wco_declaration").exists()
    assert IssuedDocument.objects.filter(kind="commercial_invoice").exists()


# -- the public verification page -------------------------------------------------------------------


def _upload(document, data: bytes | None = None) -> dict:
    body = {"document": SimpleUploadedFile(document.filename, content(document) if data is None else data)}
    if document.signature:
        body["signature"] = SimpleUploadedFile(document.signature_filename, signature(document))
    return body


def test_anyone_verifies_a_document_without_logging_in(client, cashew_trade, issued_set):
    assert client.get(reverse("documents:verify")).status_code == 200
    invoice = next(d for d in issued_set if d.kind == "cii_invoice")

    page = client.post(reverse("documents:verify"), _upload(invoice)).text

    assert (
        'data-status="valid"' in page and "Anacarde Abidjan SARL" in page and cashew_trade.reference in page
    )
    # Nothing of the trade beyond who, when, which reference and which document.
    assert "Provence Fruits Secs" not in page and "100" + "250" not in page


def test_a_changed_copy_is_shown_as_altered(client, issued_set):
    pdf = next(d for d in issued_set if d.format == "pdf")
    data = content(pdf)

    page = client.post(reverse("documents:verify"), _upload(pdf, flipped(data, len(data) // 2))).text

    assert 'data-status="altered"' in page and "Anacarde Abidjan SARL" in page


def test_a_pasted_sha256_is_enough(client, issued_set):
    page = client.post(reverse("documents:verify"), {"sha256": issued_set[0].sha256}).text
    assert 'data-status="valid"' in page
    page = client.post(reverse("documents:verify"), {"sha256": "0" * 64}).text
    assert 'data-status="unknown"' in page
    page = client.post(reverse("documents:verify"), {"sha256": "xyz"}).text
    assert "64 hexadecimal characters" in page and "data-status" not in page
    page = client.post(reverse("documents:verify"), {}).text
    assert "Choose the document" in page
    events = AuditEvent.objects.filter(action="document.verified")
    assert events.count() == 2 and {e.actor_label for e in events} == {"AnonymousUser"}
