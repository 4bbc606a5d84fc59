"""Reliable outgoing messages (the transactional outbox) and Idempotency-Key records of the API.

A service writes a message with `ismit.outbox.services.enqueue(...)` inside its own transaction; workers
deliver it through the handler registered for its topic:

    from ismit import outbox

    @outbox.handler("customs.declaration")
    def deliver(message) -> None:
        ...  # raise outbox.Retry(reason) for a transient failure, outbox.Permanent(reason) for a final one
"""

from ismit.outbox.handlers import ClaimRead, Permanent, Retry, Then, get_handler, handler

__all__ = ["ClaimRead", "Permanent", "Retry", "Then", "get_handler", "handler"]
