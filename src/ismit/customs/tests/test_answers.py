"""The single window's answers, from a real `ismit nsw-sim` process, through the platform's callback view:
statuses in order, the checklist, notifications, duplicates, late and out-of-order answers, rejections."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from ismit.accounts.models import Notification
from ismit.audit.models import AuditEvent
from ismit.customs import services
from ismit.customs.connectors import WcoXmlConnector
from ismit.customs.models import Declaration, DeclarationEvent, DeclarationStatus, ExchangedMessage
from ismit.customs.services import record_sent, submit_declaration
from ismit.customs.tests.support import deliver, follow, outbox_message, replay, sequence_of, status_of
from ismit.nsw_sim import mrn
from ismit.outbox.models import OutboxMessage
from ismit.trades.models import ChecklistStep

pytestmark = pytest.mark.django_db

FLOW = [
    "received",
    "accepted",
    "documents_required",
    "cleared",
    "goods_exited",
]  # the cashew trade: > 100,000 EUR


@pytest.fixture
def callback_client():
    return Client(enforce_csrf_checks=True)


def sent(trade, actor) -> Declaration:
    declaration = submit_declaration(actor=actor, trade=trade)
    assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    return declaration


def steps(trade) -> dict[str, str]:
    return dict(ChecklistStep.objects.filter(trade=trade).values_list("code", "status"))


def test_each_answer_moves_the_declaration_and_the_checklist_and_notifies(
    cashew_trade, exporter, window, relay, callback_client, django_capture_on_commit_callbacks, cast
):
    declaration = sent(cashew_trade, exporter)
    replayed = sorted(relay.wait(declaration.conversation_id, len(FLOW)), key=sequence_of)
    assert [status_of(c) for c in replayed] == FLOW
    with django_capture_on_commit_callbacks(execute=True):
        for callback in replayed:
            assert replay(callback_client, callback).status_code == 204

    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED
    assert mrn.is_valid(declaration.mrn) and declaration.mrn[2:4] == "CI"
    events = list(DeclarationEvent.objects.filter(declaration=declaration).order_by("sequence"))
    assert [e.status for e in events] == FLOW and all(e.applied for e in events)
    assert all(e.via == "callback" for e in events)
    for event in events:  # each answer stored byte for byte with its hash
        assert (
            event.message.read()
            and event.message.sha256
            and event.message.notification_id == event.notification_id
        )
    assert steps(cashew_trade)["export_declaration"] == "done"
    assert steps(cashew_trade)["export_release"] == "done"
    assert steps(cashew_trade)["departed"] == "done"
    # Every member of the exporter's organisation is told in the platform, and by e-mail but for "received"
    # and "goods exited" (statuses that ask nothing of the MSME).
    members = 3
    titles = list(
        Notification.objects.filter(organisation=cast.msme, user=cast.exporter).values_list("kind", flat=True)
    )
    assert sorted(titles) == sorted(f"customs.{s}" for s in FLOW)
    assert Notification.objects.filter(organisation=cast.msme).count() == members * len(FLOW)
    assert len(mail.outbox) == members * (len(FLOW) - 2)
    assert not any("exit of the goods" in m.subject for m in mail.outbox)
    accepted = Notification.objects.get(user=cast.exporter, kind="customs.accepted")
    assert declaration.mrn in accepted.title and accepted.url == f"/trades/{cashew_trade.pk}/customs/"
    audit = AuditEvent.objects.filter(action="customs.declaration_answered", object_id=str(declaration.pk))
    assert audit.count() == len(FLOW)


def test_a_duplicated_callback_is_applied_once(
    cashew_trade, exporter, window, relay, callback_client, faults
):
    faults(callback_duplicate_rate=1.0)
    declaration = sent(cashew_trade, exporter)
    callbacks = relay.wait(declaration.conversation_id, 2 * len(FLOW))
    assert len({c["headers"]["X-Notification-ID"] for c in callbacks}) == len(FLOW)
    for callback in callbacks:
        assert replay(callback_client, callback).status_code == 204
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED
    events = DeclarationEvent.objects.filter(declaration=declaration)
    assert events.count() == len(FLOW) and all(e.arrivals == 2 for e in events)
    assert ExchangedMessage.objects.filter(declaration=declaration, kind="notification").count() == len(FLOW)
    # Applied at most once each (one may have come after a later one, and been kept as late).
    applied = events.filter(applied=True).count()
    assert AuditEvent.objects.filter(action="customs.declaration_answered").count() == applied <= len(FLOW)


def test_answers_out_of_order_never_move_a_declaration_back(
    cashew_trade, exporter, window, relay, callback_client
):
    declaration = sent(cashew_trade, exporter)
    callbacks = relay.wait(declaration.conversation_id, len(FLOW))
    by_sequence = sorted(callbacks, key=sequence_of)
    # "accepted" is late: it comes after "cleared"; the final "goods_exited" comes before everything else.
    received, accepted, documents, cleared, exited = by_sequence
    for callback in (received, cleared):
        assert replay(callback_client, callback).status_code == 204
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.CLEARED
    for callback in (accepted, documents):
        assert replay(callback_client, callback).status_code == 204
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.CLEARED  # released never returns to accepted
    assert declaration.mrn  # the late answer's MRN is noted all the same
    assert replay(callback_client, exited).status_code == 204
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED
    applied = dict(DeclarationEvent.objects.filter(declaration=declaration).values_list("status", "applied"))
    assert applied == {
        "received": True,
        "cleared": True,
        "accepted": False,
        "documents_required": False,
        "goods_exited": True,
    }
    assert steps(cashew_trade)["export_declaration"] == "done"


def test_the_window_s_own_out_of_order_callbacks_end_in_the_final_status(
    cashew_trade, exporter, window, relay, callback_client, faults
):
    faults(callback_out_of_order_rate=1.0)
    declaration = sent(cashew_trade, exporter)
    follow(callback_client, relay, declaration, "goods_exited")
    events = DeclarationEvent.objects.filter(declaration=declaration)
    assert events.filter(status="goods_exited", applied=True).exists()
    assert events.count() == len(FLOW)


def test_a_rejection_gives_its_reasons_in_plain_language_and_blocks_the_step(
    cashew_trade, exporter, window, relay, callback_client, cast
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    # The window sees what was sent: a commodity code customs cannot take (changed after our own checks).
    message = outbox_message(declaration)
    body = bytes(message.payload).replace(b"<ID>080132</ID>", b"<ID>0801</ID>", 1)
    assert body != bytes(message.payload)
    OutboxMessage.objects.filter(pk=message.pk).update(payload=body)
    deliver(declaration)
    declaration.refresh_from_db()
    follow(callback_client, relay, declaration, "rejected")

    declaration.refresh_from_db()
    assert declaration.mrn == ""
    reason = next(r for r in declaration.reasons if r["code"] == "NSW20001")
    assert reason["item"] == 1 and reason["tag"] == "145" and "68A#1" in reason["pointer"]
    assert reason["text"]  # the window's own words, kept
    browser = Client()
    browser.force_login(cast.colleague)  # reads English
    page = browser.get(f"/trades/{cashew_trade.pk}/customs/")
    text = page.content.decode()
    assert "Goods line 1: The HS code must have 6 to 8 digits." in text
    assert "NSW20001" in text and "items[0].hs_code" in text
    assert steps(cashew_trade)["export_declaration"] == "blocked"
    # A rejected declaration is final; the trade may be declared again.
    assert submit_declaration(actor=exporter, trade=cashew_trade).version == 2


def test_a_new_declaration_after_a_rejection_has_an_lrn_of_its_own_which_the_window_takes(
    cashew_trade, exporter, window, relay, callback_client, faults
):
    """A window refuses an LRN its declarant used within 48 hours (the UK's CDS12003), a rejected
    declaration's too: the trade's next declaration carries "-V2" after the reference."""
    import uuid

    from ismit.trades.models import Trade

    faults(lrn_reuse_hours=48)
    Trade.objects.filter(pk=cashew_trade.pk).update(reference=f"LRN-{uuid.uuid4().hex[:8].upper()}")
    cashew_trade.refresh_from_db()
    first = submit_declaration(actor=exporter, trade=cashew_trade)
    message = outbox_message(first)
    rejected_body = bytes(message.payload).replace(b"<ID>080132</ID>", b"<ID>0801</ID>", 1)
    OutboxMessage.objects.filter(pk=message.pk).update(payload=rejected_body)
    deliver(first)
    follow(callback_client, relay, first, "rejected")
    first.refresh_from_db()
    assert first.lrn == cashew_trade.reference

    second = submit_declaration(actor=exporter, trade=cashew_trade)
    assert (second.version, second.lrn) == (2, f"{cashew_trade.reference}-V2")
    sent_body = bytes(outbox_message(second).payload)
    assert f"<FunctionalReferenceID>{second.lrn}</FunctionalReferenceID>".encode() in sent_body
    deliver(second)
    follow(callback_client, relay, second, "goods_exited")

    # The first LRN again, in a declaration otherwise good: the window refuses it, and says why.
    again = sent_body.replace(second.lrn.encode(), first.lrn.encode())
    result = WcoXmlConnector().send(window, second, again, f"again-{uuid.uuid4().hex}")
    callbacks = relay.wait(result.conversation_id, 2)
    rejected = [c for c in callbacks if status_of(c) == "rejected"]
    assert len(rejected) == 1 and b"NSW10017" in rejected[0]["body"], [status_of(c) for c in callbacks]


def test_answers_that_come_before_the_conversation_is_noted_are_applied_when_it_is(
    cashew_trade, exporter, window, relay, callback_client
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    # The window answers before the worker has noted its 202: send without noting it yet.
    result = WcoXmlConnector().send(
        window, declaration, bytes(outbox_message(declaration).payload), declaration.idempotency_key
    )
    callbacks = relay.wait(result.conversation_id, len(FLOW))
    for callback in callbacks:
        assert replay(callback_client, callback).status_code == 204
    waiting = DeclarationEvent.objects.filter(conversation_id=result.conversation_id)
    assert waiting.count() == len(FLOW) and not waiting.filter(declaration__isnull=False).exists()

    record_sent(declaration=declaration, result=result)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED and declaration.mrn
    assert waiting.filter(declaration=declaration, applied=True).count() == len(FLOW)


def test_answers_stored_while_the_send_is_noted_are_applied_once_the_delivery_is_recorded(
    cashew_trade, exporter, window, relay, callback_client, monkeypatch
):
    """A callback that did not see the conversation yet (it was being noted) holds its answers; the worker
    looks for them with the record of its delivery (services.held_answers_look), after noting the send."""
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    note = services.record_sent

    def noted_while_answers_arrive(*, declaration, result, **kwargs):
        callbacks = relay.wait(result.conversation_id, len(FLOW))
        for callback in callbacks:  # held: the conversation is not noted yet
            assert replay(callback_client, callback).status_code == 204
        held = DeclarationEvent.objects.filter(conversation_id=result.conversation_id, declaration=None)
        assert held.count() == len(FLOW)
        # Stored "meanwhile": not there yet when the send is noted, there once it is.
        hidden = held.update(conversation_id="elsewhere")
        noted = note(declaration=declaration, result=result, **kwargs)
        assert (
            DeclarationEvent.objects.filter(conversation_id="elsewhere").update(
                conversation_id=result.conversation_id
            )
            == hidden
        )
        assert Declaration.objects.get(pk=declaration.pk).status == DeclarationStatus.SENT
        return noted

    monkeypatch.setattr(services, "record_sent", noted_while_answers_arrive)
    assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED and declaration.mrn
    events = DeclarationEvent.objects.filter(conversation_id=declaration.conversation_id)
    assert events.filter(declaration=declaration, applied=True).count() == len(FLOW)


def test_a_callback_with_a_bad_signature_is_refused(cashew_trade, exporter, window, relay, callback_client):
    declaration = sent(cashew_trade, exporter)
    callback = relay.wait(declaration.conversation_id, 1)[0]
    tampered = callback["body"].replace(b"<FunctionCode>", b"<FunctionCode>1", 1)
    assert replay(callback_client, callback, body=tampered).status_code == 401
    assert replay(callback_client, callback, headers={"X-ISMIT-Signature": "0" * 64}).status_code == 401
    assert replay(callback_client, callback, headers={"X-ISMIT-Client": "someone-else"}).status_code == 401
    assert replay(callback_client, callback, headers={"X-ISMIT-Timestamp": "1000000000"}).status_code == 401
    unsigned = {
        **callback,
        "headers": {k: v for k, v in callback["headers"].items() if not k.startswith("X-ISMIT")},
    }
    response = replay(callback_client, unsigned)
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert not DeclarationEvent.objects.exists()
    elsewhere = {**callback, "path": "/customs/callback/99/"}
    assert replay(callback_client, elsewhere).status_code == 404
    assert replay(callback_client, callback).status_code == 204  # the genuine one, untouched
    assert DeclarationEvent.objects.count() == 1


def test_polling_recovers_the_callbacks_that_were_dropped(cashew_trade, exporter, window, sim, relay, faults):
    from ismit.customs.tasks import poll_all

    faults(callback_drop_rate=1.0)
    declaration = sent(cashew_trade, exporter)
    found = sim.wait_notifications(declaration.conversation_id, len(FLOW))
    assert len(found) == len(FLOW)
    assert relay.take(declaration.conversation_id) == []
    assert poll_all() >= len(FLOW)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED
    events = DeclarationEvent.objects.filter(declaration=declaration)
    assert events.count() == len(FLOW) and {e.via for e in events} == {"poll"}
    window.refresh_from_db()
    assert window.poll_after >= max(n["sequence"] for n in found) and window.polled_at
    assert poll_all() == 0  # nothing new: the cursor moved on


def test_a_poll_passes_over_what_callbacks_brought_with_one_lookup_a_page(
    cashew_trade, exporter, window, sim, relay, callback_client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ismit.customs import answers
    from ismit.customs.models import SingleWindow

    declaration = sent(cashew_trade, exporter)
    callbacks = sorted(relay.wait(declaration.conversation_id, len(FLOW)), key=sequence_of)
    for callback in callbacks:
        assert replay(callback_client, callback).status_code == 204
    # The window's stream read again from this declaration's first answer (the simulator serves others).
    SingleWindow.objects.filter(pk=window.pk).update(poll_after=sequence_of(callbacks[0]) - 1)
    with CaptureQueriesContext(connection) as during:
        assert answers.poll_window(SingleWindow.objects.get(pk=window.pk)) >= len(FLOW)
    lookups = [q for q in during.captured_queries if "customs_exchangedmessage" in q["sql"]]
    assert len(lookups) == 1, [q["sql"][:120] for q in lookups]  # no write, no read a notification
    events = DeclarationEvent.objects.filter(declaration=declaration)
    assert events.count() == len(FLOW) and {(e.via, e.arrivals) for e in events} == {("callback", 1)}
