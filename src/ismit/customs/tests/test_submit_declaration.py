"""Submitting a declaration: who may, what is checked, and what one transaction writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ismit.accounts.actors import actor_for
from ismit.accounts.models import VerificationStatus
from ismit.audit.models import AuditEvent
from ismit.customs.models import Declaration, DeclarationStatus
from ismit.customs.services import DeclarationConflict, submit_declaration
from ismit.customs.tests.support import outbox_message
from ismit.documents.models import IssuedDocument
from ismit.outbox.models import Status
from ismit.trades.models import ChecklistStep, GoodsItem
from ismit.trades.services import appoint

pytestmark = pytest.mark.django_db


def test_a_submission_writes_the_declaration_its_document_and_its_outbox_message_together(
    cashew_trade, exporter, offline_window, cast
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)

    assert declaration.status == DeclarationStatus.QUEUED
    assert declaration.version == 1 and declaration.corrects is None
    assert declaration.window == offline_window and declaration.channel == "wco-xml"
    assert declaration.organisation == cast.msme and declaration.submitted_by_organisation == cast.msme
    assert declaration.lrn == cashew_trade.reference
    document = declaration.document
    assert document.kind == "wco_declaration" and document.trade == cashew_trade and document.signature
    message = outbox_message(declaration)
    assert message.topic == "customs.declaration" and message.status == Status.PENDING
    assert message.organisation_id == cast.msme.pk
    with document.file.open("rb") as f:
        assert bytes(message.payload) == f.read()  # the signed document, byte for byte
    assert message.target == "http://127.0.0.1:9/customs/declarations"
    step = ChecklistStep.objects.get(trade=cashew_trade, code="export_declaration")
    assert step.status == "in_progress" and step.acting_organisation == cast.msme
    assert AuditEvent.objects.filter(
        action="customs.declaration_submitted", object_id=str(declaration.pk)
    ).exists()


def test_a_second_submission_while_one_is_with_customs_is_a_conflict(cashew_trade, exporter, offline_window):
    submit_declaration(actor=exporter, trade=cashew_trade)
    documents = IssuedDocument.objects.count()
    with pytest.raises(DeclarationConflict):
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert Declaration.objects.filter(trade=cashew_trade).count() == 1
    assert IssuedDocument.objects.count() == documents  # refused before issuing anything


def test_a_conflict_found_under_the_trade_s_lock_writes_nothing_and_leaves_the_caller_s_transaction_usable(
    cashew_trade, exporter, offline_window, monkeypatch
):
    from ismit.customs.services import submission

    submit_declaration(actor=exporter, trade=cashew_trade)
    documents = IssuedDocument.objects.count()
    monkeypatch.setattr(submission, "_declarations_of", lambda trade: [])  # as if it came in meanwhile
    with pytest.raises(DeclarationConflict):
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert Declaration.objects.filter(trade=cashew_trade).count() == 1
    assert IssuedDocument.objects.count() == documents


def test_a_key_revoked_while_the_declaration_was_signed_refuses_it_and_writes_nothing(
    cashew_trade, exporter, offline_window, monkeypatch
):
    from ismit.customs.services import submission
    from ismit.documents.models import KeyStatus, SigningKey

    prepare_issue = submission.prepare_issue

    def prepare_then_revoke(**kwargs):
        prepared = prepare_issue(**kwargs)
        SigningKey.objects.filter(pk=prepared.key.pk).update(status=KeyStatus.REVOKED)
        return prepared

    monkeypatch.setattr(submission, "prepare_issue", prepare_then_revoke)
    with pytest.raises(ValidationError) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert "revoked meanwhile" in str(refused.value)
    assert not Declaration.objects.exists()
    assert not IssuedDocument.objects.filter(kind="wco_declaration").exists()


def test_the_same_idempotency_key_gives_the_same_declaration(cashew_trade, exporter, offline_window):
    first = submit_declaration(actor=exporter, trade=cashew_trade, idempotency_key="abc-1")
    again = submit_declaration(actor=exporter, trade=cashew_trade, idempotency_key="abc-1")
    assert again.pk == first.pk
    assert Declaration.objects.filter(trade=cashew_trade).count() == 1


def test_after_a_rejection_the_trade_may_be_declared_again_as_version_2(
    cashew_trade, exporter, offline_window
):
    first = submit_declaration(actor=exporter, trade=cashew_trade)
    Declaration.objects.filter(pk=first.pk).update(status=DeclarationStatus.REJECTED)
    second = submit_declaration(actor=exporter, trade=cashew_trade)
    assert second.version == 2 and second.corrects is None and second.idempotency_key != first.idempotency_key
    assert second.document.version == 2 and second.document.supersedes == first.document


def test_a_version_signed_before_another_declaration_came_in_is_refused_and_nothing_is_written(
    cashew_trade, exporter, offline_window, monkeypatch
):
    """The LRN of a version is signed into its document before the trade's lock is taken: a declaration that
    came in (and was closed) meanwhile makes it the wrong version, refused rather than sent as such."""
    from ismit.customs.services import submission

    first = submit_declaration(actor=exporter, trade=cashew_trade)
    Declaration.objects.filter(pk=first.pk).update(status=DeclarationStatus.REJECTED)
    documents = IssuedDocument.objects.count()
    monkeypatch.setattr(submission, "_declarations_of", lambda trade: [])  # read before the first came in
    with pytest.raises(DeclarationConflict) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert "came in meanwhile" in str(refused.value)
    assert Declaration.objects.filter(trade=cashew_trade).count() == 1
    assert IssuedDocument.objects.count() == documents
    monkeypatch.undo()
    second = submit_declaration(actor=exporter, trade=cashew_trade)
    assert (second.version, second.lrn) == (2, f"{cashew_trade.reference}-V2")


def test_an_unverified_organisation_may_not_submit(cashew_trade, exporter, offline_window, cast):
    cast.msme.verification_status = VerificationStatus.PENDING
    cast.msme.save()
    with pytest.raises(ValidationError) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert "not verified" in str(refused.value)
    assert not Declaration.objects.exists()


def test_compliance_errors_block_the_submission_with_the_fields_to_fix(
    cashew_trade, exporter, offline_window
):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(gross_mass_kg=1)
    with pytest.raises(ValidationError) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert "items[0].gross_mass_kg" in refused.value.message_dict
    assert not Declaration.objects.exists()
    assert not IssuedDocument.objects.filter(kind="wco_declaration").exists()


def test_without_a_single_window_for_the_country_nothing_is_sent(cashew_trade, exporter):
    with pytest.raises(ValidationError) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade)
    assert "No single window" in str(refused.value)


def test_the_format_is_chosen_among_the_country_s_windows(cashew_trade, exporter, offline_window):
    with pytest.raises(ValidationError) as refused:
        submit_declaration(actor=exporter, trade=cashew_trade, channel="edifact")
    assert "channel" in refused.value.message_dict
    offline_window.pk = None
    offline_window.connector = "edifact"
    offline_window.save()
    declaration = submit_declaration(actor=exporter, trade=cashew_trade, channel="edifact")
    assert declaration.channel == "edifact" and declaration.document.kind == "edifact_cusdec"
    assert outbox_message(declaration).target.endswith("/customs/edifact")


def test_a_read_only_member_and_other_organisations_may_not_submit(cashew_trade, offline_window, cast):
    for user in (cast.viewer, cast.other, cast.broker):
        with pytest.raises(PermissionDenied):
            submit_declaration(actor=actor_for(user), trade=cashew_trade)
    assert not Declaration.objects.exists()


def test_the_appointed_broker_submits_in_its_own_name(cashew_trade, exporter, broker, offline_window, cast):
    appoint(actor=exporter, trade=cashew_trade, organisation=cast.broker_org, scope="customs")
    declaration = submit_declaration(actor=broker, trade=cashew_trade)
    assert declaration.submitted_by_organisation == cast.broker_org
    assert declaration.organisation == cast.msme  # the trade's owner still owns it, and sees it
    assert declaration.submitted_by == cast.broker
    assert declaration.document.organisation == cast.msme  # signed as the trade's declaration
    visible = Declaration.objects.visible_to(broker)
    assert list(visible) == [declaration]
    assert list(Declaration.objects.visible_to(exporter)) == [declaration]
    assert not Declaration.objects.visible_to(actor_for(cast.other)).exists()


def test_an_unverified_broker_may_not_submit(cashew_trade, exporter, broker, offline_window, cast):
    appoint(actor=exporter, trade=cashew_trade, organisation=cast.broker_org, scope="customs")
    cast.broker_org.verification_status = VerificationStatus.PENDING
    cast.broker_org.save()
    with pytest.raises(ValidationError):
        submit_declaration(actor=broker, trade=cashew_trade)
