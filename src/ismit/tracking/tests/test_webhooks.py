"""Deliveries to subscribers and webhooks: signed as DCSA says, retried through the outbox, logged; each
user's choice of alerts honoured. The receiver is a small HTTP server in the test (a real socket)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Notification
from ismit.audit.models import AuditEvent
from ismit.outbox.models import OutboxMessage
from ismit.outbox.services import deliver_message
from ismit.tracking import services
from ismit.tracking.models import AlertKind, AlertPreference, Delivery
from ismit.tracking.tests.support import bearer, event, make_shipment, voyage

pytestmark = pytest.mark.django_db
SECRET = "a-shared-secret-of-the-subscriber"


class Receiver:
    """Answers the statuses queued in `answers` (then 204), keeping what it received."""

    def __init__(self):
        self.received: list[tuple[object, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signed_by(secret: str, headers: dict, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["Notification-Signature"], expected)


def test_subscribers_get_signed_events_retried_after_a_failure(client, cast, receiver):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    created = client.post(
        "/dcsa/tnt/v3/event-subscriptions",
        {"callbackUrl": receiver.url, "secret": SECRET, "eventTypes": ["TRANSPORT"]},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.content
    sub_id = created.json()["subscriptionID"]
    assert [
        s["subscriptionID"] for s in client.get("/dcsa/tnt/v3/event-subscriptions", headers=headers).json()
    ] == [sub_id]
    assert (
        client.get(f"/dcsa/tnt/v3/event-subscriptions/{sub_id}", headers=bearer(cast.other)).status_code
        == 404
    )
    client.post("/dcsa/tnt/v3/events", voyage(), content_type="application/json", headers=headers)
    message = OutboxMessage.objects.get(topic=services.NOTIFICATION_TOPIC)
    receiver.answers = [503]
    assert deliver_message(message_id=message.pk) == "retry"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 503)
    message.refresh_from_db()
    with time_machine.travel(message.next_attempt_at + dt.timedelta(seconds=1)):
        assert deliver_message(message_id=message.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.received) == 2
    sent_headers, body = receiver.received[-1]
    assert signed_by(SECRET, sent_headers, body)
    assert not signed_by("another-secret-entirely", sent_headers, body)
    assert sent_headers["Subscription-ID"] == sub_id and sent_headers["API-Version"] == "3.0.0"
    # only the transport events, as the filter asks
    assert [e["eventID"] for e in json.loads(body)["events"]] == ["e-depa", "e-eta-1", "e-eta-2"]
    assert receiver.received[0][1] == body  # the retry sends the same bytes
    # deleting the subscription stops it
    assert client.delete(f"/dcsa/tnt/v3/event-subscriptions/{sub_id}", headers=headers).status_code == 204
    assert client.get("/dcsa/tnt/v3/event-subscriptions", headers=headers).json() == []


def test_a_subscription_changes_its_filters_and_its_secret_and_deliveries_follow(client, cast, receiver):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    sub = services.create_subscription(
        actor=actor_for(cast.exporter),
        organisation=cast.msme,
        callback_url="https://old.example/dcsa",
        secret=SECRET,
        filters={"eventTypes": ["TRANSPORT"]},
    )
    url = f"/dcsa/tnt/v3/event-subscriptions/{sub.subscription_id}"
    changed = client.put(
        url,
        {
            "subscriptionID": str(sub.subscription_id),
            "callbackUrl": receiver.url,
            "eventTypes": ["EQUIPMENT"],
        },
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {
        "subscriptionID": str(sub.subscription_id),
        "callbackUrl": receiver.url,
        "eventTypes": ["EQUIPMENT"],
    }
    new_secret = "the-subscriber-rotated-its-secret"
    rotated = client.put(
        f"{url}/secret", {"secret": new_secret}, content_type="application/json", headers=headers
    )
    assert rotated.status_code == 204, rotated.content
    client.post("/dcsa/tnt/v3/events", voyage(), content_type="application/json", headers=headers)
    message = OutboxMessage.objects.get(topic=services.NOTIFICATION_TOPIC)
    assert deliver_message(message_id=message.pk) == "delivered"
    sent_headers, body = receiver.received[-1]
    assert signed_by(new_secret, sent_headers, body) and not signed_by(SECRET, sent_headers, body)
    assert [e["eventID"] for e in json.loads(body)["events"]] == ["e-gtin", "e-load"]
    actions = list(
        AuditEvent.objects.filter(object_id=str(sub.pk), action__startswith="tracking.subscription")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "tracking.subscription_created",
        "tracking.subscription_updated",
        "tracking.subscription_secret_changed",
    ]


@pytest.mark.parametrize(
    ("suffix", "body", "field"),
    [
        (
            "",
            {"subscriptionID": "00000000-0000-0000-0000-000000000000", "callbackUrl": "https://a.example/"},
            "$.subscriptionID",
        ),
        ("", {"callbackUrl": "https://a.example/", "secret": "a-secret-in-the-wrong-place"}, "$.secret"),
        ("", {"callbackUrl": "https://a.example/", "colour": "blue"}, "colour"),
        ("", {"callbackUrl": "not a url"}, "callbackUrl"),
        ("/secret", {"secret": "short"}, "secret"),
        ("/secret", ["not", "an", "object"], "$"),
    ],
)
def test_a_bad_change_of_a_subscription_is_refused_and_changes_nothing(client, cast, suffix, body, field):
    sub = services.create_subscription(
        actor=actor_for(cast.exporter),
        organisation=cast.msme,
        callback_url="https://keep.example/dcsa",
        secret=SECRET,
        filters={},
    )
    response = client.put(
        f"/dcsa/tnt/v3/event-subscriptions/{sub.subscription_id}{suffix}",
        body,
        content_type="application/json",
        headers=bearer(cast.exporter, cast.msme),
    )
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json()["feedbackElements"])
    sub.refresh_from_db()
    assert (sub.callback_url, sub.filters, sub.secret) == ("https://keep.example/dcsa", {}, SECRET)


def test_a_refusing_receiver_is_given_up_at_once(client, cast, receiver):
    make_shipment(cast.msme)
    actor = actor_for(cast.exporter)
    services.create_subscription(
        actor=actor, organisation=cast.msme, callback_url=receiver.url, secret=SECRET, filters={}
    )
    client.post(
        "/dcsa/tnt/v3/events", voyage()[:1], content_type="application/json", headers=bearer(cast.exporter)
    )
    receiver.answers = [410]
    message = OutboxMessage.objects.get(topic=services.NOTIFICATION_TOPIC)
    assert deliver_message(message_id=message.pk) == "permanent"
    assert Delivery.objects.get().status == "dead"


def test_alerts_reach_webhooks_and_members_as_each_chose(client, cast, receiver):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    hook = client.post(
        "/api/v1/tracking/webhooks",
        {"url": receiver.url, "secret": SECRET, "kinds": ["delay"]},
        content_type="application/json",
        headers=headers,
    )
    assert hook.status_code == 201, hook.content
    # the colleague wants delays in the platform but not by e-mail; the viewer wants none
    AlertPreference.objects.create(
        user=cast.colleague, organisation=cast.msme, kind=AlertKind.DELAY, in_app=True, email=False
    )
    answer = client.put(
        "/api/v1/tracking/alert-preferences",
        {"delay": {"in_app": False, "email": False}},
        content_type="application/json",
        headers=bearer(cast.viewer, cast.msme),
    )
    assert answer.status_code == 200, answer.content
    assert {p["kind"]: p["in_app"] for p in answer.json()}["delay"] is False
    late = event("e-late", "TRANSPORT", "ARRI", "EST", 72 + 300, updated=90, place="FRMRS")
    client.post("/dcsa/tnt/v3/events", [late], content_type="application/json", headers=headers)
    shipment.refresh_from_db()
    assert shipment.delayed
    told = set(Notification.objects.filter(kind="tracking.delay").values_list("user__email", flat=True))
    assert told == {cast.exporter.email, cast.colleague.email}
    message = OutboxMessage.objects.get(topic=services.NOTIFICATION_TOPIC)
    assert deliver_message(message_id=message.pk) == "delivered"
    sent_headers, body = receiver.received[0]
    assert signed_by(SECRET, sent_headers, body)
    assert json.loads(body)["alert"]["kind"] == "delay"
    log = client.get("/api/v1/tracking/deliveries", headers=headers).json()
    assert [d["status"] for d in log["results"]] == ["delivered"]
    assert client.get("/api/v1/tracking/deliveries", headers=bearer(cast.other)).json()["results"] == []
