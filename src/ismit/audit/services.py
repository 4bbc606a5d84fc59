"""Writing to the audit log. Every service that changes organisation data calls record_event().

The log is one chain of hashes, linked after commit: record_event() writes the event with the caller's
change (no lock: business transactions never wait for each other's audit events), and after commits
link_events() gives the events written since the last link their place in the chain, in the order of their
numbers, under the chain head's lock held for that short transaction only. A process links after a commit
at most once per AUDIT_LINK_INTERVAL_MS (under load, one link takes the events of many transactions); the
periodic outbox sweep (every 5 s) links what is left; `ismit.audit.link` does it alone.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ismit.audit.models import GENESIS_HASH, AuditEvent, ChainHead
from ismit.lib.rows import insert_statement

logger = logging.getLogger("ismit.audit")

LINK_BATCH = 500


def _jsonable(changes: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so the stored value hashes the same as the value read back later.
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))


def record_event(
    *,
    actor: Any | None,
    organisation_id: int | None,
    action: str,
    obj: Any | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Runs inside the caller's transaction, and is linked into the chain after it
    commits (gone with it if it rolls back)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = getattr(actor, "user", actor)
    event = AuditEvent(
        at=timezone.now(),
        actor_id=getattr(user, "pk", None),
        actor_label=getattr(user, "email", "") or ("system" if user is None else str(user)),
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=_jsonable(changes),
    )
    batch = getattr(_batch, "events", None)
    if batch is not None:
        batch.append(event)
        return event
    # Inside the caller's transaction no savepoint is needed (an error aborts the whole write anyway).
    with transaction.atomic(savepoint=False):
        event.save(force_insert=True)
        # Its number (`seq`) is its id, given by the linker: increasing, taken without a lock (a rolled-back
        # event leaves a gap), and no second statement here.
        _link_on_commit()
    return event


_batch = threading.local()


@contextmanager
def batched_events(write: Callable[[list[AuditEvent]], Any] | None = None) -> Iterator[None]:
    """Inside a transaction: record_event() keeps the events of the block (unsaved) and they are written in
    one INSERT at its end, in the order they were recorded. Nested, the outermost block writes them.
    `write`: what writes them (a caller that sends its rows in one statement), instead of bulk_create."""
    if getattr(_batch, "events", None) is not None:
        yield
        return
    _batch.events = []
    try:
        yield
        events = _batch.events
    finally:
        _batch.events = None
    if events:
        (write or AuditEvent.objects.bulk_create)(events)
        _link_on_commit()


@contextmanager
def events_for_statement() -> Iterator[list[AuditEvent]]:
    """record_event() inside the block keeps its events, unsaved, in the list yielded: the caller writes
    them in its own statement (insert_sql: the event written by the statement that makes the change, no
    transaction of its own) and then calls link_soon()."""
    outer = getattr(_batch, "events", None)
    _batch.events = events = []
    try:
        yield events
    finally:
        _batch.events = outer


def insert_sql(events: list[AuditEvent], *, only_if: str = "") -> tuple[str, list[Any]]:
    """(SQL, parameters) of one INSERT of these unsaved events (PostgreSQL, lib.rows.insert_statement), a
    data-modifying WITH query of a caller's statement; `only_if`: an SQL condition that decides whether they
    are written (the change they audit was made), e.g. "EXISTS (SELECT 1 FROM noted)"."""
    names = [f.attname for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    rows = [[getattr(event, name) for name in names] for event in events]
    return insert_statement(AuditEvent, names, rows, only_if=only_if)


def link_soon() -> None:
    """Link the events a caller's statement wrote (insert_sql) once its transaction commits: at once when it
    ran alone (autocommit)."""
    _link_on_commit()


def _link_on_commit() -> None:
    """Link once the caller's transaction commits (once per transaction, however many events it wrote)."""
    conn = transaction.get_connection()
    current = set(conn.savepoint_ids)
    # Registered already at this level or an outer one (it is not dropped unless this write is as well).
    if any(sids <= current and func is _link_after_commit for sids, func, *_ in conn.run_on_commit):
        return
    transaction.on_commit(_link_after_commit)


_last_link = 0.0  # time.monotonic() of this process's last link after a commit


def _link_after_commit() -> None:
    global _last_link
    now = time.monotonic()
    if now - _last_link < settings.AUDIT_LINK_INTERVAL_MS / 1000:
        return  # linked a moment ago: the events wait for the next commit's link, or the periodic job
    _last_link = now
    try:
        link_events(wait=False)
    except DatabaseError as exc:  # another process linked meanwhile (SQLite): the periodic job catches up
        logger.info("audit events left for the next link: %s", exc)


class _Raced(Exception):
    """Another linker moved the chain head meanwhile."""


def link_events(*, wait: bool = True, batch: int = LINK_BATCH) -> int:
    """Give the committed events not linked yet their place in the chain, in the order of their numbers.
    Returns how many were linked. With wait=False, returns 0 at once when another linker holds the head
    (PostgreSQL; the holder links what it finds, the periodic job the rest)."""
    total = 0
    while True:
        try:
            linked = _link_batch(wait=wait, batch=batch)
        except _Raced:
            if not wait:
                return total
            continue
        if linked is None:
            return total
        total += linked
        if linked < batch:
            return total


def _link_batch(*, wait: bool, batch: int) -> int | None:
    with transaction.atomic():
        heads = ChainHead.objects.filter(id=1)
        skip = not wait and connection.features.has_select_for_update_skip_locked
        head = heads.select_for_update(skip_locked=skip).first()
        if head is None:
            if heads.exists():
                return None  # another linker holds it
            head, _ = ChainHead.objects.get_or_create(
                id=1
            )  # made by a migration; gone if the table was emptied
        events = list(AuditEvent.objects.filter(link__isnull=True).order_by("id")[:batch])
        if not events:
            return 0
        last_link, last_hash = head.last_seq, head.last_hash
        for event in events:
            last_link += 1
            event.seq = event.seq or event.pk
            event.link = last_link
            event.prev_hash = last_hash
            event.hash = event.compute_hash()
            last_hash = event.hash
        # A conditional update: where the row lock does not serialise linkers (SQLite), the second one to
        # get here moves nothing and its links are rolled back.
        if connection.vendor == "postgresql":
            moved = _write_links_and_head(events, head, last_link, last_hash)
        else:
            _write_links(events)
            moved = ChainHead.objects.filter(id=1, last_seq=head.last_seq, last_hash=head.last_hash).update(
                last_seq=last_link, last_hash=last_hash
            )
        if not moved:
            raise _Raced
    return len(events)


# PostgreSQL: the chain head moved (if it is as read) and every event's link written, in one statement
# whatever the number of events (an UPDATE per event costs the database a statement each).
_LINK_SQL = (
    'WITH moved AS (UPDATE "audit_chainhead" SET "last_seq" = %s, "last_hash" = %s '
    'WHERE "id" = 1 AND "last_seq" = %s AND "last_hash" = %s RETURNING 1) '
    'UPDATE "audit_auditevent" AS t SET "seq" = v.seq, "link" = v.link, "prev_hash" = v.prev_hash, '
    '"hash" = v.hash FROM UNNEST(%b::bigint[], %b::bigint[], %b::bigint[], %b::text[], %b::text[]) '
    "AS v (id, seq, link, prev_hash, hash) WHERE t.id = v.id AND EXISTS (SELECT 1 FROM moved)"
)


def _write_links_and_head(events: list[AuditEvent], head: ChainHead, last_link: int, last_hash: str) -> bool:
    """Whether the head moved (it was as read), with the events' links."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LINK_SQL,
            [
                last_link,
                last_hash,
                head.last_seq,
                head.last_hash,
                [e.pk for e in events],
                [e.seq for e in events],
                [e.link for e in events],
                [e.prev_hash for e in events],
                [e.hash for e in events],
            ],
        )
        return cursor.rowcount > 0


def _write_links(events: list[AuditEvent]) -> None:
    """One plain UPDATE per event, sent together (bulk_update's CASE per column and row costs the ORM and
    the database a time that grows with the square of the batch)."""
    meta, quote = AuditEvent._meta, connection.ops.quote_name
    columns = [quote(meta.get_field(name).column) for name in ("seq", "link", "prev_hash", "hash")]
    assignments = ", ".join(f"{column} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - model names
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(e.seq, e.link, e.prev_hash, e.hash, e.pk) for e in events])


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    unlinked: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the chain in order and report the first event whose link or content does not hold (by its
    number, `seq`). Events not linked yet are counted, not verified (`ismit audit verify` links first)."""
    expected_prev = GENESIS_HASH
    expected_link = 1
    checked = 0
    last_seq = 0
    for event in (
        AuditEvent.objects.filter(link__isnull=False).order_by("link").iterator(chunk_size=batch_size)
    ):
        if event.link != expected_link:
            return ChainReport(checked, event.seq, f"the event before #{event.seq} in the chain is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "link to the previous event does not match")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash (edited)")
        expected_prev = event.hash
        expected_link += 1
        last_seq = event.seq or 0
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    if head and (head.last_seq != checked or (checked and head.last_hash != expected_prev)):
        return ChainReport(checked, last_seq + 1, "events at the end of the log were deleted")
    return ChainReport(checked, unlinked=AuditEvent.objects.filter(link__isnull=True).count())
