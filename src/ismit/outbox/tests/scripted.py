"""A delivery handler for the in-process tests, scripted by the message's headers.

    X-Script: ok          delivered
    X-Script: retry       Retry every time
    X-Script: permanent   Permanent
    X-Script: boom        an unexpected exception
    X-Succeed-At: N       Retry until the N-th attempt, then delivered
    X-Sleep: S            sleep S seconds first (concurrency tests)

Every call is appended to CALLS as (message id, attempt number, idempotency key).
"""

from __future__ import annotations

import threading
import time

from ismit import outbox

TOPIC = "test.scripted"
CALLS: list[tuple[int, int, str]] = []
_lock = threading.Lock()
_running: dict[str, int] = {}
MAX_RUNNING: dict[str, int] = {}  # idempotency key -> most deliveries of the message seen running at once


@outbox.handler(TOPIC)
def scripted(message) -> None:
    key = message.idempotency_key
    with _lock:
        CALLS.append((message.pk, message.attempts, key))
        _running[key] = _running.get(key, 0) + 1
        MAX_RUNNING[key] = max(MAX_RUNNING.get(key, 0), _running[key])
    try:
        time.sleep(float(message.headers.get("X-Sleep", "0")))
        script = message.headers.get("X-Script", "ok")
        succeed_at = int(message.headers.get("X-Succeed-At", "0"))
        if succeed_at and message.attempts < succeed_at:
            raise outbox.Retry(f"HTTP 503 on attempt {message.attempts}")
        if script == "retry":
            raise outbox.Retry("connection refused")
        if script == "permanent":
            raise outbox.Permanent("HTTP 400: the declaration is not well formed")
        if script == "boom":
            raise KeyError("surprise")
    finally:
        with _lock:
            _running[key] -= 1


def calls_for(message) -> list[tuple[int, int, str]]:
    """The calls for this message (by its idempotency key: ids are reused from test to test)."""
    return [call for call in CALLS if call[2] == message.idempotency_key]
