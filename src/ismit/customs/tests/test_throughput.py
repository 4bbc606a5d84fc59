"""What a submission and an answer cost the database: no business transaction waits for the audit chain, the
compliance check runs once per submission, an answer takes a bounded number of statements, a notification
read again is not parsed again, and one poll of a window runs at a time."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ismit import outbox
from ismit.customs import answers
from ismit.customs.models import (
    Declaration,
    DeclarationEvent,
    DeclarationStatus,
    ExchangedMessage,
    SingleWindow,
)
from ismit.customs.services import submit_declaration
from ismit.customs.tests.support import deliver, replay, sequence_of

pytestmark = pytest.mark.django_db

# A submission: check, signed document, declaration, outbox, steps, audit (on PostgreSQL, the lock with what
# the write needs in one statement, and the write in one).
SUBMISSION_STATEMENTS = 23 if connection.vendor == "postgresql" else 31
# One answer by callback: stored (in one statement on PostgreSQL; elsewhere a read and two inserts), applied,
# checklist, notifications, audit, and the e-mails as one outbox message with its audit event.
ANSWER_STATEMENTS = 17 if connection.vendor == "postgresql" else 19
# A delivery (the message read by the test first): claim with the declaration, the send noted with its
# request, answer and audit event, attempt.
DELIVERY_STATEMENTS = 4
DELIVERY_STATEMENTS_SQLITE = 13  # no single-statement writes there: the record and attempt take transactions


def statements(context: CaptureQueriesContext, text: str) -> list[str]:
    return [q["sql"] for q in context.captured_queries if text in q["sql"]]


def test_a_submission_does_not_wait_for_the_audit_chain_and_checks_once(
    cashew_trade, exporter, offline_window
):
    with CaptureQueriesContext(connection) as submitted:
        declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert declaration.status == DeclarationStatus.QUEUED
    # Its audit events are written with it, and linked into the chain only after it commits.
    assert statements(submitted, "audit_auditevent") and not statements(submitted, "audit_chainhead")
    # The compliance check reads the rules once (issue_documents is told it was run).
    assert len(statements(submitted, 'FROM "compliance_rule"')) == 1
    assert len(submitted.captured_queries) <= SUBMISSION_STATEMENTS, len(submitted.captured_queries)
    if connection.vendor == "postgresql":  # the write in one statement (lib.rows.deferred)
        (write,) = statements(submitted, 'INSERT INTO "customs_declaration"')
        for table in (
            "documents_issueddocument",
            "outbox_outboxmessage",
            "audit_auditevent",
            "trades_checkliststep",
        ):
            assert f'"{table}"' in write, table


def test_a_delivery_takes_few_statements(cashew_trade, exporter, window):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    with CaptureQueriesContext(connection) as delivered:
        assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SENT and declaration.conversation_id
    limit = DELIVERY_STATEMENTS if connection.vendor == "postgresql" else DELIVERY_STATEMENTS_SQLITE
    assert len(delivered.captured_queries) <= limit, "\n".join(
        q["sql"][:160] for q in delivered.captured_queries
    )


def test_an_answer_takes_few_statements_and_no_audit_lock(cashew_trade, exporter, window, relay, client):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    first, second, *_ = sorted(relay.wait(declaration.conversation_id, 2), key=sequence_of)
    assert replay(client, first).status_code == 204
    with CaptureQueriesContext(connection) as answered:
        assert replay(client, second).status_code == 204
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.ACCEPTED and declaration.mrn
    assert not statements(answered, "audit_chainhead")
    assert len(answered.captured_queries) <= ANSWER_STATEMENTS, "\n".join(
        q["sql"][:160] for q in answered.captured_queries
    )


def test_a_notification_stored_already_is_not_parsed_again(
    cashew_trade, exporter, window, relay, client, caplog
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    callback = relay.wait(declaration.conversation_id, 1)[0]
    assert replay(client, callback).status_code == 204
    stored = DeclarationEvent.objects.get(notification_id=callback["headers"]["X-Notification-ID"])
    # Polling reads it again; its body is not read (an unreadable one would be logged) nor stored twice.
    incoming = answers.Incoming(
        notification_id=stored.notification_id,
        conversation_id=declaration.conversation_id,
        sequence=stored.sequence,
        content_type="application/xml",
        body=b"<not a notification",
        headers={},
        via="poll",
    )
    with caplog.at_level(logging.WARNING, logger="ismit.customs"):
        again = answers.receive(SingleWindow.objects.get(pk=window.pk), incoming)
    assert again == stored and "could not be read" not in caplog.text
    stored.refresh_from_db()
    assert (
        stored.arrivals == 1
        and DeclarationEvent.objects.filter(notification_id=stored.notification_id).count() == 1
    )


def test_a_notification_stored_by_another_arrival_meanwhile_is_refused_by_its_key_and_counted(
    cashew_trade, exporter, window, relay, client
):
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    assert deliver(declaration) == "delivered"
    declaration.refresh_from_db()
    callback = relay.wait(declaration.conversation_id, 1)[0]
    assert replay(client, callback).status_code == 204
    stored = DeclarationEvent.objects.get(notification_id=callback["headers"]["X-Notification-ID"])
    assert stored.declaration_id == declaration.pk
    # Read as not stored yet (its twin arrived in between): the unique key refuses the second copy.
    incoming = answers.Incoming(
        notification_id=stored.notification_id,
        conversation_id=declaration.conversation_id,
        sequence=stored.sequence,
        content_type="application/xml",
        body=callback["body"],
        headers={"Content-Type": "application/xml"},
        via="callback",
    )
    again = answers.receive(SingleWindow.objects.get(pk=window.pk), incoming, stored=False)
    assert again == stored
    stored.refresh_from_db()
    assert stored.arrivals == 2
    assert ExchangedMessage.objects.filter(notification_id=stored.notification_id).count() == 1
    assert DeclarationEvent.objects.filter(notification_id=stored.notification_id).count() == 1


def test_one_poll_of_a_window_at_a_time(offline_window):
    # Another poll holds the window: this one reads nothing (it does not even call the window).
    SingleWindow.objects.filter(pk=offline_window.pk).update(
        polling_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert answers.poll_window(SingleWindow.objects.get(pk=offline_window.pk)) == 0
    # Its hold has expired (its worker died): this one polls (and finds the window down), then lets go.
    SingleWindow.objects.filter(pk=offline_window.pk).update(
        polling_until=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(outbox.Retry):
        answers.poll_window(SingleWindow.objects.get(pk=offline_window.pk))
    assert SingleWindow.objects.get(pk=offline_window.pk).polling_until is None


def test_a_poll_whose_worker_died_holds_the_window_for_one_request_timeout_and_a_margin(offline_window):
    SingleWindow.objects.filter(pk=offline_window.pk).update(timeout=5)
    before = timezone.now()
    assert answers._take_poll(SingleWindow.objects.get(pk=offline_window.pk))  # and its worker is killed
    held = SingleWindow.objects.get(pk=offline_window.pk).polling_until - before
    assert dt.timedelta(seconds=5 + answers.POLL_PAGE_MARGIN_S) <= held < dt.timedelta(seconds=40)


def test_the_endpoint_of_a_window_is_looked_up_once(offline_window):
    window = SingleWindow.objects.get(pk=offline_window.pk)
    assert answers.endpoint_of(window) == window
    with CaptureQueriesContext(connection) as again:
        assert answers.endpoint_of(window) is window
    assert not again.captured_queries
    # A second row of the same client (its EDIFACT format) stands for the same endpoint: the first row.
    edifact = SingleWindow.objects.create(
        name="CI EDIFACT",
        country="CI",
        procedure="export",
        connector="edifact",
        base_url=window.base_url,
        client_id=window.client_id,
        secret_sealed=window.secret_sealed,
    )
    assert answers.endpoint_of(edifact) == window
    assert not Declaration.objects.exists()


@pytest.mark.parametrize("read", ["_WINDOW_ROWS", "_STORED_ROWS"])
def test_a_notification_is_looked_up_in_its_unique_index_whatever_plan_the_database_keeps(
    offline_window, read
):
    """Each answer looks its notification id up. The unique index of notifications is partial (outgoing
    messages have none), and a prepared statement's generic plan — what PostgreSQL keeps after a few runs —
    uses it only if the query itself rules the empty id out: otherwise it reads every message of the window,
    a read that grows with the table."""
    from psycopg.sql import Literal

    from ismit.customs import queries

    sql, params = getattr(queries, read).statement(window_id=offline_window.pk, notification_id="n-1")
    assert "<> ''" in sql and "" not in params
    if connection.vendor != "postgresql":
        return
    numbered = sql
    for n in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${n}", 1)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        types = ["text" if isinstance(p, str) else "bigint" for p in params]
        cursor.execute(f"PREPARE notification_read ({', '.join(types)}) AS {numbered}")
        try:
            # A utility statement takes no bound parameters: the values as literals.
            arguments = ", ".join(Literal(p).as_string(connection.connection) for p in params)
            cursor.execute(f"EXPLAIN EXECUTE notification_read({arguments})")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE notification_read")
    assert "one_message_per_notification" in plan, plan
