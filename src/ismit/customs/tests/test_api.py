"""The customs API: submit (idempotently), list, read, answer a query."""

from __future__ import annotations

import pytest
from django.test import Client

from ismit.accounts.services import create_api_token
from ismit.customs.models import Declaration, DeclarationStatus
from ismit.customs.tests.support import deliver, follow
from ismit.outbox.models import OutboxMessage
from ismit.trades.models import GoodsItem
from ismit.trades.services import appoint

pytestmark = pytest.mark.django_db


def api_client(user) -> Client:
    _, key = create_api_token(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {key}"})


def post(client, path, data=None, **headers):
    return client.post(path, data or {}, content_type="application/json", headers=headers)


def test_submit_answers_201_with_the_queued_declaration(cashew_trade, offline_window, cast):
    client = api_client(cast.exporter)
    response = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["version"] == 1 and body["channel"] == "wco-xml"
    assert body["submitted_by_organisation"] == cast.msme.legal_name
    assert body["document_url"] == f"/api/v1/documents/{body['document_id']}/content"
    assert body["delivery"]["state"] == "pending" and body["delivery"]["retrying"] is False
    assert body["events"] == [] and body["queries"] == []


def test_the_submission_answers_what_a_read_of_the_declaration_answers(cashew_trade, offline_window, cast):
    """The answer to a submission is made from what it wrote, not read again: the same as a GET."""
    client = api_client(cast.exporter)
    created = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations", **{"Idempotency-Key": "k-1"})
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/declarations/{created.json()['id']}")
    assert read.status_code == 200 and created.json() == read.json()
    # A declaration an idempotency key finds again (its API record purged) is read as a GET reads it.
    from ismit.outbox.models import IdempotencyRecord

    IdempotencyRecord.objects.all().delete()
    again = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations", **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == read.json()
    assert Declaration.objects.count() == 1


def test_the_appointed_broker_submits_through_the_api_in_its_own_name(
    cashew_trade, offline_window, cast, exporter
):
    appoint(actor=exporter, trade=cashew_trade, organisation=cast.broker_org, scope="customs")
    client = api_client(cast.broker)
    created = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations")
    assert created.status_code == 201, created.content
    assert created.json()["submitted_by_organisation"] == cast.broker_org.legal_name
    assert created.json() == client.get(f"/api/v1/declarations/{created.json()['id']}").json()


def test_a_retried_submit_with_the_same_idempotency_key_creates_nothing(cashew_trade, offline_window, cast):
    client = api_client(cast.exporter)
    first = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations", **{"Idempotency-Key": "k-42"})
    again = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations", **{"Idempotency-Key": "k-42"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Declaration.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_a_second_submit_is_a_conflict_and_check_errors_a_422(cashew_trade, offline_window, cast):
    client = api_client(cast.exporter)
    assert post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations").status_code == 201
    conflict = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations")
    assert conflict.status_code == 409 and conflict["Content-Type"] == "application/problem+json"
    Declaration.objects.update(status=DeclarationStatus.REJECTED)
    GoodsItem.objects.filter(trade=cashew_trade, line_no=2).update(gross_mass_kg=1)
    invalid = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations")
    assert invalid.status_code == 422
    assert {
        "field": "items[1].gross_mass_kg",
        "message": "Line 2: the gross mass is less than the net mass.",
    } in (invalid.json()["errors"])


def test_others_get_404_and_a_read_only_member_403(cashew_trade, offline_window, cast):
    assert post(api_client(cast.other), f"/api/v1/trades/{cashew_trade.pk}/declarations").status_code == 404
    assert post(api_client(cast.broker), f"/api/v1/trades/{cashew_trade.pk}/declarations").status_code == 404
    assert post(api_client(cast.viewer), f"/api/v1/trades/{cashew_trade.pk}/declarations").status_code == 403
    assert not Declaration.objects.exists()


def test_list_and_detail(cashew_trade, offline_window, cast, exporter):
    client = api_client(cast.exporter)
    created = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations").json()
    listed = client.get(f"/api/v1/trades/{cashew_trade.pk}/declarations").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]
    detail = client.get(f"/api/v1/declarations/{created['id']}")
    assert detail.status_code == 200 and detail.json()["lrn"] == cashew_trade.reference
    assert api_client(cast.other).get(f"/api/v1/declarations/{created['id']}").status_code == 404
    assert api_client(cast.other).get(f"/api/v1/trades/{cashew_trade.pk}/declarations").status_code == 404
    # The appointed broker sees the trade's declarations.
    appoint(actor=exporter, trade=cashew_trade, organisation=cast.broker_org, scope="customs")
    assert api_client(cast.broker).get(f"/api/v1/declarations/{created['id']}").status_code == 200


def test_answering_a_query_through_the_api(cashew_trade, window, relay, cast):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(description="Samples")
    client = api_client(cast.exporter)
    created = post(client, f"/api/v1/trades/{cashew_trade.pk}/declarations").json()
    declaration = Declaration.objects.get(pk=created["id"])
    deliver(declaration)
    follow(Client(), relay, declaration, "query")
    detail = client.get(f"/api/v1/declarations/{declaration.pk}").json()
    assert detail["status"] == "query" and detail["mrn"]
    assert [e["status"] for e in detail["events"]] == ["received", "accepted", "query"]
    query = detail["queries"][0]
    assert query["status"] == "open" and query["item_no"] == 1
    assert {m["kind"] for m in detail["messages"]} == {"request", "response", "notification"}

    empty = post(client, query["answer_url"], {"answer": ""})
    assert empty.status_code == 422
    answered = post(client, query["answer_url"], {"answer": "Free samples of W320 cashew kernels, 20 kg."})
    assert answered.status_code == 201, answered.content
    correction = answered.json()
    assert correction["corrects_id"] == declaration.pk and correction["version"] == 2
    assert correction["conversation_id"] == declaration.conversation_id
    assert post(client, query["answer_url"], {"answer": "again"}).status_code == 409
    other = post(api_client(cast.other), query["answer_url"], {"answer": "forged"})
    assert other.status_code == 404


def test_the_list_and_the_tab_read_a_fixed_number_of_queries(
    cashew_trade, offline_window, cast, exporter, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ismit.customs.services import submit_declaration
    from ismit.customs.tests.support import seed_query

    seed_query(exporter, cashew_trade, offline_window)
    api = api_client(cast.exporter)
    page = Client()
    page.force_login(cast.exporter)
    with CaptureQueriesContext(connection) as one_api:
        api.get(f"/api/v1/trades/{cashew_trade.pk}/declarations")
    with CaptureQueriesContext(connection) as one_page:
        page.get(f"/trades/{cashew_trade.pk}/customs/")
    for _ in range(3):
        Declaration.objects.filter(trade=cashew_trade).update(status=DeclarationStatus.REJECTED)
        submit_declaration(actor=exporter, trade=cashew_trade)
    Declaration.objects.filter(trade=cashew_trade).update(sent_at="2026-01-01T00:00:00Z")
    with django_assert_max_num_queries(len(one_api)):
        api.get(f"/api/v1/trades/{cashew_trade.pk}/declarations")
    with django_assert_max_num_queries(len(one_page)):
        page.get(f"/trades/{cashew_trade.pk}/customs/")
