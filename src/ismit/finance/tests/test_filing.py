"""Filing the FX settlement report and the VAT refund claim: built from data already entered, cross-checked
against the declaration as it was declared, sent through the outbox once per version, and moved by the
single window's answers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.finance import payloads, queries
from ismit.finance.kinds import FX_KIND, VAT_KIND
from ismit.finance.models import FilingStatus, FxReport, VatClaim
from ismit.finance.services import (
    CrossCheckFailed,
    apply_answer,
    record_sent,
    submit_fx_report,
    submit_vat_claim,
)
from ismit.lib.errors import error_dict
from ismit.nsw_sim import mrn
from ismit.nsw_sim.config import Config
from ismit.nsw_sim.finance import FX, VAT, check_report, read_report
from ismit.outbox.models import OutboxMessage
from ismit.trades.models import ChecklistStep, GoodsItem

pytestmark = pytest.mark.django_db
MRN = mrn.make_mrn("finance-filing", "CI")


@pytest.fixture
def windows(db):
    from ismit.customs.services import add_window

    made = {}
    for procedure, connector in (("export", "wco-xml"), ("fx", "json"), ("vat", "json")):
        made[procedure] = add_window(
            name=f"CI {procedure}",
            country="CI",
            procedure=procedure,
            connector=connector,
            base_url="http://127.0.0.1:9",
            client_id="ismit",
            secret="not-used-here",
        )
    return made


@pytest.fixture
def declared(trade, exporter, cast, windows):
    """declared(status) records the trade's export declaration as customs cleared it: the WCO DEC issued
    from the trade and sent, with its MRN."""
    from ismit.customs.models import Declaration
    from ismit.documents.services import issue_documents

    def make(status: str = "goods_exited"):
        (document,) = issue_documents(actor=exporter, trade=trade, kinds=["wco_declaration"])
        return Declaration.objects.create(
            trade=trade,
            organisation=cast.msme,
            submitted_by_organisation=cast.msme,
            submitted_by=cast.exporter,
            window=windows["export"],
            kind="export",
            procedure="1040",
            channel="wco-xml",
            document=document,
            version=1,
            lrn=trade.reference,
            conversation_id="c0ffee" * 5,
            mrn=MRN,
            status=status,
            status_at=timezone.now(),
            idempotency_key=f"declaration-{trade.pk}",
        )

    return make


@pytest.fixture
def ready(trade, declared, identifiers, pay):
    """A cleared export whose payments cover the invoice: nothing stops the filings."""
    declared()
    pay(trade, "60000.00", reference="SGCI-1", days_ago=3)
    pay(trade, "40250.00", reference="SGCI-2", days_ago=1)
    return trade


def step(trade, code: str) -> ChecklistStep:
    return ChecklistStep.objects.get(trade=trade, code=code)


def answer(filing, status: str, *, seconds: int = 0, **extra) -> dict:
    issued = timezone.now() + dt.timedelta(seconds=seconds)
    return {
        "notification_id": f"n-{status}-{seconds}",
        "conversation_id": filing.conversation_id or "conv-1",
        "kind": "fx_settlement",
        "reference": filing.reference,
        "status": status,
        "issued_at": issued.isoformat().replace("+00:00", "Z"),
        "registration_number": extra.pop("registration_number", None),
        "reasons": extra.pop("reasons", []),
        "question": extra.pop("question", None),
    }


def fx_answer(filing, status, notification_id="", **kw):
    body = answer(filing, status, **kw)
    return apply_answer(
        kind=FX_KIND, payload=body, notification_id=notification_id or body["notification_id"]
    )


# -- building and sending ----------------------------------------------------------------------------------


def test_the_fx_report_is_queued_once_with_a_body_made_of_entered_data(ready, exporter, today):
    report = submit_fx_report(actor=exporter, trade=ready)
    assert report.status == FilingStatus.QUEUED and report.version == 1
    assert report.reference == f"FX-{ready.pk}"
    assert report.payload == {
        "report_reference": f"FX-{ready.pk}",
        "exporter": {"id": "CI1234567890", "name": "Anacarde Abidjan SARL"},
        "declaration_mrn": MRN,
        "invoice_number": "INV-2026-041",
        "invoice_date": ready.invoice_date.isoformat(),
        "currency": "EUR",
        "invoiced_amount": "100250.00",
        "payments": [
            {
                "amount": "60000.00",
                "currency": "EUR",
                "received_on": (today - dt.timedelta(days=3)).isoformat(),
                "bank_reference": "SGCI-1",
            },
            {
                "amount": "40250.00",
                "currency": "EUR",
                "received_on": (today - dt.timedelta(days=1)).isoformat(),
                "bank_reference": "SGCI-2",
            },
        ],
    }
    # what the reference single window makes of it (its MRN check needs its own records)
    assert check_report(FX, read_report(payloads.encode(report.payload)), None, Config(check_mrn=False)) == (
        [],
        "",
    )

    message = OutboxMessage.objects.get()
    assert message.topic == "finance.fx_report"
    assert message.idempotency_key == report.idempotency_key
    assert bytes(message.payload) == payloads.encode(report.payload)
    assert message.organisation_id == ready.organisation_id
    assert message.target == "http://127.0.0.1:9/fx/settlements"
    assert message.headers == {}
    version = report.versions.get()
    assert (version.number, version.idempotency_key, version.payload_sha256) == (
        1,
        report.idempotency_key,
        message.payload_sha256,
    )
    assert step(ready, "fx_settlement").status == "in_progress"
    event = AuditEvent.objects.get(action="finance.fx_report_submitted")
    assert event.changes["idempotency_key"] == report.idempotency_key and event.actor_id is not None

    # In flight: nothing more is sent.
    with pytest.raises(ValidationError):
        submit_fx_report(actor=exporter, trade=ready)
    assert OutboxMessage.objects.count() == 1


def test_a_retried_api_request_files_once(client, cast, ready):
    from ismit.accounts.services import create_api_token

    _token, key = create_api_token(user=cast.exporter, name="test")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "file-fx-once"}
    url = f"/api/v1/trades/{ready.pk}/fx-report"
    first = client.post(url, {}, content_type="application/json", headers=headers)
    again = client.post(url, {}, content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 202, first.content
    assert first.json()["status"] == "queued" and again["Idempotent-Replayed"] == "true"
    assert OutboxMessage.objects.filter(topic="finance.fx_report").count() == 1
    finance = client.get(f"/api/v1/trades/{ready.pk}/finance", headers={"Authorization": f"Bearer {key}"})
    assert finance.json()["fx_report"]["versions"][0]["idempotency_key"] == first.json()["idempotency_key"]


def test_the_vat_claim_carries_the_input_vat_the_msme_enters(ready, exporter):
    with pytest.raises(ValidationError) as caught:
        submit_vat_claim(actor=exporter, trade=ready)
    assert set(error_dict(caught.value)) == {"vat_amount", "input_invoices"}
    with pytest.raises(ValidationError) as caught:
        submit_vat_claim(
            actor=exporter, trade=ready, vat_amount="5000", vat_rate="18", input_invoices="SUP-1"
        )
    assert "18,045.00 EUR" in error_dict(caught.value)["vat_amount"][0]  # 18 % of 100,250.00
    with pytest.raises(ValidationError) as caught:
        submit_vat_claim(actor=exporter, trade=ready, vat_amount="40000", input_invoices="SUP-1")
    assert "30 %" in error_dict(caught.value)["vat_amount"][0]
    assert not OutboxMessage.objects.exists()

    claim = submit_vat_claim(
        actor=exporter,
        trade=ready,
        vat_amount="4 210,50",
        input_invoices="SUP-1 2026-10-01; SUP-2 2026-10-12",
    )
    assert claim.status == FilingStatus.QUEUED
    assert claim.input_invoices == "SUP-1 2026-10-01; SUP-2 2026-10-12"
    body = claim.payload
    assert body["claim_reference"] == f"VAT-{ready.pk}"
    assert body["claimant"] == {
        "id": "CI1234567890",
        "vat_number": "CI0012345A",
        "name": "Anacarde Abidjan SARL",
    }
    assert body["net_value"] == "100250.00" and body["vat_amount"] == "4210.50"
    assert body["export_date"] == timezone.localdate().isoformat()
    assert check_report(VAT, read_report(payloads.encode(body)), None, Config(check_mrn=False)) == ([], "")
    assert OutboxMessage.objects.get().topic == "finance.vat_claim"


def test_a_vat_claim_waits_for_the_exit_of_the_goods(trade, declared, identifiers, pay, exporter):
    declared("cleared")
    pay(trade, "100250.00")
    assert submit_fx_report(actor=exporter, trade=trade).status == FilingStatus.QUEUED
    with pytest.raises(CrossCheckFailed) as caught:
        submit_vat_claim(actor=exporter, trade=trade, vat_amount="1000", input_invoices="SUP-1")
    assert [m.code for m in caught.value.mismatches] == ["declaration.not_exited"]


def test_the_trade_changed_after_declaring_is_a_mismatch_with_the_declared_values(ready, exporter):
    GoodsItem.objects.filter(trade=ready, line_no=2).update(
        quantity=Decimal("5200"), net_mass_kg=Decimal("5200")
    )
    with pytest.raises(CrossCheckFailed) as caught:
        submit_fx_report(actor=exporter, trade=ready)
    found = {m.code: m for m in caught.value.mismatches}
    # (the payments, 290.00 EUR short of the new total, are within the tolerance for bank charges)
    assert set(found) == {"value.declared_invoice", "value.statistical", "quantity.item", "quantity.net_mass"}
    declared_invoice = found["value.declared_invoice"]
    assert declared_invoice.ours.value == "100,540.00 EUR"  # 5,200 kg of nuts in shell at 1.45
    assert declared_invoice.theirs.value == "100,250.00 EUR"
    assert declared_invoice.theirs.source == f"Export declaration {MRN}"
    assert (found["quantity.item"].ours.value, found["quantity.item"].theirs.value) == (
        "5,200 KGM",
        "5,000 KGM",
    )
    assert not OutboxMessage.objects.exists() and not FxReport.objects.exists()


def test_no_single_window_for_the_procedure_is_said(ready, exporter, windows):
    windows["fx"].active = False
    windows["fx"].save()
    with pytest.raises(ValidationError) as caught:
        submit_fx_report(actor=exporter, trade=ready)
    assert "No single window takes FX settlement report for CI" in error_dict(caught.value)["__all__"][0]


def test_an_unverified_organisation_does_not_file(ready, exporter, cast):
    from django.core.exceptions import PermissionDenied

    cast.msme.verification_status = "pending"
    cast.msme.save()
    with pytest.raises(PermissionDenied):
        submit_fx_report(actor=actor_for(cast.exporter), trade=ready)


# -- answers -----------------------------------------------------------------------------------------------


def test_an_accepted_report_completes_the_financial_step(ready, exporter, cast):
    report = submit_fx_report(actor=exporter, trade=ready)
    record_sent(kind=FX_KIND, idempotency_key=report.idempotency_key, conversation_id="conv-1")
    report.refresh_from_db()
    assert (report.status, report.conversation_id) == (FilingStatus.SENT, "conv-1")
    fx_answer(report, "received", seconds=1)
    assert FxReport.objects.get().status == FilingStatus.RECEIVED
    fx_answer(report, "accepted", seconds=2, registration_number="FX26CI0001")
    report.refresh_from_db()
    assert (report.status, report.registration_number) == (FilingStatus.ACCEPTED, "FX26CI0001")
    fx_step = step(ready, "fx_settlement")
    assert fx_step.status == "done" and "FX26CI0001" in fx_step.note
    actions = list(
        AuditEvent.objects.filter(action__startswith="finance.fx_report").values_list("action", flat=True)
    )
    assert actions == [
        "finance.fx_report_submitted",
        "finance.fx_report_sent",
        "finance.fx_report_answered",
        "finance.fx_report_answered",
    ]
    from ismit.accounts.models import Notification

    titles = list(Notification.objects.filter(organisation=cast.msme).values_list("title", flat=True))
    assert any("accepted" in title for title in titles)


def test_a_rejection_shows_its_reasons_and_a_new_report_starts_a_new_conversation(ready, exporter):
    report = submit_fx_report(actor=exporter, trade=ready)
    record_sent(kind=FX_KIND, idempotency_key=report.idempotency_key, conversation_id="conv-1")
    report.refresh_from_db()
    reasons = [
        {"code": "NSWF0013", "field": "invoiced_amount", "message": "declared 1.00 EUR, here 2.00 EUR"}
    ]
    fx_answer(report, "rejected", seconds=1, reasons=reasons)
    report.refresh_from_db()
    assert report.status == FilingStatus.REJECTED and report.reasons == reasons
    assert step(ready, "fx_settlement").status == "blocked"
    assert "declared 1.00 EUR" in step(ready, "fx_settlement").note

    again = submit_fx_report(actor=exporter, trade=ready)
    assert (again.version, again.reference, again.conversation_id) == (2, f"FX-{ready.pk}-2", "")
    second = OutboxMessage.objects.get(idempotency_key=again.idempotency_key)
    assert second.headers == {}  # not a correction: the rejected conversation is final
    assert OutboxMessage.objects.exclude(topic="accounts.mail").count() == 2  # the rejection's e-mails aside
    # A late duplicate of the first conversation's answer does not touch the new report.
    late = answer(report, "accepted", seconds=5, registration_number="FX-OLD")
    late["conversation_id"], late["reference"] = "conv-1", f"FX-{ready.pk}"
    apply_answer(kind=FX_KIND, payload=late, notification_id="late-1")
    again.refresh_from_db()
    assert again.status == FilingStatus.QUEUED and again.registration_number == ""


def test_a_query_is_a_task_answered_by_a_correction(ready, exporter, client, cast):
    report = submit_fx_report(actor=exporter, trade=ready)
    record_sent(kind=FX_KIND, idempotency_key=report.idempotency_key, conversation_id="conv-1")
    report.refresh_from_db()
    fx_answer(report, "query", seconds=1, question="Why was the payment received late?")
    report.refresh_from_db()
    assert report.status == FilingStatus.QUERY and report.question == "Why was the payment received late?"
    assert step(ready, "fx_settlement").status == "blocked"
    client.force_login(cast.exporter)
    page = client.get(f"/trades/{ready.pk}/finance/").content.decode()
    assert 'data-task="query"' in page and "Why was the payment received late?" in page
    assert "Send the correction" in page

    correction = submit_fx_report(actor=exporter, trade=ready, explanation="The buyer's bank was closed.")
    assert (correction.version, correction.reference, correction.conversation_id) == (
        2,
        f"FX-{ready.pk}",
        "conv-1",
    )
    assert correction.payload["explanation"] == "The buyer's bank was closed."
    message = OutboxMessage.objects.get(idempotency_key=correction.idempotency_key)
    assert message.headers == {"X-Correction-Of": "conv-1"}
    assert correction.versions.get(number=2).correction_of == "conv-1"
    fx_answer(correction, "received", seconds=2)
    fx_answer(correction, "accepted", seconds=3, registration_number="FX26CI0002")
    correction.refresh_from_db()
    assert correction.status == FilingStatus.ACCEPTED
    assert step(ready, "fx_settlement").status == "done"


def test_late_and_repeated_answers_change_nothing(ready, exporter):
    report = submit_fx_report(actor=exporter, trade=ready)
    record_sent(kind=FX_KIND, idempotency_key=report.idempotency_key, conversation_id="conv-1")
    report.refresh_from_db()
    fx_answer(report, "query", seconds=2, question="Which bank?")
    fx_answer(report, "received", seconds=1)  # issued before the query, arrived after it
    fx_answer(report, "query", seconds=2, question="Which bank?")  # the same notification again
    report.refresh_from_db()
    assert report.status == FilingStatus.QUERY and report.question == "Which bank?"
    assert AuditEvent.objects.filter(action="finance.fx_report_answered").count() == 1
    fx_answer(report, "accepted", seconds=4, registration_number="FX26CI0003")
    fx_answer(report, "received", seconds=3)  # issued before the acceptance, arrived after it
    fx_answer(report, "rejected", seconds=5)  # an accepted report is final
    report.refresh_from_db()
    assert report.status == FilingStatus.ACCEPTED and report.registration_number == "FX26CI0003"
    assert AuditEvent.objects.filter(action="finance.fx_report_answered").count() == 2


def test_an_answer_that_comes_before_the_delivery_is_noted_is_applied(ready, exporter):
    report = submit_fx_report(actor=exporter, trade=ready)
    body = answer(report, "received", seconds=1)
    body["conversation_id"] = "conv-fast"
    apply_answer(kind=FX_KIND, payload=body, notification_id="n-fast")
    report.refresh_from_db()
    assert (report.status, report.conversation_id) == (FilingStatus.RECEIVED, "conv-fast")
    record_sent(kind=FX_KIND, idempotency_key=report.idempotency_key, conversation_id="conv-fast")
    report.refresh_from_db()
    assert report.status == FilingStatus.RECEIVED  # the delivery does not move it back to "sent"
    assert report.versions.get().conversation_id == "conv-fast"


def test_an_answer_about_nothing_we_sent_is_ignored(ready):
    body = {
        "conversation_id": "unknown",
        "reference": "FX-0",
        "status": "accepted",
        "issued_at": "2026-01-01T00:00:00Z",
    }
    assert apply_answer(kind=FX_KIND, payload=body, notification_id="x") is None
    assert not FxReport.objects.exists()


def test_the_vat_claim_answers_move_the_vat_step(ready, exporter):
    claim = submit_vat_claim(actor=exporter, trade=ready, vat_amount="1000", input_invoices="SUP-1")
    record_sent(kind=VAT_KIND, idempotency_key=claim.idempotency_key, conversation_id="vat-1")
    body = answer(claim, "accepted", seconds=1, registration_number="VR26CI0001")
    body["conversation_id"], body["kind"] = "vat-1", "vat_refund_claim"
    apply_answer(kind=VAT_KIND, payload=body, notification_id="v-1")
    claim = VatClaim.objects.get()
    assert claim.status == FilingStatus.ACCEPTED and step(ready, "vat_refund").status == "done"
    assert step(ready, "fx_settlement").status == "todo"  # the other filing's step is its own


def test_the_finance_answer_shows_the_filings(client, cast, ready, exporter):
    report = submit_fx_report(actor=exporter, trade=ready)
    from ismit.accounts.services import create_api_token

    _token, key = create_api_token(user=cast.viewer, name="test")
    body = client.get(f"/api/v1/trades/{ready.pk}/finance", headers={"Authorization": f"Bearer {key}"}).json()
    assert body["declaration"]["mrn"] == MRN and body["declaration"]["invoice_amount"] == "100250.00"
    assert body["crosscheck"]["fx"] == {"ready": True, "mismatches": []}
    fx = body["fx_report"]
    assert (fx["status"], fx["reference"], fx["idempotency_key"]) == (
        "queued",
        report.reference,
        report.idempotency_key,
    )
    assert json.loads(json.dumps(fx["payload"])) == report.payload
    assert body["vat_claim"] is None
    assert queries.finance_of(ready).mismatches["vat"] == []
