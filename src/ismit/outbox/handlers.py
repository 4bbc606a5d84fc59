"""The registry of delivery handlers, one per topic, and the two outcomes a handler may raise.

A handler is `deliver(message: OutboxMessage) -> None | Then`. Returning means delivered. It runs in a worker,
outside any database transaction, and may run more than once for one message (at-least-once delivery):
the receiving side deduplicates by the message's idempotency key. Register handlers in a module that every
worker imports at start: the app's `tasks.py` (found by Celery's autodiscovery) or its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any], None]

_HANDLERS: dict[str, Handler] = {}
_READS: dict[str, ClaimRead] = {}


@dataclass(frozen=True)
class ClaimRead:
    """What a topic's handler reads about its message, read by the statement that claims the message
    (PostgreSQL; one statement less per delivery). `sql()`: a SELECT of `width` columns, one row at most,
    whose WHERE refers to the claimed message's idempotency key as {key}; `load(values)` makes of its row
    (all None: no row) what the handler finds as `message.claim_read`. Where the claim could not read it
    (another database, a claim taken over), the message has no `claim_read`: the handler reads it."""

    sql: Callable[[], str]
    width: int
    load: Callable[[tuple], Any]


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


@dataclass(frozen=True)
class Then:
    """What a handler may return (instead of None) to read something once its delivery is recorded: `sql`
    a SELECT of one value (one row at most) and its `params`; `then(value)` (None: no row) is called with
    what it read, outside any transaction. On PostgreSQL the statement that records the delivery reads it
    (one statement less); elsewhere it is a statement of its own."""

    sql: str
    params: tuple
    then: Callable[[Any], None]


def handler(topic: str, *, read: ClaimRead | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the delivery handler of `topic` (one handler per topic); `read`:
    what it reads about its message, read with the claim."""

    def register(func: Handler) -> Handler:
        current = _HANDLERS.get(topic)
        if current is not None and current is not func and _name(current) != _name(func):
            raise ValueError(f"topic {topic!r} already has a handler: {_name(current)}")
        _HANDLERS[topic] = func
        if read is not None:
            _READS[topic] = read
        else:
            _READS.pop(topic, None)
        return func

    return register


def get_handler(topic: str) -> Handler | None:
    return _HANDLERS.get(topic)


def claim_reads() -> dict[str, ClaimRead]:
    """The reads registered with the handlers, by topic."""
    return _READS


def _name(func: Handler) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)!s}"
