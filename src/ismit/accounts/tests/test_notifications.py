"""Notifications: every member is told, in their language, in the platform and by e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail as django_mail
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from ismit.accounts import mail
from ismit.accounts.actors import actor_for
from ismit.accounts.models import Notification
from ismit.accounts.queries import notifications_for, unread_notification_count
from ismit.accounts.services import mark_notifications_read, notify
from ismit.audit.models import AuditEvent
from ismit.outbox.models import OutboxMessage, Status
from ismit.outbox.services import deliver_message

pytestmark = pytest.mark.django_db


def test_every_member_gets_one_in_their_language_and_an_email_after_commit(
    cast, django_capture_on_commit_callbacks
):
    title = format_lazy(gettext_lazy("{reference}: goods released by customs"), reference="EXP-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notify(
            organisation_id=cast.msme.pk, kind="customs.cleared", title=title, url="/trades/1/customs/"
        )
    assert {n.user for n in rows} == {cast.exporter, cast.colleague, cast.viewer}
    for n in rows:  # each in the member's own language (the exporter reads French)
        with translation.override(n.user.language):
            assert n.title == str(title) and n.read_at is None
    assert next(n for n in rows if n.user == cast.colleague).title == "EXP-1: goods released by customs"
    assert django_mail.outbox == []  # not before the transaction commits
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in django_mail.outbox) == sorted(
        u.email for u in (cast.exporter, cast.colleague, cast.viewer)
    )
    assert next(m for m in django_mail.outbox if m.to == [cast.colleague.email]).subject == (
        "EXP-1: goods released by customs"
    )
    assert django_mail.outbox[0].body.endswith("/trades/1/customs/")


def test_no_email_when_asked_not_to(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.received", title="Received", email=False)
    assert django_mail.outbox == []
    assert Notification.objects.filter(organisation=cast.msme).count() == 3


def test_each_person_sees_their_own_and_marks_them_read(cast):
    notify(organisation_id=cast.msme.pk, kind="k", title="For the exporter's organisation", email=False)
    notify(organisation_id=cast.other_msme.pk, kind="k", title="For another organisation", email=False)
    exporter = actor_for(cast.exporter)
    assert [n.title for n in notifications_for(exporter)] == ["For the exporter's organisation"]
    assert unread_notification_count(exporter) == 1
    assert unread_notification_count(actor_for(cast.stranger)) == 0
    assert mark_notifications_read(user=cast.exporter) == 1
    assert unread_notification_count(exporter) == 0
    assert unread_notification_count(actor_for(cast.colleague)) == 1  # read by each person on their own


def test_the_page_lists_them_and_the_menu_counts_the_unread(cast):
    notify(
        organisation_id=cast.msme.pk,
        kind="k",
        title="Declaration accepted",
        body="MRN 26CI",
        url="/x/",
        email=False,
    )
    client = Client()
    client.force_login(cast.colleague)
    page = client.get("/accounts/notifications/").content.decode()
    assert "Declaration accepted" in page and 'href="/x/"' in page and "data-unread" in page
    home = client.get("/trades/").content.decode()
    assert (
        'href="/accounts/notifications/"' in home
        and '<span class="badge in_progress" title="Unread">1</span>' in home
    )
    response = client.post("/accounts/notifications/", follow=True)
    assert response.status_code == 200 and "data-unread" not in response.content.decode()
    assert 'title="Unread"' not in client.get("/trades/").content.decode()
    other = Client()
    other.force_login(cast.other)
    assert "Declaration accepted" not in other.get("/accounts/notifications/").content.decode()


class SmtpSink:
    """A mail server in a process of its own (smtp_sink.py) on a port of the test's: start(), then
    events() stops it and gives what it saw; started again, it is on the same port."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    def start(self, busy: str = "busy") -> SmtpSink:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-m", "ismit.accounts.tests.smtp_sink", str(self.port), busy],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "READY"
        return self

    def events(self) -> list[str]:
        if self.process is None:
            return []
        self.process.terminate()
        out = self.process.stdout.read().split()
        self.process.wait()
        self.process = None
        return out

    def sent(self, events: list[str]) -> list[str]:
        return sorted(events[i + 1] for i, e in enumerate(events) if e == "MESSAGE")


@pytest.fixture
def smtp_sink(settings):
    """A running mail server; the platform set to send through it."""
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
    settings.OUTBOX_BACKOFF_BASE_S = settings.OUTBOX_BACKOFF_MAX_S = 60  # a retry waits: the test says when
    yield sink
    sink.events()


def mail_messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic=mail.TOPIC).order_by("pk"))


def deliver_now(message: OutboxMessage) -> str | None:
    """Its retry is due (the backoff waited), and a worker delivers it."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    return deliver_message(message_id=message.pk, worker="test")


def test_the_e_mails_of_a_notification_go_through_the_outbox_over_one_connection(
    cast, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    (message,) = mail_messages()  # written with the notifications, in their transaction
    assert message.status == Status.PENDING and message.organisation_id == cast.msme.pk
    assert AuditEvent.objects.filter(action="outbox.enqueued", object_id=str(message.pk)).exists()
    for callback in callbacks:  # the commit: a worker delivers it
        callback()
    events = smtp_sink.events()
    assert events.count("CONNECT") == 1 and events.count("QUIT") == 1, events
    assert smtp_sink.sent(events) == sorted(n.user.email for n in rows) and len(rows) == 3
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_no_e_mail_for_a_change_rolled_back(cast, smtp_sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
        raise RuntimeError("the change fails after the notification")
    assert mail_messages() == [] and Notification.objects.count() == 0
    assert smtp_sink.sent(smtp_sink.events()) == []


def test_a_mailbox_the_server_refuses_loses_none_of_the_other_e_mails(
    cast, smtp_sink, django_capture_on_commit_callbacks, caplog
):
    cast.colleague.email = "refused-colleague@example.com"
    cast.colleague.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    assert smtp_sink.sent(smtp_sink.events()) == sorted([cast.exporter.email, cast.viewer.email])
    assert "refused the e-mail 'EXP-1: released' to refused-colleague@example.com" in caplog.text
    assert [m.status for m in mail_messages()] == [Status.DELIVERED]  # refused for good: not tried again


def test_a_mailbox_busy_for_now_gets_its_e_mail_later_and_the_others_once(
    cast, smtp_sink, django_capture_on_commit_callbacks
):
    cast.colleague.email = "busy-colleague@example.com"
    cast.colleague.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    first, later = mail_messages()
    assert first.status == Status.DELIVERED
    assert [m.to for m in mail.mails_of(later)] == ["busy-colleague@example.com"]
    assert later.status == Status.PENDING and later.attempts == 0  # its own message, tried after a wait
    assert later.next_attempt_at > timezone.now() + dt.timedelta(seconds=29) and later.headers["round"] == "2"
    assert smtp_sink.sent(smtp_sink.events()) == sorted([cast.exporter.email, cast.viewer.email])

    smtp_sink.start(busy="")  # the mailbox takes e-mails again
    assert deliver_now(later) == "delivered"
    assert smtp_sink.sent(smtp_sink.events()) == ["busy-colleague@example.com"]  # the others not sent twice


def test_a_mail_server_out_of_reach_loses_no_e_mail_they_go_when_it_is_back(
    cast, smtp_sink, django_capture_on_commit_callbacks
):
    assert smtp_sink.events() == []  # the server stopped: its port refuses connections
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    (message,) = mail_messages()
    assert message.status == Status.PENDING and message.attempts == 1
    assert "could not reach the mail server" in message.last_error
    assert Notification.objects.filter(organisation=cast.msme, title="EXP-1: released").count() == 3

    smtp_sink.start()
    assert deliver_now(message) == "delivered"
    events = smtp_sink.events()
    assert events.count("CONNECT") == 1 and smtp_sink.sent(events) == sorted(n.user.email for n in rows)


def test_a_mailbox_busy_round_after_round_is_given_up_and_logged(
    cast, smtp_sink, settings, django_capture_on_commit_callbacks, caplog
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    cast.colleague.email = "busy-colleague@example.com"
    cast.colleague.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    _, later = mail_messages()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_now(later) == "delivered"  # busy again, in its last round
    assert len(mail_messages()) == 2  # no third round
    assert "gave up e-mailing 'EXP-1: released' to busy-colleague@example.com after 2 rounds" in caplog.text


def test_a_connection_lost_midway_is_opened_again_for_the_next_e_mails(
    cast, smtp_sink, django_capture_on_commit_callbacks
):
    cast.exporter.email = "drop-exporter@example.com"  # the first member: the others come after it
    cast.exporter.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    events = smtp_sink.events()
    assert events.count("DROP") == 1 and events.count("CONNECT") == 2, events
    assert smtp_sink.sent(events) == sorted([cast.colleague.email, cast.viewer.email])
    _, later = mail_messages()
    assert [m.to for m in mail.mails_of(later)] == ["drop-exporter@example.com"]
