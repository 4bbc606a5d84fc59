"""The audit log is append-only and chained by hashes; `ismit audit verify` finds the first broken link."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from ismit.audit.models import AuditEvent
from ismit.audit.services import record_event, verify_chain


def append(n: int, organisation_id: int = 7) -> list[AuditEvent]:
    return [
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


@pytest.mark.django_db
def test_every_event_links_to_the_one_before():
    before = AuditEvent.objects.count()  # the reference data load is audited too
    events = append(5)
    assert [e.seq for e in events] == list(range(before + 1, before + 6))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    report = verify_chain()
    assert report.ok and report.checked == before + 5


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
    assert verify_chain().broken_seq == events[1].seq


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
    assert f"{events[-1].seq} events verified" in capsys.readouterr().out
    AuditEvent.objects.filter(seq=events[1].seq).update(actor_label="someone else")
    with pytest.raises(CommandError, match=f"#{events[1].seq}:"):
        call_command("audit", "verify")


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers itself; the row lock matters on PostgreSQL")
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
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count() >= 40
