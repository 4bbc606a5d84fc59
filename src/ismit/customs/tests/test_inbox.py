"""The callback as an inbox: it stores the answer and acknowledges it; a worker applies the answers waiting,
every declaration's in order under its lock, many declarations in one transaction whose statements do not
grow with them; nothing stored is lost when no task comes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ismit.accounts.models import Notification
from ismit.audit.models import AuditEvent
from ismit.config.celery import app
from ismit.customs import answers, applying
from ismit.customs.models import Declaration, DeclarationEvent, DeclarationStatus, ExchangedMessage
from ismit.customs.services import submit_declaration
from ismit.customs.tests.support import deliver, replay, sequence_of
from ismit.trades.models import ChecklistStep, StepStatus
from ismit.trades.services import duplicate_trade

pytestmark = pytest.mark.django_db

ANSWERS = 5  # the cashew trade: received, accepted, documents required, cleared, goods exited
# Applying the answers waiting, however many declarations they are about (on SQLite the batch's writes are
# statements of their own). The batch's e-mails: one outbox message and its audit event.
BATCH_STATEMENTS = 9 if connection.vendor == "postgresql" else 13


@pytest.fixture
def stored_only(monkeypatch):
    """No task is sent: the answers wait, as when the broker is down or the web process died."""
    monkeypatch.setattr(answers, "apply_soon", lambda: None)


def declared(trade, actor, count: int, relay) -> tuple[list[Declaration], list[dict]]:
    trades = [
        trade,
        *(duplicate_trade(actor=actor, trade=trade, reference=f"INBOX-{n}") for n in range(count - 1)),
    ]
    declarations, callbacks = [], []
    for each in trades:
        declaration = submit_declaration(actor=actor, trade=each)
        assert deliver(declaration) == "delivered"
        declaration.refresh_from_db()
        declarations.append(declaration)
        callbacks += relay.wait(declaration.conversation_id, ANSWERS)
    return declarations, sorted(callbacks, key=sequence_of)


def applied(client, callbacks) -> CaptureQueriesContext:
    for callback in reversed(callbacks):  # the latest first: they are applied in order all the same
        assert replay(client, callback).status_code == 204
    with CaptureQueriesContext(connection) as batch:
        assert applying.apply_pending_answers() >= 1
    return batch


def test_a_callback_stores_the_answer_and_a_worker_applies_them_in_order(
    cashew_trade, exporter, window, relay, stored_only
):
    (declaration,), callbacks = declared(cashew_trade, exporter, 1, relay)
    client = Client()
    for callback in reversed(callbacks):
        assert replay(client, callback).status_code == 204
    # Acknowledged once stored, body and hash in the row; nothing applied yet.
    events = DeclarationEvent.objects.filter(declaration=declaration)
    assert events.count() == ANSWERS and events.filter(pending=True, applied=False).count() == ANSWERS
    message = ExchangedMessage.objects.get(notification_id=callbacks[0]["headers"]["X-Notification-ID"])
    assert message.read() == callbacks[0]["body"] and message.sha256 == ExchangedMessage.hash(message.read())
    assert Declaration.objects.get(pk=declaration.pk).status == DeclarationStatus.SENT

    assert applying.apply_pending_answers() == 1
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED and declaration.mrn
    # Every answer applied in the window's order (none late, though the latest came first), then audited.
    assert list(events.order_by("sequence").values_list("applied", "pending")) == [(True, False)] * ANSWERS
    changes = [
        e.changes["status"][1]
        for e in AuditEvent.objects.filter(
            action="customs.declaration_answered", object_id=str(declaration.pk)
        ).order_by("pk")
    ]
    assert changes == ["received", "accepted", "documents_required", "cleared", "goods_exited"]
    steps = dict(ChecklistStep.objects.filter(trade=cashew_trade).values_list("code", "status"))
    assert steps["export_declaration"] == steps["export_release"] == steps["departed"] == StepStatus.DONE
    assert Notification.objects.filter(kind="customs.goods_exited").exists()
    # Nothing waits any more; a duplicate stored afterwards is counted, not applied again.
    assert applying.apply_pending_answers() == 0
    assert replay(client, callbacks[-1]).status_code == 204
    assert events.get(sequence=sequence_of(callbacks[-1])).arrivals == 2
    assert not events.filter(pending=True).exists()


def test_the_statements_of_a_batch_do_not_grow_with_its_declarations(
    cashew_trade, exporter, window, relay, stored_only
):
    client = Client()
    declarations, callbacks = declared(cashew_trade, exporter, 3, relay)
    one = applied(
        client, [c for c in callbacks if c["headers"]["X-Conversation-ID"] == declarations[0].conversation_id]
    )
    two = applied(
        client, [c for c in callbacks if c["headers"]["X-Conversation-ID"] != declarations[0].conversation_id]
    )
    assert all(
        Declaration.objects.get(pk=d.pk).status == DeclarationStatus.GOODS_EXITED for d in declarations
    )
    assert len(two.captured_queries) <= len(one.captured_queries) <= BATCH_STATEMENTS, "\n".join(
        q["sql"][:160] for q in two.captured_queries
    )


def test_answers_left_waiting_are_applied_by_the_periodic_pass(
    cashew_trade, exporter, window, relay, stored_only
):
    (declaration,), callbacks = declared(cashew_trade, exporter, 1, relay)
    for callback in callbacks:
        assert replay(Client(), callback).status_code == 204
    assert app.conf.beat_schedule["customs-poll"]["task"] == "ismit.customs.poll"
    app.tasks["ismit.customs.poll"].delay()
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.GOODS_EXITED


def _refuse_updates_of(declaration_id: int) -> None:
    """The database refuses every change of one declaration's row (a trigger), as a failing disk or a
    constraint would: the platform's code runs unchanged."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION ismit_test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; "
                "END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER ismit_test_refuse BEFORE UPDATE ON customs_declaration FOR EACH ROW "
                f"WHEN (NEW.id = {int(declaration_id)}) EXECUTE FUNCTION ismit_test_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER ismit_test_refuse BEFORE UPDATE ON customs_declaration "
                f"WHEN NEW.id = {int(declaration_id)} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )


def _accept_updates_again() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER ismit_test_refuse ON customs_declaration")
            cursor.execute("DROP FUNCTION ismit_test_refuse()")
        else:
            cursor.execute("DROP TRIGGER ismit_test_refuse")


def test_a_declaration_that_cannot_be_applied_keeps_its_answers_and_holds_up_no_other(
    cashew_trade, exporter, window, relay, stored_only
):
    declarations, callbacks = declared(cashew_trade, exporter, 2, relay)
    for callback in callbacks:
        assert replay(Client(), callback).status_code == 204
    broken, fine = declarations
    _refuse_updates_of(broken.pk)
    assert applying.apply_pending_answers() == 1
    assert Declaration.objects.get(pk=fine.pk).status == DeclarationStatus.GOODS_EXITED
    assert Declaration.objects.get(pk=broken.pk).status == DeclarationStatus.SENT
    assert DeclarationEvent.objects.filter(declaration=broken, pending=True).count() == ANSWERS
    # Mended, the next pass applies them.
    _accept_updates_again()
    assert applying.apply_pending_answers() == 1
    assert Declaration.objects.get(pk=broken.pk).status == DeclarationStatus.GOODS_EXITED
