"""The audit log is append-only and chained by hashes; `ismit audit verify` finds the first broken link."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from ismit.audit.models import AuditEvent, ChainHead
from ismit.audit.services import link_events, record_event, verify_chain


def append(n: int, organisation_id: int = 7, *, link: bool = True) -> list[AuditEvent]:
    """n events, each written in a transaction of its own, then linked as after their commit."""
    events = [
        record_event(
            actor=None,
            organisation_id=organisation_id,
            action="test.done",
            object_type="test",
            object_id=i,
            changes={"n": i, "price": "6.20"},
        )
        for i in range(n)
    ]
    if link:
        link_events()
    return [AuditEvent.objects.get(pk=e.pk) for e in events]


@pytest.mark.django_db
def test_every_event_links_to_the_one_before():
    before = AuditEvent.objects.count()  # the reference data load is audited too
    link_events()
    events = append(5)
    assert [e.link for e in events] == list(range(before + 1, before + 6))
    assert all(later.seq > earlier.seq for earlier, later in itertools.pairwise(events))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    report = verify_chain()
    assert report.ok and report.checked == before + 5 and report.unlinked == 0


@pytest.mark.django_db
def test_an_event_is_numbered_and_linked_after_commit():
    event = append(1, link=False)[0]
    assert event.seq is None and event.link is None and event.hash is None
    assert verify_chain().unlinked >= 1
    assert link_events() >= 1
    event.refresh_from_db()
    head = ChainHead.objects.get(id=1)
    assert event.seq == event.pk  # its number is its id
    assert event.link == head.last_seq and event.hash == head.last_hash == event.compute_hash()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_links_its_events_and_a_rolled_back_one_leaves_none(settings):
    from django.db import transaction

    settings.AUDIT_LINK_INTERVAL_MS = 0  # a link after every commit
    with transaction.atomic():
        first = record_event(actor=None, organisation_id=1, action="test.a", object_type="test")
        second = record_event(actor=None, organisation_id=1, action="test.b", object_type="test")
    linked = list(AuditEvent.objects.filter(pk__in=[first.pk, second.pk]).order_by("link"))
    assert [e.action for e in linked] == ["test.a", "test.b"]
    assert linked[1].link == linked[0].link + 1 and linked[1].prev_hash == linked[0].hash
    with pytest.raises(RuntimeError), transaction.atomic():
        gone = record_event(actor=None, organisation_id=1, action="test.c", object_type="test")
        raise RuntimeError
    assert not AuditEvent.objects.filter(pk=gone.pk).exists()
    later = record_event(actor=None, organisation_id=1, action="test.d", object_type="test")
    later.refresh_from_db()
    assert later.link == linked[1].link + 1 and later.seq > linked[1].seq  # no gap in the chain
    report = verify_chain()
    assert report.ok and report.unlinked == 0


@pytest.mark.django_db
def test_an_edited_event_is_reported_by_its_number():
    events = append(6)
    AuditEvent.objects.filter(seq=events[3].seq).update(changes={"n": 3, "price": "0.01"})
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == events[3].seq
    assert "edited" in report.reason


@pytest.mark.django_db
def test_a_deleted_event_in_the_middle_is_reported():
    events = append(5)
    AuditEvent.objects.filter(seq=events[1].seq).delete()
    report = verify_chain()
    assert report.broken_seq == events[2].seq and "missing" in report.reason


@pytest.mark.django_db
def test_an_event_moved_in_the_chain_is_reported():
    events = append(3)
    AuditEvent.objects.filter(seq=events[2].seq).update(link=None)
    AuditEvent.objects.filter(seq=events[1].seq).update(link=events[2].link)
    AuditEvent.objects.filter(seq=events[2].seq).update(link=events[1].link)
    assert verify_chain().broken_seq == events[2].seq


@pytest.mark.django_db
def test_deleting_the_latest_events_is_reported():
    events = append(5)
    AuditEvent.objects.filter(seq__gte=events[3].seq).delete()
    report = verify_chain()
    assert not report.ok and report.broken_seq == events[3].seq


@pytest.mark.django_db
def test_a_rewritten_chain_does_not_hide_an_edit():
    """Recomputing an edited row's own hash still breaks the next row's link."""
    events = append(4)
    event = AuditEvent.objects.get(seq=events[1].seq)
    event.changes = {"n": 99}
    event.hash = event.compute_hash()
    AuditEvent.objects.filter(pk=event.pk).update(changes=event.changes, hash=event.hash)
    assert verify_chain().broken_seq == events[2].seq


@pytest.mark.django_db
def test_the_command_names_the_first_broken_link(capsys):
    events = append(3)
    call_command("audit", "verify")
    assert f"{events[-1].link} events verified" in capsys.readouterr().out
    AuditEvent.objects.filter(seq=events[1].seq).update(actor_label="someone else")
    with pytest.raises(CommandError, match=f"#{events[1].seq}:"):
        call_command("audit", "verify")


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers itself; the row lock matters on PostgreSQL")
    link_events()
    errors: list[Exception] = []

    def writer(k: int) -> None:
        try:
            append(10, organisation_id=k)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    link_events()  # what an after-commit link skipped while another held the head (the periodic job's part)
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count() >= 40


@pytest.mark.django_db(transaction=True)
def test_a_process_links_at_most_once_per_interval_and_the_periodic_job_links_the_rest(settings):
    from ismit.audit.tasks import link_task

    settings.AUDIT_LINK_INTERVAL_MS = 0
    first = record_event(actor=None, organisation_id=1, action="test.a", object_type="test")
    settings.AUDIT_LINK_INTERVAL_MS = 60_000
    second = record_event(actor=None, organisation_id=1, action="test.b", object_type="test")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.link is not None and second.link is None  # linked a moment ago: left for later
    assert verify_chain().unlinked == 1
    assert link_task() == 1
    second.refresh_from_db()
    assert second.link == first.link + 1 and second.prev_hash == first.hash
    report = verify_chain()
    assert report.ok and report.unlinked == 0
