"""Notifications: every member is told, in their language, in the platform and by e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Notification
from ismit.accounts.queries import notifications_for, unread_notification_count
from ismit.accounts.services import mark_notifications_read, notify

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
    assert mail.outbox == []  # not before the transaction commits
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for u in (cast.exporter, cast.colleague, cast.viewer)
    )
    assert next(m for m in mail.outbox if m.to == [cast.colleague.email]).subject == (
        "EXP-1: goods released by customs"
    )
    assert mail.outbox[0].body.endswith("/trades/1/customs/")


def test_no_email_when_asked_not_to(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.received", title="Received", email=False)
    assert mail.outbox == []
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


@pytest.fixture
def smtp_sink(settings):
    """A mail server in a process of its own; the platform set to send through it."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen(
        [sys.executable, "-m", "ismit.accounts.tests.smtp_sink", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout.readline().strip() == "READY"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False

    def events() -> list[str]:
        sink.terminate()
        return sink.stdout.read().split()

    yield events
    sink.kill()
    sink.wait()


def test_the_e_mails_of_a_notification_go_to_the_mail_server_over_one_connection(
    cast, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    events = smtp_sink()
    assert events.count("CONNECT") == 1 and events.count("QUIT") == 1, events
    sent = sorted(events[i + 1] for i, e in enumerate(events) if e == "MESSAGE")
    assert sent == sorted(n.user.email for n in rows) and len(sent) == 3


def test_a_mailbox_the_server_refuses_loses_none_of_the_other_e_mails(
    cast, smtp_sink, django_capture_on_commit_callbacks, caplog
):
    cast.colleague.email = "refused-colleague@example.com"
    cast.colleague.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    events = smtp_sink()
    sent = sorted(events[i + 1] for i, e in enumerate(events) if e == "MESSAGE")
    assert sent == sorted([cast.exporter.email, cast.viewer.email]), events
    assert "refused-colleague@example.com" in caplog.text


def test_a_mail_server_out_of_reach_is_tried_once_and_each_e_mail_not_sent_is_logged(
    cast, smtp_sink, django_capture_on_commit_callbacks, caplog
):
    assert smtp_sink() == []  # the server stopped: its port refuses connections
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(organisation_id=cast.msme.pk, kind="customs.cleared", title="EXP-1: released")
    assert caplog.text.count("could not reach the mail server") == 1
    assert all(f"to {n.user.email}" in caplog.text for n in rows) and len(rows) == 3
    assert Notification.objects.filter(organisation=cast.msme, title="EXP-1: released").count() == 3
