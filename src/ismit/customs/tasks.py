"""Background work of the customs app: delivering a declaration from the outbox (the handler of the topic
"customs.declaration"), applying the answers the callbacks stored, and polling the single windows for
answers whose callback was lost."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from ismit import outbox
from ismit.customs import answers, applying, services
from ismit.customs.connectors import connector_for, store
from ismit.customs.queries import DELIVERY_READ, declaration_to_deliver

logger = logging.getLogger("ismit.customs")


@outbox.handler(services.TOPIC, read=DELIVERY_READ)
def deliver_declaration(message) -> outbox.Then | None:
    """Send the declaration of an outbox message to its single window and note the conversation.

    Raises outbox.Retry (timeouts, connection errors, 5xx) or outbox.Permanent (4xx): the declaration is
    marked failed when the outbox gives up on it. Sent already (a re-delivered task): nothing to do. The
    declaration is read with the message's claim (DELIVERY_READ), else here; answers that arrived while
    its send was noted are looked for with the delivery's record (services.held_answers_look)."""
    found = (
        message.claim_read
        if hasattr(message, "claim_read")
        else declaration_to_deliver(message.idempotency_key)
    )
    if found is None:
        raise outbox.Permanent(f"no declaration has the idempotency key {message.idempotency_key}")
    declaration, correction_of = found
    if declaration.sent_at is not None:
        return None
    try:
        # The request and answer of a 202 are stored by record_sent, in the statement that notes the send.
        result = connector_for(declaration.channel).send(
            declaration.window,
            declaration,
            bytes(message.payload),
            declaration.idempotency_key,
            correction_of,
            store=False,
        )
    except outbox.Permanent as exc:
        services.record_failed(declaration=declaration, reason=exc.reason)
        raise
    except outbox.Retry as exc:
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            services.record_failed(declaration=declaration, reason=exc.reason)
        raise
    try:
        declaration = services.record_sent(declaration=declaration, result=result, look_later=True)
    except BaseException:
        try:  # what was exchanged is kept, whatever happens next
            store(result.request, result.response)
        except Exception:
            logger.exception("the messages of declaration %s could not be stored", declaration.pk)
        raise
    # Answers stored while the send was noted: looked for by the statement that records the delivery.
    return services.held_answers_look(declaration)


def poll_all() -> int:
    """Poll every single window endpoint once, then apply what waits (answers whose task was lost too);
    returns the number of notifications read."""
    read = 0
    for window in answers.endpoints():
        try:
            read += answers.poll_window(window)
        except (outbox.Retry, outbox.Permanent) as exc:
            logger.warning("polling %s failed: %s", window, exc.reason)
    answers.attach_all_waiting()
    apply_answers()
    return read


@shared_task(name="ismit.customs.poll", ignore_result=True)
def poll_task() -> int:
    return poll_all()


def apply_answers() -> int:
    """Apply the stored answers that wait, a batch of declarations at a time, until a batch is not full
    (several workers share them: each skips the declarations another one holds)."""
    handled = 0
    while True:
        done = applying.apply_pending_answers()
        handled += done
        if done < applying.APPLY_BATCH:
            return handled


@shared_task(name="ismit.customs.apply_answers", ignore_result=True)
def apply_answers_task() -> int:
    return apply_answers()
