"""Idempotency keys on the API's writes that create something (`Idempotency-Key: <key>` request header).

    @router.post("", response={201: TradeOut})
    @idempotent
    def create_trade(request, payload: TradeCreateIn): ...

The first request with a key runs in one transaction with a record of (user, key, method and path, hash
of the body) and of its answer (status and body). A retry with the same key and the same request gets
the stored answer again, with the header `Idempotent-Replayed: true`, and the handler does not run; the
same key with another request is refused (422). Two requests with one key at the same time never both
run: the record's unique constraint (user, key) makes the second wait for the first and then replay its
answer. Only successful answers (2xx) are kept: after an error, the same key may be sent again. Without the
header, nothing changes. Records are kept for a day (ismit.outbox.services.purge_idempotency_records).

The records are rows of the outbox app (IdempotencyRecord), looked up through the app registry: lib
imports no app.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.utils import contribute_operation_callback

from ismit.lib.api import problem
from ismit.lib.rows import update_rows

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_STATE = "_ismit_idempotency"
ANSWER_FIELDS = ("status_code", "content_type", "body")  # written once the answer is made

OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": (
        "A unique key (e.g. a UUID) for this request: a retry with the same key and the same body gets the "
        "first answer again (header `Idempotent-Replayed: true`) and creates nothing; the same key with "
        "another body answers 422. Keys are kept for 24 hours."
    ),
}


@dataclass
class _State:
    key: str
    method: str
    path: str
    request_sha256: str
    record: Any = None
    replayed: bool = False


def idempotent(func: Callable) -> Callable:
    """Make a django-ninja operation honour the Idempotency-Key header (put it under or over @router.post)."""
    operation = getattr(func, "_ninja_operation", None)
    if operation is not None:
        _install(operation)
    else:
        contribute_operation_callback(func, _install)
    return func


def _install(operation: Any) -> None:
    if getattr(operation, "is_async", False):
        raise TypeError("@idempotent supports synchronous operations only")
    handler = operation.view_func

    @functools.wraps(handler)
    def run_once(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        state = getattr(request, _STATE, None)
        if state is None:
            return handler(request, *args, **kwargs)
        user = getattr(getattr(request, "actor", None), "user", None)
        if user is None or not user.is_authenticated:
            return handler(request, *args, **kwargs)
        found = _find_or_reserve(state, user)
        if found is not None:
            return _replay(request, state, found)
        return handler(request, *args, **kwargs)

    operation.view_func = run_once
    # The transaction wraps ninja's whole run (authentication, parsing, handler, answer), so the record
    # holds the answer exactly as it was sent. Kept in _run_decorators so that clones of the operation
    # (a router mounted twice) get it too.
    operation.run = _in_transaction(operation.run)
    if not hasattr(operation, "_run_decorators"):
        operation._run_decorators = []
    operation._run_decorators.append(_in_transaction)
    extra = dict(operation.openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), OPENAPI_PARAMETER]
    operation.openapi_extra = extra


def _in_transaction(run: Callable) -> Callable:
    @functools.wraps(run)
    def run_with_key(request: HttpRequest, **kw: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return run(request, **kw)
        key = raw.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return problem(
                request,
                status=422,
                kind="validation",
                title=_("Invalid data"),
                detail=_("Send an Idempotency-Key of 1 to 255 characters."),
                errors=[{"field": None, "message": _("Send an Idempotency-Key of 1 to 255 characters.")}],
            )
        state = _State(
            key=key,
            method=request.method or "",
            path=request.get_full_path()[:500],
            request_sha256=_request_hash(request),
        )
        setattr(request, _STATE, state)
        with transaction.atomic():
            response = run(request, **kw)
            if state.record is not None and 200 <= response.status_code < 300 and not response.streaming:
                record = state.record
                record.status_code = response.status_code
                record.content_type = response.get("Content-Type", "")
                record.body = bytes(response.content)
                update_rows(type(record), [record], ANSWER_FIELDS)
            elif not state.replayed:
                # An error answer: forget the key with whatever the request wrote, so it can be sent again.
                transaction.set_rollback(True)
        return response

    return run_with_key


def _request_hash(request: HttpRequest) -> str:
    """SHA-256 of the body; of its canonical form for JSON (same document, same hash, however spaced)."""
    body = request.body
    if (request.content_type or "").endswith("json"):
        with contextlib.suppress(ValueError):  # not JSON after all: the bytes as they are
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(body).hexdigest()


def _find_or_reserve(state: _State, user: Any) -> Any:
    """The record of an earlier request with the key, or None after reserving the key for this one.

    One statement when the key is new: an insert that does nothing when the key is taken (with the same
    key in flight elsewhere, it waits for that transaction; once it commits, the record is read and
    replayed). No savepoint, no read first."""
    record_model = apps.get_model("outbox", "IdempotencyRecord")
    record = record_model(
        user=user,
        key=state.key,
        method=state.method,
        path=state.path,
        request_sha256=state.request_sha256,
        created_at=timezone.now(),
    )
    if _insert_unless_taken(record):
        state.record = record
        return None
    found = record_model.objects.filter(user=user, key=state.key).first()
    if found is None:  # the other request rolled back between the two statements: try once more
        if _insert_unless_taken(record):
            state.record = record
            return None
        found = record_model.objects.filter(user=user, key=state.key).first()
        if found is None:
            raise IntegrityError(f"idempotency key {state.key!r} neither reserved nor found")
    return found


_RESERVED = ("user_id", "key", "method", "path", "request_sha256", "content_type", "body", "created_at")


def _insert_unless_taken(record: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id (PostgreSQL and SQLite): True, and the record's id
    set, if it was written."""
    meta = type(record)._meta
    connection = connections[router.db_for_write(type(record))]
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in _RESERVED]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    params = [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk = row[0]
    record._state.adding = False
    return True


def _replay(request: HttpRequest, state: _State, found: Any) -> HttpResponse:
    same = (found.method, found.path, found.request_sha256) == (
        state.method,
        state.path,
        state.request_sha256,
    )
    if not same:
        return problem(
            request,
            status=422,
            kind="idempotency-key-reused",
            title=_("Idempotency-Key reused with a different request"),
            detail=_(
                "Send a new Idempotency-Key for a new request; reuse a key only to retry the same request."
            ),
        )
    if found.status_code is None:
        # Cannot happen: a record is read only once its transaction committed, with its answer.
        raise RuntimeError(f"idempotency record {found.pk} has no answer")
    state.replayed = True
    response = HttpResponse(bytes(found.body), status=found.status_code, content_type=found.content_type)
    response[REPLAYED_HEADER] = "true"
    return response
