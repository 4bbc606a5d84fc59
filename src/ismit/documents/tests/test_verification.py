"""Verification: by the document's bytes (with its signature file), by its SHA-256 alone, or by its signature
file alone; every answer audited under the issuer."""

from __future__ import annotations

import pytest

from ismit.audit.models import AuditEvent
from ismit.documents.services import issue_documents
from ismit.documents.tests.issuing import content, flipped, signature
from ismit.documents.verification import ALTERED, UNKNOWN, VALID, check, verify

pytestmark = pytest.mark.django_db


def _by_format(documents):
    return {d.format: d for d in sorted(documents, key=lambda d: d.kind)}


def test_a_changed_byte_is_reported_as_altered_with_the_original_issuer(cashew_trade, issued_set):
    for fmt, document in _by_format(issued_set).items():
        data = content(document)
        for position in (0, len(data) // 3, len(data) - 2):
            result = check(data=flipped(data, position), signature=signature(document))
            assert result.status == ALTERED, (fmt, position)
            assert result.issuer == "Anacarde Abidjan SARL", (fmt, position)
        # The original is named where the signature (embedded, or given) leads to it.
        result = check(data=flipped(data, len(data) // 2), signature=signature(document))
        assert result.reference == cashew_trade.reference and result.kind == document.kind, fmt


def test_the_document_alone_is_valid_even_without_its_signature_file(issued_set):
    for document in issued_set:
        result = check(data=content(document))
        assert result.status == VALID and result.signature_checked, document.kind


def test_a_changed_document_without_its_signature_file_is_unknown(issued_set):
    xml = _by_format(issued_set)["xml"]
    assert check(data=flipped(content(xml), 10)).status == UNKNOWN


def test_the_sha256_alone_answers_from_the_register(cashew_trade, issued_set):
    document = issued_set[0]

    result = check(sha256=document.sha256.upper())

    assert result.status == VALID and not result.signature_checked
    assert (result.issuer, result.reference, result.kind, result.version) == (
        "Anacarde Abidjan SARL",
        cashew_trade.reference,
        document.kind,
        1,
    )
    assert check(sha256="0" * 64).status == UNKNOWN
    assert check(sha256="not a hash").status == UNKNOWN


def test_the_signature_file_alone_stands_for_its_document(issued_set):
    document = _by_format(issued_set)["edi"]
    assert check(signature=signature(document)).status == VALID
    json_document = _by_format(issued_set)["json"]
    assert check(signature=signature(json_document)).status == VALID
    changed = signature(document).replace(b"<ds:SignatureValue>", b"<ds:SignatureValue> ")
    assert check(signature=changed).status == ALTERED


def test_a_signature_file_of_another_document_does_not_vouch_for_this_one(
    cashew_trade, exporter_actor, issued_set
):
    cii = next(d for d in issued_set if d.kind == "cii_invoice")
    wco = next(d for d in issued_set if d.kind == "wco_declaration")
    assert check(data=content(cii), signature=signature(wco)).status == ALTERED


def test_every_verification_is_audited_under_the_issuer(cast, issued_set, client):
    document = issued_set[0]
    verify(data=content(document), channel="page")
    verify(sha256="f" * 64, channel="api")

    known = AuditEvent.objects.filter(action="document.verified", organisation_id=cast.msme.pk)
    assert known.count() == 1
    assert known.get().changes["status"] == VALID and known.get().object_id == str(document.pk)
    unknown = AuditEvent.objects.get(action="document.verified", organisation_id=None)
    assert unknown.changes["status"] == UNKNOWN and unknown.changes["channel"] == "api"


def test_documents_of_two_trades_are_told_apart(cashew_trade, exporter_actor, issued_set, media_root):
    from conftest import cashew_trade_data
    from ismit.trades.services import create_trade

    second = create_trade(
        actor=exporter_actor, organisation=cashew_trade.organisation, data=cashew_trade_data()
    )
    (invoice,) = issue_documents(actor=exporter_actor, trade=second, kinds=["commercial_invoice"])
    assert check(data=content(invoice)).reference == second.reference
