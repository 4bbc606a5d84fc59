"""JSON answers (FX settlement reports, VAT refund claims) are handed, once each, to the handler their kind
registered (the finance app registers its own at start)."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from ismit.customs import answers
from ismit.customs.models import ExchangedMessage
from ismit.customs.tests.support import CLIENT, SECRET
from ismit.lib import hmac_auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []
    previous = answers.answer_handler("test_claim")
    answers.register_answer_handler(
        "test_claim", lambda window, payload, nid: calls.append((window.pk, payload, nid))
    )
    yield calls
    answers._HANDLERS.pop("test_claim", None)
    if previous is not None:
        answers.register_answer_handler("test_claim", previous)


def signed_post(client, path, body, **headers):
    auth = hmac_auth.sign_request(SECRET, "POST", path, body, int(time.time()), client_id=CLIENT)
    return client.generic("POST", path, body, content_type="application/json", headers={**auth, **headers})


def test_a_json_answer_goes_once_to_the_handler_of_its_kind(offline_window, received):
    body = json.dumps({"kind": "test_claim", "conversation_id": "c1", "status": "accepted"}).encode()
    path = f"/customs/callback/{offline_window.pk}/"
    headers = {"X-Notification-ID": "n-1", "X-Notification-Sequence": "7", "X-Conversation-ID": "c1"}
    client = Client(enforce_csrf_checks=True)
    assert signed_post(client, path, body, **headers).status_code == 204
    assert signed_post(client, path, body, **headers).status_code == 204  # a duplicate
    assert received == [
        (offline_window.pk, {"kind": "test_claim", "conversation_id": "c1", "status": "accepted"}, "n-1")
    ]
    stored = ExchangedMessage.objects.get(notification_id="n-1")
    assert stored.read() == body and stored.direction == "in"


def test_the_finance_app_registers_its_handlers():
    assert answers.answer_handler("fx_settlement") is not None
    assert answers.answer_handler("vat_refund_claim") is not None
