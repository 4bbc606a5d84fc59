"""API writes that create something honour `Idempotency-Key`: a retried request creates nothing new."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import asdict

import pytest
import time_machine
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from conftest import cashew_trade_data
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.outbox.models import IdempotencyRecord
from ismit.outbox.services import purge_idempotency_records
from ismit.trades.models import Trade

JSON = "application/json"
URL = "/api/v1/trades"


def trade_payload(**overrides) -> dict:
    payload = json.loads(json.dumps(asdict(cashew_trade_data()), cls=DjangoJSONEncoder))
    payload.update(overrides)
    return payload


def headers_for(user, key: str | None = None) -> dict[str, str]:
    _token, secret = create_api_token(user=user, name="ERP")
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def created(client, headers, payload=None, **kwargs):
    body = kwargs.pop("raw", None) or json.dumps(payload or trade_payload())
    return client.post(URL, body, content_type=JSON, headers=headers, **kwargs)


@pytest.mark.django_db
class TestOneRequest:
    def test_a_retry_with_the_same_key_gets_the_same_answer_and_one_trade(self, client, cast):
        headers = headers_for(cast.exporter, "3f1c-erp-order-118")
        first = created(client, headers)
        second = created(client, headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Trade.objects.filter(organisation=cast.msme).count() == 1
        assert AuditEvent.objects.filter(action="trade.created").count() == 1

    def test_the_same_document_spaced_differently_is_the_same_request(self, client, cast):
        headers = headers_for(cast.exporter, "k-1")
        payload = trade_payload()
        first = created(client, headers, raw=json.dumps(payload))
        again = created(client, headers, raw=json.dumps(payload, indent=2, sort_keys=True))
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]

    def test_the_same_key_with_a_different_body_is_refused(self, client, cast):
        headers = headers_for(cast.exporter, "k-2")
        assert created(client, headers).status_code == 201
        refused = created(client, headers, trade_payload(invoice_number="INV-OTHER"))
        assert refused.status_code == 422
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["title"] == "Idempotency-Key reused with a different request"
        assert Trade.objects.filter(organisation=cast.msme).count() == 1

    def test_without_a_key_every_request_creates(self, client, cast):
        headers = headers_for(cast.exporter)
        refs = {created(client, headers).json()["reference"] for _ in range(2)}
        assert len(refs) == 2
        assert Trade.objects.filter(organisation=cast.msme).count() == 2
        assert not IdempotencyRecord.objects.exists()

    def test_keys_belong_to_their_user(self, client, cast):
        mine = created(client, headers_for(cast.exporter, "shared-key"))
        theirs = created(client, headers_for(cast.other, "shared-key"))
        assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
        assert theirs.json()["id"] != mine.json()["id"]

    def test_a_failed_request_does_not_keep_its_key(self, client, cast):
        headers = headers_for(cast.exporter, "k-3")
        failed = created(client, headers, trade_payload(currency="ZZZ"))
        assert failed.status_code == 422
        assert not IdempotencyRecord.objects.exists()
        fixed = created(client, headers)
        assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed

    def test_an_overlong_key_is_refused(self, client, cast):
        response = created(client, headers_for(cast.exporter, "k" * 256))
        assert response.status_code == 422
        assert not Trade.objects.exists()

    def test_the_openapi_document_describes_the_header(self, client, cast):
        client.force_login(cast.exporter)
        spec = client.get("/api/v1/openapi.json").json()
        names = [p["name"] for p in spec["paths"][URL]["post"]["parameters"]]
        assert "Idempotency-Key" in names

    def test_records_older_than_a_day_are_purged(self, client, cast):
        now = timezone.now()
        with time_machine.travel(now - dt.timedelta(hours=25), tick=False):
            created(client, headers_for(cast.exporter, "old"))
        created(client, headers_for(cast.exporter, "new"))
        assert purge_idempotency_records() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_the_same_time_create_one_trade(cast):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers itself; the unique constraint matters on PostgreSQL")
    headers = headers_for(cast.exporter, "burst")
    body = json.dumps(trade_payload())
    barrier = threading.Barrier(4)
    answers = []

    def post() -> None:
        try:
            barrier.wait()
            answers.append(Client().post(URL, body, content_type=JSON, headers=headers))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert Trade.objects.filter(organisation=cast.msme).count() == 1
