"""Test support of the customs app: the reference single window as a real process, a real HTTP server that
takes its callbacks, and helpers that drive a declaration through the real pieces.

    sim = Sim(tmp, relay.url(window_id))     # `ismit nsw-sim` (ismit.nsw_sim.tests.support.Sim)
    relay = Relay()                           # takes the window's callbacks, keeps them byte for byte
    deliver(declaration)                      # the outbox delivery, in this process (no worker)
    replay(client, callback)                  # one callback, as received, through the platform's view
    follow(client, relay, declaration, until) # replay a conversation's callbacks until a status

The relay exists because the test database lives in the test's own transaction: the callbacks are taken
over real HTTP from the window, then posted to the platform's callback view (signature and all) from the
test's thread. An end-to-end test with a platform server (`ismit serve`) on its own database can point the
window's callback URL straight at it instead (see tests/e2e/conftest.py).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ismit.customs.models import Declaration, SingleWindow
from ismit.nsw_sim.tests.support import ADMIN, ADMIN_SECRET, CLIENT, SECRET, Sim  # noqa: F401
from ismit.outbox.models import OutboxMessage
from ismit.outbox.services import deliver_message

HOP_HEADERS = {"content-length", "content-type", "host", "connection", "accept-encoding", "user-agent"}


class Relay:
    """A real HTTP server that answers 204 to every callback and keeps it (path, headers, body)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with relay.lock:
                    relay.calls.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                    )
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, window_id: int) -> str:
        return f"http://127.0.0.1:{self.port}/customs/callback/{window_id}/"

    def take(self, conversation_id: str) -> list[dict]:
        """The conversation's callbacks received so far (removed from the relay), in arrival order."""
        with self.lock:
            mine = [c for c in self.calls if c["headers"].get("X-Conversation-ID") == conversation_id]
            self.calls = [c for c in self.calls if c not in mine]
        return mine

    def give_back(self, callbacks: list[dict]) -> None:
        """Callbacks taken but not replayed, to be taken again first."""
        with self.lock:
            self.calls = [*callbacks, *self.calls]

    def wait(self, conversation_id: str, count: int, timeout: float = 20) -> list[dict]:
        """At least `count` callbacks of the conversation (taken), or what came within the timeout."""
        taken: list[dict] = []
        deadline = time.time() + timeout
        while len(taken) < count and time.time() < deadline:
            taken += self.take(conversation_id)
            if len(taken) < count:
                time.sleep(0.05)
        return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def status_of(callback: dict) -> str:
    return callback["headers"].get("X-Notification-Status", "")


def sequence_of(callback: dict) -> int:
    return int(callback["headers"]["X-Notification-Sequence"])


def replay(client, callback: dict, *, body: bytes | None = None, headers: dict | None = None):
    """Post one callback, as the window sent it, to the platform's callback view."""
    sent = {k: v for k, v in callback["headers"].items() if k.lower() not in HOP_HEADERS}
    sent.update(headers or {})
    return client.generic(
        "POST",
        callback["path"],
        callback["body"] if body is None else body,
        content_type=callback["headers"].get("Content-Type", "application/xml"),
        headers=sent,
    )


def make_window(
    sim: Sim, *, pk: int = 1, connector: str = "wco-xml", country: str = "CI", **extra
) -> SingleWindow:
    window = SingleWindow(
        pk=pk,
        name=f"Guichet unique {country} ({connector})",
        country=country,
        procedure="export",
        connector=connector,
        base_url=f"http://127.0.0.1:{sim.port}",
        client_id=CLIENT,
        timeout=extra.pop("timeout", 10.0),
        **extra,
    )
    window.set_secret(SECRET)
    # Polling starts after what earlier tests left in the (shared) simulator.
    window.poll_after = max((n["sequence"] for n in sim.notifications(0, 1000)), default=0)
    window.save()
    return window


def outbox_message(declaration: Declaration) -> OutboxMessage:
    return OutboxMessage.objects.get(idempotency_key=declaration.idempotency_key)


def deliver(declaration: Declaration) -> str | None:
    """What a worker does with the declaration's outbox message, in this process."""
    return deliver_message(message_id=outbox_message(declaration).pk, worker="test")


def follow(client, relay: Relay, declaration: Declaration, until: str, timeout: float = 20) -> list[dict]:
    """Replay the conversation's callbacks, in sequence order, until the declaration (its newest version) has
    the status `until`; returns the callbacks replayed (those that came after are left in the relay)."""
    declaration.refresh_from_db()
    conversation = declaration.conversation_id
    replayed: list[dict] = []

    def head() -> Declaration:
        return Declaration.objects.filter(conversation_id=conversation).order_by("-version").first()

    deadline = time.time() + timeout
    while time.time() < deadline:
        pending = sorted(relay.take(conversation), key=sequence_of)
        while pending:
            callback = pending.pop(0)
            response = replay(client, callback)
            assert response.status_code == 204, response.content
            replayed.append(callback)
            if head().status == until:
                relay.give_back(pending)
                return replayed
        if head().status == until:
            return replayed
        time.sleep(0.05)
    raise AssertionError(f"declaration {head().pk} is {head().status}, not {until}, after {timeout} s")


def seed_query(actor, trade, window: SingleWindow | None = None):
    """A declaration of `trade` that customs has queried, made without a running window (for tests that
    need the rows, e.g. the isolation tests): submitted through the service, noted as sent, then the
    window's query notification received through answers.receive (and applied). Returns (declaration, query,
    message).
    `window` defaults to a window for the trade's country that nobody listens on."""
    import uuid

    from django.utils import timezone

    from ismit.config.celery import app
    from ismit.customs import answers
    from ismit.customs.models import DeclarationStatus
    from ismit.customs.services import submit_declaration
    from ismit.nsw_sim import messages

    if window is None:
        window = SingleWindow.objects.filter(
            country=trade.place_of_loading.country, procedure="export"
        ).first()
    if window is None:
        window = SingleWindow(
            name="Guichet unique (offline)",
            country=trade.place_of_loading.country,
            procedure="export",
            connector="wco-xml",
            base_url="http://127.0.0.1:9",
            client_id=CLIENT,
            timeout=2,
        )
        window.set_secret(SECRET)
        window.save()
    declaration = submit_declaration(actor=actor, trade=trade)
    conversation = uuid.uuid4().hex
    Declaration.objects.filter(pk=declaration.pk).update(
        conversation_id=conversation, status=DeclarationStatus.SENT, sent_at=timezone.now()
    )
    step = {"status": "query", "text": "Goods item 1: describe the goods precisely.", "item": 1}
    notification_id = uuid.uuid4().hex
    body = messages.render_res(
        {"lrn": declaration.lrn, "mrn": "", "version": 1, "country": window.country},
        step,
        notification_id=notification_id,
        issued_at=timezone.now(),
        agency="Customs",
    )
    # Applied here and now, as a worker would (the task runs in this process, never through a broker).
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        event = answers.receive(
            window,
            answers.Incoming(
                notification_id=notification_id,
                conversation_id=conversation,
                sequence=1,
                content_type="application/xml",
                body=body,
                headers={"Content-Type": "application/xml"},
                via="callback",
            ),
        )
    finally:
        app.conf.task_always_eager = eager
    declaration.refresh_from_db()
    event.refresh_from_db()
    return declaration, event.query, event.message
