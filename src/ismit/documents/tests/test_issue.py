"""Issuing a trade's documents: generated once from the trade, signed, stored, versioned, audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.documents import generators, signing
from ismit.documents.generators import all_generators, register
from ismit.documents.models import DocumentStatus, IssuedDocument
from ismit.documents.services import issue_documents
from ismit.documents.tests.issuing import content, signature
from ismit.documents.verification import SUPERSEDED, VALID, check
from ismit.trades.models import GoodsItem, StepStatus

pytestmark = pytest.mark.django_db


def test_issuing_signs_and_stores_every_document_of_the_trade(cashew_trade, cast, issued_set, media_root):
    expected = {(g.kind, g.format) for g in all_generators()}
    assert {(d.kind, d.format) for d in issued_set} == expected
    assert {"pdf", "xml", "edi", "json"} <= {fmt for _, fmt in expected}
    for document in issued_set:
        data = content(document)
        assert document.version == 1 and document.status == DocumentStatus.ISSUED
        assert document.sha256 == signing.sha256_hex(data) and document.size == len(data)
        assert document.issued_by == cast.exporter and document.language == "en"
        assert document.organisation_id == cashew_trade.organisation_id
        assert media_root in (media_root / document.file.name).parents  # through the default storage
        if document.format == "pdf":
            assert not document.signature and b"/ETSI.CAdES.detached" in data
        else:
            assert signature(document)  # the detached signature beside it
        assert check(data=data, signature=signature(document)).status == VALID
    events = AuditEvent.objects.filter(action="document.issued", organisation_id=cast.msme.pk)
    assert events.count() == len(issued_set)


def test_a_new_issue_supersedes_the_previous_version_and_both_stay_verifiable(
    cashew_trade, exporter_actor, issued_set
):
    invoice_v1 = next(d for d in issued_set if d.kind == "commercial_invoice")
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(unit_price=Decimal("6.35"))  # a correction

    (invoice_v2,) = issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["commercial_invoice"])

    invoice_v1.refresh_from_db()
    assert invoice_v2.version == 2 and invoice_v2.supersedes == invoice_v1
    assert invoice_v1.status == DocumentStatus.SUPERSEDED and invoice_v1.superseded_by == invoice_v2
    old = check(data=content(invoice_v1))
    assert old.status == SUPERSEDED and old.version == 1 and old.latest_version == 2
    assert check(data=content(invoice_v2)).status == VALID
    # Other kinds were not touched.
    assert cashew_trade.documents.filter(status=DocumentStatus.ISSUED).count() == len(issued_set)


def test_an_issued_document_is_immutable(issued_set):
    document = issued_set[0]
    document.sha256 = "0" * 64
    with pytest.raises(ValueError, match="immutable"):
        document.save()
    with pytest.raises(ValueError, match="immutable"):
        document.save(update_fields=["sha256"])


def test_declarations_are_refused_while_the_compliance_check_reports_errors(
    cashew_trade, exporter_actor, media_root
):
    from ismit.compliance.check import run_check

    # Data no form accepts, as an import from an older system could leave it: gross mass below net mass.
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(gross_mass_kg=Decimal("10"))
    assert run_check(cashew_trade).has_errors
    declarations = [g.kind for g in all_generators() if g.is_declaration]
    assert declarations, "the set has declarations (export declaration, WCO, CUSDEC)"

    with pytest.raises(ValidationError, match="compliance check"):
        issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=declarations[:1])
    assert not cashew_trade.documents.exists()

    issued = issue_documents(actor=exporter_actor, trade=cashew_trade)  # the whole set: without them
    kinds = {d.kind for d in issued}
    assert kinds and not kinds & set(declarations)
    assert "commercial_invoice" in kinds


def test_issuing_needs_the_right_to_change_the_trade(cast, cashew_trade, media_root):
    for person in (cast.viewer, cast.other, cast.stranger, cast.operator):
        with pytest.raises(PermissionDenied):
            issue_documents(actor=actor_for(person), trade=cashew_trade)
    assert not cashew_trade.documents.exists()
    assert issue_documents(actor=actor_for(cast.colleague), trade=cashew_trade, kinds=["trade_dataset"])


def test_unknown_kinds_and_languages_are_refused(cashew_trade, exporter_actor, media_root):
    with pytest.raises(ValidationError, match="Unknown kind"):
        issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["bill_of_lading"])
    with pytest.raises(ValidationError):
        issue_documents(actor=exporter_actor, trade=cashew_trade, language="de")


@dataclass(frozen=True)
class BrokenGenerator:
    kind: str = "broken_test_document"
    format: str = "xml"
    media_type: str = "application/xml"
    is_declaration: bool = False
    reads: tuple[str, ...] = ("reference",)

    def render(self, data, *, language: str) -> bytes:
        raise KeyError("seller.identifiers")


@pytest.fixture
def broken_generator():
    generator = register(BrokenGenerator())
    yield generator
    generators._REGISTRY.pop((generator.kind, generator.format))


def test_a_failing_generator_gives_an_error_naming_the_document(
    cashew_trade, exporter_actor, broken_generator, media_root
):
    with pytest.raises(ValidationError) as raised:
        issue_documents(actor=exporter_actor, trade=cashew_trade)

    assert "broken test document" in str(raised.value).lower() and "could not be generated" in str(
        raised.value
    )
    assert not IssuedDocument.objects.exists()  # all or nothing
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


class FailingStorage(FileSystemStorage):
    """A storage that fails on signature files, as a full disk or a lost bucket would."""

    def _save(self, name, content):
        if name.endswith(".jws"):
            raise OSError("No space left on device")
        return super()._save(name, content)


def test_files_already_stored_are_removed_when_issuing_fails(
    cashew_trade, exporter_actor, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.FailingStorage", "OPTIONS": {"location": str(tmp_path)}},
    }

    with pytest.raises(OSError):
        issue_documents(actor=exporter_actor, trade=cashew_trade)

    assert not IssuedDocument.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # the PDFs and XML stored before it: gone
    assert not AuditEvent.objects.filter(action="document.issued").exists()


def test_issuing_the_invoice_and_packing_list_completes_their_checklist_steps(cashew_trade, issued_set):
    steps = dict(cashew_trade.steps.values_list("code", "status"))
    assert steps["commercial_invoice"] == StepStatus.DONE
    assert steps["packing_list"] == StepStatus.DONE
    assert steps["export_declaration"] != StepStatus.DONE  # customs accepts that one, not us
    cashew_trade.refresh_from_db()
    assert cashew_trade.status == "active"
