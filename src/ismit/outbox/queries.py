"""Reads of the outbox, shared by the operator pages (and any app that shows a message's state)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ismit.lib.scoping import VIEW, ActorLike
from ismit.outbox.models import OutboxAttempt, OutboxMessage


def messages_visible_to(actor: ActorLike, *, status: str = "", topic: str = "") -> QuerySet[OutboxMessage]:
    """Messages the actor may see, newest first, without their payloads."""
    messages = OutboxMessage.objects.visible_to(actor, VIEW).defer("payload")
    if status:
        messages = messages.filter(status=status)
    if topic:
        messages = messages.filter(topic=topic)
    return messages.order_by("-created_at", "-id")


def get_message_for(actor: ActorLike, pk: int, action: str = VIEW) -> OutboxMessage:
    """The message, or Http404 when it does not exist or the actor may not act on it."""
    return OutboxMessage.objects.get_for(actor, action, pk=pk)


def attempts_of(message: OutboxMessage) -> QuerySet[OutboxAttempt]:
    return OutboxAttempt.objects.filter(message=message).order_by("started_at", "id")


def topics_visible_to(actor: ActorLike) -> list[str]:
    return list(
        OutboxMessage.objects.visible_to(actor, VIEW)
        .order_by("topic")
        .values_list("topic", flat=True)
        .distinct()
    )


def status_counts(actor: ActorLike) -> dict[str, int]:
    """{status: number of messages} of the messages the actor may see."""
    rows = OutboxMessage.objects.visible_to(actor, VIEW).order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def message_for_key(idempotency_key: str) -> OutboxMessage | None:
    """The message written with this idempotency key (for the services of other apps), or None."""
    return OutboxMessage.objects.filter(idempotency_key=idempotency_key).defer("payload").first()
