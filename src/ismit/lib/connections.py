"""Database connections kept from request to request (and from task to task) without a `SELECT 1` each time.

CONN_HEALTH_CHECKS makes Django check a kept connection with `SELECT 1` before the first query of every
request: a round trip to the database, five a declaration (its submission and four answers). A connection
given back without error less than HEALTH_CHECK_IDLE_S ago is not checked: it was working a moment ago.
One idle longer is checked, as Django checks it; one whose request failed is closed by Django as before.
The web server connects these receivers (config.wsgi); the worker does the same around tasks
(config.celery). State is on each thread's connection object: nothing another process needs.
"""

from __future__ import annotations

import time

from django.core.signals import request_finished, request_started
from django.db import connections

HEALTH_CHECK_IDLE_S = 5.0


def note_released(**kwargs) -> None:
    """After Django's end-of-request handling (which closes a connection that failed or is too old)."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        connection.ismit_released_at = now


def skip_recent_checks(*, idle_s: float = HEALTH_CHECK_IDLE_S, **kwargs) -> None:
    """Before the next request's first query: a connection released moments ago counts as checked."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        released = getattr(connection, "ismit_released_at", None)
        if (
            connection.connection is not None
            and not connection.errors_occurred
            and released is not None
            and now - released <= idle_s
        ):
            connection.health_check_done = True


def keep_checked_connections() -> None:
    """Connect the receivers, after Django's own (django.db.close_old_connections)."""
    request_finished.connect(note_released, dispatch_uid="ismit.lib.connections.released")
    request_started.connect(skip_recent_checks, dispatch_uid="ismit.lib.connections.started")
