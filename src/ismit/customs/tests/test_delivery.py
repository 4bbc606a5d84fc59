"""Delivering a declaration to the reference single window (a real `ismit nsw-sim` process) through the
outbox: signed requests, every message stored with its hash, retries that never send twice."""

from __future__ import annotations

import hashlib

import pytest

from ismit.customs.connectors import WcoXmlConnector
from ismit.customs.models import Declaration, DeclarationStatus, ExchangedMessage
from ismit.customs.queries import delivery_of
from ismit.customs.services import submit_declaration
from ismit.customs.tests.support import deliver, outbox_message
from ismit.outbox import Retry
from ismit.outbox.models import Outcome, Status

pytestmark = pytest.mark.django_db


def record_of(sim, declaration: Declaration) -> dict:
    records = [
        r
        for r in sim.records("declaration")["records"]
        if r["idempotency_key"] == declaration.idempotency_key
    ]
    assert len(records) == 1, records
    return records[0]


def test_a_delivered_declaration_is_sent_once_and_its_conversation_noted(cashew_trade, exporter, window, sim):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert deliver(declaration) == Outcome.DELIVERED

    declaration.refresh_from_db()
    assert declaration.status in (DeclarationStatus.SENT,) and declaration.sent_at is not None
    record = record_of(sim, declaration)
    assert declaration.conversation_id == record["conversation_id"]
    assert record["arrivals"] == 1 and record["lrn"] == cashew_trade.reference
    request, response = ExchangedMessage.objects.filter(declaration=declaration).order_by("id")
    assert (request.direction, request.kind, request.status_code) == ("out", "request", 202)
    assert request.path == "/customs/declarations" and request.idempotency_key == declaration.idempotency_key
    assert request.headers["X-ISMIT-Client"] == "ismit-test" and request.headers["X-ISMIT-Signature"]
    with declaration.document.file.open("rb") as f:
        sent = f.read()
    assert request.read() == sent and request.sha256 == hashlib.sha256(sent).hexdigest()
    assert (response.direction, response.kind) == ("in", "response")
    assert response.sha256 == hashlib.sha256(response.read()).hexdigest()
    assert declaration.conversation_id in response.read().decode()
    assert outbox_message(declaration).status == Status.DELIVERED
    assert delivery_of(declaration) is None


def test_sending_again_with_the_same_key_creates_nothing_at_the_window(cashew_trade, exporter, window, sim):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    deliver(declaration)
    declaration.refresh_from_db()
    body = bytes(outbox_message(declaration).payload)
    again = WcoXmlConnector().send(window, declaration, body, declaration.idempotency_key)
    assert again.conversation_id == declaration.conversation_id
    record = record_of(sim, declaration)
    assert record["arrivals"] == 2


def test_a_window_that_answers_500_is_retried_and_the_page_says_queued(
    cashew_trade, exporter, window, sim, faults
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    faults(intake_error_rate=1.0)
    assert deliver(declaration) == Outcome.RETRY
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.QUEUED
    delivery = delivery_of(declaration)
    assert delivery.retrying and delivery.attempts == 1 and "HTTP 500" in delivery.last_error
    failed = ExchangedMessage.objects.get(declaration=declaration, kind="request")
    assert failed.status_code == 500
    assert not [
        r
        for r in sim.records("declaration")["records"]
        if r["idempotency_key"] == declaration.idempotency_key
    ]

    faults(intake_error_rate=0.0)
    assert deliver(declaration) == Outcome.DELIVERED
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SENT
    assert record_of(sim, declaration)["arrivals"] == 1


def test_a_timeout_is_retried_with_the_same_key_and_the_window_keeps_one_declaration(
    cashew_trade, exporter, window, sim, faults
):
    window.timeout = 0.5
    window.save()
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    faults(intake_timeout_rate=1.0, intake_timeout_seconds=1.5)
    assert deliver(declaration) == Outcome.RETRY
    assert "within 0.5 s" in outbox_message(declaration).last_error
    faults(intake_timeout_rate=0.0)
    assert deliver(declaration) == Outcome.DELIVERED
    record = record_of(sim, declaration)
    assert record["arrivals"] == 2  # the window had it the first time: the retry only counted
    declaration.refresh_from_db()
    assert declaration.conversation_id == record["conversation_id"]


def test_a_window_that_cannot_be_reached_is_retried_then_the_declaration_fails(
    cashew_trade, exporter, offline_window, settings
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    for _ in range(settings.OUTBOX_MAX_ATTEMPTS - 1):
        assert deliver(declaration) == Outcome.RETRY
        declaration.refresh_from_db()
        assert declaration.status == DeclarationStatus.QUEUED
    assert deliver(declaration) == Outcome.RETRY  # the last attempt: the outbox gives up
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.FAILED
    assert outbox_message(declaration).status == Status.DEAD
    assert "127.0.0.1:9" in declaration.reasons[0]["text"]
    errors = ExchangedMessage.objects.filter(declaration=declaration, kind="request").values_list(
        "error", flat=True
    )
    assert len(errors) == settings.OUTBOX_MAX_ATTEMPTS and all(errors)


def test_a_refusal_of_the_window_is_permanent(cashew_trade, exporter, window, sim):
    window.set_secret("not-the-shared-secret")
    window.save()
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert deliver(declaration) == Outcome.PERMANENT
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.FAILED
    assert outbox_message(declaration).status == Status.DEAD
    assert ExchangedMessage.objects.get(declaration=declaration, kind="request").status_code == 401


def test_connection_errors_raise_retry(offline_window):
    with pytest.raises(Retry):
        WcoXmlConnector().send(offline_window, None, b"<x/>", "key-1")


def test_a_failed_declaration_replayed_by_an_operator_is_sent(
    cashew_trade, exporter, offline_window, sim, cast
):
    from ismit.accounts.actors import actor_for
    from ismit.outbox.services import replay_message

    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    offline_window.set_secret("wrong")
    offline_window.base_url = f"http://127.0.0.1:{sim.port}"
    offline_window.save()
    assert deliver(declaration) == Outcome.PERMANENT  # 401: the secret was wrong
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.FAILED
    offline_window.set_secret("test-secret-0123456789")
    offline_window.client_id = "ismit-test"
    offline_window.save()
    replay_message(actor=actor_for(cast.operator), message=outbox_message(declaration))
    assert deliver(declaration) == Outcome.DELIVERED
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SENT and declaration.conversation_id
    assert declaration.reasons == []
