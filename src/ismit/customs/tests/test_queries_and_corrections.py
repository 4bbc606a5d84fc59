"""Customs asks a question (the reference single window queries vague goods descriptions); the MSME or its
broker answers, and the answer goes as a correction referencing the original declaration."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from ismit.customs.models import CustomsQuery, Declaration, DeclarationStatus, ExchangedMessage, QueryStatus
from ismit.customs.services import DeclarationConflict, answer_query, submit_declaration
from ismit.customs.tests.support import deliver, follow, make_window
from ismit.documents.edifact_directory import assert_valid
from ismit.trades.models import GoodsItem
from ismit.trades.services import appoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def vague_trade(cashew_trade):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(description="Parts")
    return cashew_trade


@pytest.fixture
def callback_client():
    return Client(enforce_csrf_checks=True)


def queried(trade, actor, relay, client) -> tuple[Declaration, CustomsQuery]:
    declaration = submit_declaration(actor=actor, trade=trade)
    assert deliver(declaration) == "delivered"
    follow(client, relay, declaration, "query")
    declaration.refresh_from_db()
    return declaration, CustomsQuery.objects.get(declaration=declaration)


def correction_record(sim, correction: Declaration) -> dict:
    return next(
        r for r in sim.records("declaration")["records"] if r["idempotency_key"] == correction.idempotency_key
    )


def test_a_query_becomes_a_task_and_the_answer_a_correction_of_the_original(
    vague_trade, exporter, window, sim, relay, callback_client, cast
):
    original, query = queried(vague_trade, exporter, relay, callback_client)
    assert original.status == DeclarationStatus.QUERY and original.mrn
    assert query.status == QueryStatus.OPEN and query.item_no == 1
    assert "Goods item 1" in query.text and query.limit_at is not None
    assert query.organisation == cast.msme and query.trade == vague_trade

    correction = answer_query(
        actor=exporter,
        query=query,
        answer="Spare parts of cashew shelling machines, steel, for our own plant.",
    )
    assert correction.corrects == original and correction.version == 2
    assert correction.status == DeclarationStatus.QUEUED
    assert correction.conversation_id == original.conversation_id and correction.mrn == original.mrn
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED and query.correction == correction
    assert query.answered_by == cast.exporter and query.answered_by_organisation == cast.msme
    assert correction.document.version == 2 and correction.document.supersedes == original.document

    assert deliver(correction) == "delivered"
    request = ExchangedMessage.objects.get(declaration=correction, kind="request")
    assert request.headers["X-Correction-Of"] == original.conversation_id
    body = request.read()
    assert b"<StatementTypeCode>AES</StatementTypeCode>" in body and b"shelling machines" in body
    record = correction_record(sim, correction)
    assert record["correction_of"] == original.conversation_id
    assert record["conversation_id"] == original.conversation_id

    follow(callback_client, relay, correction, "goods_exited")
    correction.refresh_from_db()
    original.refresh_from_db()
    assert correction.status == DeclarationStatus.GOODS_EXITED
    assert original.status == DeclarationStatus.QUERY  # the queried version stays as it was answered
    assert correction.events.filter(applied=True).exists()


def test_correcting_the_goods_description_answers_the_query(
    vague_trade, exporter, window, relay, callback_client
):
    _original, query = queried(vague_trade, exporter, relay, callback_client)
    correction = answer_query(
        actor=exporter, query=query, answer="", description="Cashew kernels W240, shelled"
    )
    assert GoodsItem.objects.get(trade=vague_trade, line_no=1).description == "Cashew kernels W240, shelled"
    assert deliver(correction) == "delivered"
    assert b"AES" not in ExchangedMessage.objects.get(declaration=correction, kind="request").read()
    follow(callback_client, relay, correction, "goods_exited")


def test_a_correction_that_does_not_answer_is_queried_again(
    vague_trade, exporter, window, relay, callback_client
):
    _original, query = queried(vague_trade, exporter, relay, callback_client)
    correction = answer_query(actor=exporter, query=query, answer="", description="Goods")
    deliver(correction)
    follow(callback_client, relay, correction, "query")
    again = CustomsQuery.objects.get(declaration=correction)
    assert again.status == QueryStatus.OPEN and again.pk != query.pk
    third = answer_query(
        actor=exporter, query=again, answer="Steel spare parts for cashew shelling machines."
    )
    assert third.corrects == correction and third.version == 3
    deliver(third)
    follow(callback_client, relay, third, "goods_exited")


def test_a_query_is_answered_once_and_only_while_customs_waits(
    vague_trade, exporter, window, relay, callback_client
):
    _original, query = queried(vague_trade, exporter, relay, callback_client)
    with pytest.raises(ValidationError):
        answer_query(actor=exporter, query=query, answer="   ")
    answer_query(actor=exporter, query=query, answer="Spare parts of machines.")
    with pytest.raises(DeclarationConflict):
        answer_query(actor=exporter, query=query, answer="Again")
    assert Declaration.objects.filter(trade=vague_trade).count() == 2


def test_the_broker_answers_but_only_the_owner_amends_the_trade(
    vague_trade, exporter, broker, window, relay, callback_client, cast
):
    appoint(actor=exporter, trade=vague_trade, organisation=cast.broker_org, scope="customs")
    _original, query = queried(vague_trade, broker, relay, callback_client)
    assert CustomsQuery.objects.visible_to(broker).filter(pk=query.pk).exists()
    with pytest.raises(PermissionDenied):
        answer_query(actor=broker, query=query, answer="", description="Cashew kernels")
    correction = answer_query(actor=broker, query=query, answer="Spare parts of cashew shelling machines.")
    assert correction.submitted_by_organisation == cast.broker_org
    from ismit.accounts.actors import actor_for

    with pytest.raises(PermissionDenied):
        answer_query(actor=actor_for(cast.viewer), query=query, answer="x")


def test_an_edifact_declaration_is_answered_by_cusres_and_corrected_with_an_explanation(
    vague_trade, exporter, window, sim, relay, callback_client
):
    window.active = False
    window.save()
    edifact = make_window(sim, pk=2, connector="edifact")
    original, query = queried(vague_trade, exporter, relay, callback_client)
    assert original.window == edifact and original.channel == "edifact"
    assert original.mrn and query.text and query.item_no == 1
    assert ExchangedMessage.objects.filter(declaration=original, kind="notification").first().window_id == 1

    correction = answer_query(actor=exporter, query=query, answer="Spare parts of cashew shelling machines.")
    assert deliver(correction) == "delivered"
    body = ExchangedMessage.objects.get(declaration=correction, kind="request").read()
    assert b"FTX+ACB+++Spare parts of cashew shelling machines." in body
    assert_valid(body)  # still a valid D96A interchange, counts and all
    follow(callback_client, relay, correction, "goods_exited")
