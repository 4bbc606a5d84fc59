"""`ismit documents …`: export, coverage, verify, rotate-key, revoke-key, ca."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from ismit.audit.models import AuditEvent
from ismit.documents.generators import all_generators
from ismit.documents.models import IssuedDocument, KeyStatus, SigningKey
from ismit.documents.tests.issuing import flipped
from ismit.documents.verification import VALID, check

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("documents", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_writes_one_file_per_document_and_format_with_signatures_beside(
    cashew_trade, cast, media_root, tmp_path
):
    out = tmp_path / "export"

    printed = run("export", cashew_trade.reference, "--out", str(out), "--lang", "fr")

    names = sorted(p.name for p in out.iterdir())
    for g in all_generators():
        assert f"{g.kind}.{g.format}" in names
        if g.format != "pdf":
            assert f"{g.kind}.{g.format}" + (".jws" if g.format == "json" else ".xades.xml") in names
    assert {
        "commercial_invoice.pdf",
        "cii_invoice.xml",
        "cii_invoice.xml.xades.xml",
        "trade_dataset.json.jws",
    } <= set(names)
    assert any(n.endswith(".edi") for n in names)
    assert f"documents of {cashew_trade.reference}" in printed
    documents = IssuedDocument.objects.filter(trade=cashew_trade)
    assert {d.language for d in documents} == {"fr"} and {d.issued_by for d in documents} == {cast.exporter}
    for document in documents:
        data = (out / document.filename).read_bytes()
        signature = (out / document.signature_filename).read_bytes() if document.signature else None
        assert check(data=data, signature=signature).status == VALID

    run("export", cashew_trade.reference, "--out", str(out))  # already issued: exported as they are
    assert IssuedDocument.objects.filter(trade=cashew_trade).count() == documents.count()


def test_export_of_an_unknown_or_ambiguous_reference_fails(cashew_trade, other_trade, tmp_path):
    with pytest.raises(CommandError, match="no trade"):
        run("export", "EXP-1999-99999", "--out", str(tmp_path))
    other_trade.reference = cashew_trade.reference
    other_trade.save(update_fields=["reference"])
    with pytest.raises(CommandError, match="--org"):
        run("export", cashew_trade.reference, "--out", str(tmp_path))


def test_coverage_prints_the_single_entry_ratio(cashew_trade):
    printed = run("coverage", cashew_trade.reference)
    assert "single entry ratio:" in printed
    for g in all_generators():
        assert g.kind in printed


def test_rotate_and_revoke_from_the_command_line(cast, cashew_trade, exporter_actor, media_root, tmp_path):
    from ismit.documents.services import issue_documents

    (dataset,) = issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["trade_dataset"])
    old = dataset.signer_key

    run("rotate-key", str(cast.msme.pk))
    old.refresh_from_db()
    assert old.status == KeyStatus.RETIRED
    assert SigningKey.objects.get(organisation=cast.msme, status=KeyStatus.ACTIVE).pk != old.pk

    printed = run("revoke-key", old.fingerprint, "--reason", "Private key copied to a stolen laptop.")
    assert "1 documents" in printed
    dataset.refresh_from_db()
    assert dataset.status == "revoked"
    event = AuditEvent.objects.get(action="signing_key.revoked")
    assert event.actor_label == "system"

    path = tmp_path / "trade_dataset.json"
    path.write_bytes(dataset.file.open("rb").read())
    with pytest.raises(CommandError, match="revoked"):
        run("verify", str(path))


def test_verify_from_the_command_line(cashew_trade, exporter_actor, media_root, tmp_path):
    from ismit.documents.services import issue_documents

    (invoice,) = issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["commercial_invoice"])
    path = tmp_path / "invoice.pdf"
    data = invoice.file.open("rb").read()
    path.write_bytes(data)
    assert "Valid" in run("verify", str(path))
    path.write_bytes(flipped(data, 100))
    with pytest.raises(CommandError, match="altered"):
        run("verify", str(path))
    assert "Anacarde" in run("verify", "--sha256", invoice.sha256)


def test_ca_prints_the_platform_certificate(db):
    assert run("ca").startswith("-----BEGIN CERTIFICATE-----")
