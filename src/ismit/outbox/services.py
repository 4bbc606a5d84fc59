"""Writes of the outbox: enqueue a message with the caller's change, deliver it (claim, call the topic's
handler, record the attempt, retry with backoff or dead-letter), sweep for lost deliveries, replay dead
letters, purge old Idempotency-Key records.

Delivery is at least once: a message is claimed by one worker at a time, and a claim that expires (a
worker killed mid-delivery) is taken over. The receiving side deduplicates by the idempotency key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.audit.services import record_event
from ismit.lib import returning
from ismit.lib.rows import insert_objects
from ismit.lib.scoping import ActorLike
from ismit.outbox.handlers import ClaimRead, Permanent, Retry, Then, claim_reads, get_handler
from ismit.outbox.models import IdempotencyRecord, OutboxAttempt, OutboxMessage, Outcome, Status

logger = logging.getLogger("ismit.outbox")

SWEEP_BATCH = 500
PURGE_BATCH = 1000
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
MAX_ERROR_CHARS = 4000
_random = secrets.SystemRandom()


# -- enqueue -----------------------------------------------------------------------------------------


def enqueue(
    *,
    topic: str,
    payload: bytes,
    idempotency_key: str,
    organisation_id: int | None,
    headers: dict[str, str] | None = None,
    target: str = "",
    fresh_key: bool = False,
    delay: float = 0.0,
) -> OutboxMessage:
    """Write a message to deliver once the caller's transaction commits (call it inside that transaction).

    A key already present returns the message already written with it: no second message. `fresh_key`
    says the caller knows the key is new (unique on a row of its own written in this transaction): no
    savepoint is taken, and a key present after all fails the caller's transaction. The deliver task is
    sent when the transaction commits (`delay`: its first attempt that many seconds later); if that send is
    lost, the sweep sends it again.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() must run inside the caller's transaction.atomic()")
    if not topic or not idempotency_key:
        raise ValueError("an outbox message needs a topic and an idempotency key")
    if len(idempotency_key) > OutboxMessage._meta.get_field("idempotency_key").max_length:
        raise ValueError("the idempotency key is longer than 200 characters")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError("the payload of an outbox message is bytes")
    payload = bytes(payload)
    now = timezone.now()
    message = OutboxMessage(
        topic=topic,
        payload=payload,
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        headers={str(k): str(v) for k, v in (headers or {}).items()},
        target=target,
        idempotency_key=idempotency_key,
        organisation_id=organisation_id,
        next_attempt_at=now + dt.timedelta(seconds=delay) if delay > 0 else now,
        dispatched_at=now,
    )
    if fresh_key:
        insert_objects([message])
    else:
        try:
            with transaction.atomic():  # a savepoint: the same key enqueued at the same time elsewhere
                insert_objects([message])
        except IntegrityError:
            existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None:
                raise
            return existing
    if message.pk is None:  # written later by lib.rows.deferred, which was given no id to give it
        raise RuntimeError("outbox.enqueue() inside lib.rows.deferred needs an id reserved for OutboxMessage")
    record_event(
        actor=None,
        organisation_id=organisation_id,
        action="outbox.enqueued",
        obj=message,
        changes={
            "topic": topic,
            "idempotency_key": idempotency_key,
            "target": target,
            "payload_sha256": message.payload_sha256,
            "payload_bytes": len(payload),
        },
    )
    _dispatch_on_commit([message.pk], countdown=delay if delay > 0 else None)
    return message


def _dispatch_on_commit(message_ids: list[int], countdown: float | None = None) -> None:
    # robust: a broker that is down must not fail the caller's committed change; the sweep catches up.
    transaction.on_commit(lambda: _dispatch(message_ids, countdown), robust=True)


def _dispatch(message_ids: list[int], countdown: float | None = None) -> None:
    from ismit.outbox.tasks import deliver_task

    # A delivery never outlives its claim: the handler is interrupted (soft limit: a retry) and, if it
    # does not stop, its process is killed (hard limit) before another worker may take the message over.
    limit, soft = settings.OUTBOX_CLAIM_TIMEOUT_S, soft_limit_s()
    for message_id in message_ids:
        deliver_task.apply_async(
            args=[message_id], countdown=countdown, time_limit=limit, soft_time_limit=soft
        )


def soft_limit_s() -> float:
    """When a delivery is interrupted: at least a second before its claim expires, to record the attempt."""
    limit = settings.OUTBOX_CLAIM_TIMEOUT_S
    return limit - max(1.0, limit * 0.1)


# -- delivery ----------------------------------------------------------------------------------------


def backoff_seconds(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failure: base × factor^(attempt-1), at most the maximum, with
    "equal jitter" (between half of it and all of it) so that messages that failed together spread out."""
    ceiling = settings.OUTBOX_BACKOFF_MAX_S
    exponent = max(attempt - 1, 0)
    delay = ceiling
    if exponent < 64:
        delay = min(ceiling, settings.OUTBOX_BACKOFF_BASE_S * settings.OUTBOX_BACKOFF_FACTOR**exponent)
    return delay / 2 + _random.uniform(0, delay / 2)


@dataclass(frozen=True)
class _Claim:
    message: OutboxMessage
    token: str
    started_at: dt.datetime


def _due(now: dt.datetime) -> Q:
    """Messages a worker may claim now: pending and due, or sending under a claim that has expired."""
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, locked_until__lt=now)


_MESSAGE = returning.Returning(OutboxMessage)
# The common claim: a pending message that is due, taken and read in one statement.
_CLAIM = (
    'UPDATE "outbox_outboxmessage" SET "attempts" = "outbox_outboxmessage"."attempts" + 1, "status" = %s, '
    '"locked_until" = %s, "claim_token" = %s '
    'WHERE "outbox_outboxmessage"."id" = %s AND "outbox_outboxmessage"."status" = %s '
    'AND "outbox_outboxmessage"."next_attempt_at" <= %s RETURNING {columns}'
)
# The end of a delivery (PostgreSQL): the message's next state, if this worker still holds the claim, and
# the attempt's row, in one statement; answers whether the message moved. A value given as NULL leaves its
# column as it is.
_FINISH = (
    'WITH moved AS (UPDATE "outbox_outboxmessage" SET "status" = %s, "locked_until" = NULL, '
    '"claim_token" = \'\', "last_error" = %s, "delivered_at" = COALESCE(%s, "delivered_at"), '
    '"next_attempt_at" = COALESCE(%s, "next_attempt_at"), "dispatched_at" = COALESCE(%s, "dispatched_at") '
    'WHERE "id" = %s AND "status" = %s AND "claim_token" = %s RETURNING "id") '
    'INSERT INTO "outbox_outboxattempt" '
    '("message_id", "number", "started_at", "duration_ms", "outcome", "error", "worker") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING (SELECT count(*) FROM moved)"
)


def _claim_due(
    message_id: int, now: dt.datetime, locked_until: dt.datetime, token: str
) -> OutboxMessage | None:
    """The message claimed by one conditional UPDATE that returns it, or None (not pending and due)."""
    if not returning.supported():
        if not OutboxMessage.objects.filter(
            pk=message_id, status=Status.PENDING, next_attempt_at__lte=now
        ).update(
            attempts=F("attempts") + 1, status=Status.SENDING, locked_until=locked_until, claim_token=token
        ):
            return None
        return OutboxMessage.objects.get(pk=message_id)
    adapt = connection.ops.adapt_datetimefield_value
    params = [Status.SENDING.value, adapt(locked_until), token, message_id, Status.PENDING.value, adapt(now)]
    reads = sorted(claim_reads().items()) if connection.vendor == "postgresql" else []
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(tuple(reads)), [*params, *(topic for topic, _ in reads)])
        row = cursor.fetchone()
    if row is None:
        return None
    size = len(_MESSAGE.fields)
    message = _MESSAGE.instance(row[:size])
    for topic, read in reads:
        if topic == message.topic:
            message.claim_read = read.load(row[size : size + read.width])
        size += read.width
    return message


@functools.lru_cache(maxsize=8)
def _claim_sql(reads: tuple[tuple[str, ClaimRead], ...]) -> str:
    """The claim, with what the handlers read about their message (ClaimRead) joined to it (PostgreSQL)."""
    claim = _CLAIM.format(columns=_MESSAGE.columns())
    if not reads:
        return claim
    key = 'claimed."idempotency_key"'
    joined = "".join(
        f' LEFT JOIN LATERAL ({read.sql().format(key=key)}) AS read{n} ON claimed."topic" = %s'
        for n, (_, read) in enumerate(reads)
    )
    selected = "".join(f", read{n}.*" for n in range(len(reads)))
    return f"WITH claimed AS ({claim}) SELECT claimed.*{selected} FROM claimed{joined}"  # noqa: S608 - no values


def _claim(message_id: int) -> _Claim | None:
    """Take the message for this worker (status sending, locked for OUTBOX_CLAIM_TIMEOUT_S), or None when
    it is not due or another worker holds it. A claim that expired is recorded as an interrupted attempt."""
    now = timezone.now()
    token = uuid.uuid4().hex
    locked_until = now + dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_S)
    claimed = {"status": Status.SENDING, "locked_until": locked_until, "claim_token": token}
    # The common case, a pending message that is due: one conditional UPDATE that returns it, no transaction
    # (of two workers, the second one updates no row). Anything else (an expired claim to take over, a message
    # not due or delivered already) goes the long way.
    message = _claim_due(message_id, now, locked_until, token)
    if message is not None:
        return _Claim(message=message, token=token, started_at=now)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: a row another worker is claiming is skipped, not waited for.
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(_due(now), pk=message_id)
                .first()
            )
            if message is None:
                return None
            previous = (message.status, message.attempts, message.locked_until)
            for name, value in claimed.items():
                setattr(message, name, value)
            message.attempts += 1
            message.save(update_fields=[*claimed, "attempts"])
        else:
            # SQLite: a conditional UPDATE; of two workers, the second one updates no row.
            before = OutboxMessage.objects.filter(pk=message_id).values_list(
                "status", "attempts", "locked_until"
            )
            previous = before.first()
            updated = OutboxMessage.objects.filter(_due(now), pk=message_id).update(
                attempts=F("attempts") + 1, **claimed
            )
            if not updated or previous is None:
                return None
            message = OutboxMessage.objects.get(pk=message_id)
        status, attempts, expired_at = previous
        if status == Status.SENDING:
            _record_interrupted(message, attempts, expired_at, now)
            if attempts >= settings.OUTBOX_MAX_ATTEMPTS:  # that was its last attempt: no new one
                OutboxMessage.objects.filter(pk=message.pk).update(attempts=attempts)
                message.attempts = attempts
                _finish(message, token, Status.DEAD, now, error=_interrupted_error())
                return None
    return _Claim(message=message, token=token, started_at=now)


def _interrupted_error() -> str:
    return "The worker stopped before the delivery ended (its claim expired)."


def _record_interrupted(
    message: OutboxMessage, attempts: int, expired_at: dt.datetime | None, now: dt.datetime
) -> None:
    timeout = dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_S)
    started = (expired_at or now) - timeout
    OutboxAttempt.objects.create(
        message=message,
        number=attempts,
        started_at=started,
        duration_ms=int(timeout.total_seconds() * 1000),
        outcome=Outcome.LOST,
        error=_interrupted_error(),
    )


def _finish(
    message: OutboxMessage,
    token: str,
    status: str,
    now: dt.datetime,
    *,
    error: str = "",
    next_attempt_at: dt.datetime | None = None,
    attempt: dict[str, Any] | None = None,
    then: Then | None = None,
    read: list | None = None,
) -> bool:
    """Move a claimed message to its next state, if this worker still holds the claim; record the
    `attempt` (OutboxAttempt's fields) whether it does or not. `then`: read by the same statement
    (PostgreSQL), its value appended to `read`."""
    fields: dict[str, Any] = {"status": status, "locked_until": None, "claim_token": "", "last_error": error}
    if status == Status.DELIVERED:
        fields["delivered_at"] = now
    if next_attempt_at is not None:
        fields["next_attempt_at"] = next_attempt_at
        fields["dispatched_at"] = next_attempt_at  # the retry's task is sent now, to arrive then
    if attempt is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _FINISH if then is None else f"{_FINISH}, ({then.sql})",
                [
                    status,
                    error,
                    fields.get("delivered_at"),
                    next_attempt_at,
                    next_attempt_at,
                    message.pk,
                    Status.SENDING.value,
                    token,
                    message.pk,
                    attempt["number"],
                    attempt["started_at"],
                    attempt["duration_ms"],
                    attempt["outcome"],
                    attempt["error"],
                    attempt["worker"],
                    *(then.params if then is not None else ()),
                ],
            )
            updated, *value = cursor.fetchone()
        if then is not None and read is not None:
            read.append(value[0])
    else:
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status=Status.SENDING, claim_token=token
        ).update(**fields)
        if attempt is not None:
            OutboxAttempt.objects.create(message=message, **attempt)
    if not updated:
        logger.warning("outbox message %s: the claim was taken over before the delivery ended", message.pk)
        return False
    if status == Status.DEAD:
        record_event(
            actor=None,
            organisation_id=message.organisation_id,
            action="outbox.dead_lettered",
            obj=message,
            changes={"topic": message.topic, "attempts": message.attempts, "error": error[:500]},
        )
    for name, value in fields.items():
        setattr(message, name, value)
    return True


def deliver_message(*, message_id: int, worker: str = "") -> str | None:
    """Deliver one message: claim it, call its topic's handler, record the attempt and the next state.

    Returns the outcome (see models.Outcome), or None when the message was not claimed (not due, delivered
    already, or held by another worker). The handler runs outside any transaction.
    """
    claim = _claim(message_id)
    if claim is None:
        return None
    message = claim.message
    retry_after: float | None = None
    then: Then | None = None
    start = time.monotonic()
    try:
        handler = get_handler(message.topic)
        if handler is None:
            raise Retry(f"No delivery handler is registered for the topic {message.topic!r} in this worker.")
        then = handler(message)
    except Retry as exc:
        outcome, error, retry_after = Outcome.RETRY, exc.reason, exc.after
    except Permanent as exc:
        outcome, error = Outcome.PERMANENT, exc.reason
    except SoftTimeLimitExceeded:
        outcome = Outcome.RETRY
        error = f"The delivery was stopped after {soft_limit_s():g} s (the claim's limit)."
    except Exception as exc:
        logger.exception("outbox message %s: the %s handler failed", message.pk, message.topic)
        outcome, error = Outcome.RETRY, f"{type(exc).__name__}: {exc}"
    else:
        outcome, error = Outcome.DELIVERED, ""
    duration_ms = int((time.monotonic() - start) * 1000)
    error = error[:MAX_ERROR_CHARS]
    now = timezone.now()
    attempt = {
        "number": message.attempts,
        "started_at": claim.started_at,
        "duration_ms": duration_ms,
        "outcome": outcome,
        "error": error,
        "worker": worker[:200],
    }
    next_at, delay = None, 0.0
    if outcome == Outcome.DELIVERED:
        status = Status.DELIVERED
    elif outcome == Outcome.PERMANENT or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        status = Status.DEAD
    else:
        status = Status.PENDING
        delay = backoff_seconds(message.attempts)
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), float(settings.OUTBOX_BACKOFF_MAX_S))
        next_at = now + dt.timedelta(seconds=delay)
    # On PostgreSQL the next state and the attempt are one statement: a transaction only for a dead letter
    # (audited with it).
    alone = status != Status.DEAD and connection.vendor == "postgresql"
    then = then if isinstance(then, Then) and outcome == Outcome.DELIVERED else None
    read: list = []
    with contextlib.nullcontext() if alone else transaction.atomic():
        moved = _finish(
            message,
            claim.token,
            status,
            now,
            error=error,
            next_attempt_at=next_at,
            attempt=attempt,
            then=then if alone else None,
            read=read,
        )
        if moved and status == Status.PENDING:
            _dispatch_on_commit([message.pk], countdown=delay)
    if then is not None:
        if not read:
            with connection.cursor() as cursor:
                cursor.execute(then.sql, list(then.params))
                row = cursor.fetchone()
            read.append(row[0] if row else None)
        try:
            then.then(read[0])
        except Exception:  # the delivery is recorded: what follows it must not fail the task
            logger.exception("outbox message %s: what follows its delivery failed", message.pk)
    return outcome


# -- the sweep -----------------------------------------------------------------------------------------


def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send a deliver task again for due messages whose task was lost; returns how many were sent.

    Lost means: pending and due, with no task sent for OUTBOX_REDISPATCH_AFTER_S (the web process died
    before sending it, the broker lost it); or sending under an expired claim (the worker was killed).
    """
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_S)
    not_recently = Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=quiet_since)
    lost = Q(status=Status.PENDING, next_attempt_at__lte=now) & not_recently
    expired = Q(status=Status.SENDING, locked_until__lt=now) & (
        not_recently | Q(dispatched_at__lt=F("locked_until"))
    )
    with transaction.atomic():
        candidates = OutboxMessage.objects.filter(lost | expired).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(dispatched_at=now)
            _dispatch_on_commit(ids)
    return len(ids)


# -- replay --------------------------------------------------------------------------------------------


def replay_message(*, actor: ActorLike, message: OutboxMessage) -> OutboxMessage:
    """Give a dead message a new series of attempts (operators only)."""
    if not actor.is_operator:
        raise PermissionDenied(_("Only platform operators replay messages."))
    now = timezone.now()
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(pk=message.pk, status=Status.DEAD).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            dispatched_at=now,
            locked_until=None,
            claim_token="",
            last_error="",
        )
        if not updated:
            raise ValidationError(_("Only a dead message can be replayed."))
        record_event(
            actor=actor,
            organisation_id=message.organisation_id,
            action="outbox.replayed",
            obj=message,
            changes={
                "topic": message.topic,
                "idempotency_key": message.idempotency_key,
                "attempts": message.attempts,
                "last_error": message.last_error[:500],
            },
        )
        _dispatch_on_commit([message.pk])
    message.refresh_from_db()
    return message


# -- Idempotency-Key records ---------------------------------------------------------------------------


def purge_idempotency_records(*, older_than: dt.timedelta = IDEMPOTENCY_TTL, batch: int = PURGE_BATCH) -> int:
    """Delete the API's Idempotency-Key records older than a day, in fixed-size batches."""
    cutoff = timezone.now() - older_than
    total = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return total
        total += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
