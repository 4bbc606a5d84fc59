"""The registry of delivery handlers, one per topic, and the two outcomes a handler may raise.

A handler is `deliver(message: OutboxMessage) -> None`. Returning means delivered. It runs in a worker,
outside any database transaction, and may run more than once for one message (at-least-once delivery):
the receiving side deduplicates by the message's idempotency key. Register handlers in a module that every
worker imports at start: the app's `tasks.py` (found by Celery's autodiscovery) or its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]

_HANDLERS: dict[str, Handler] = {}


class Retry(Exception):
    """A transient failure (timeout, 5xx, connection refused): try again later, with backoff.

    `after`: seconds to wait before the next attempt when the receiver said so (Retry-After); else the
    exponential backoff decides.
    """

    def __init__(self, reason: str, *, after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Permanent(Exception):
    """A failure that retrying cannot fix (a 4xx answer): the message goes straight to the dead letters."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the delivery handler of `topic` (one handler per topic)."""

    def register(func: Handler) -> Handler:
        current = _HANDLERS.get(topic)
        if current is not None and current is not func and _name(current) != _name(func):
            raise ValueError(f"topic {topic!r} already has a handler: {_name(current)}")
        _HANDLERS[topic] = func
        return func

    return register


def get_handler(topic: str) -> Handler | None:
    return _HANDLERS.get(topic)


def _name(func: Handler) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)!s}"
