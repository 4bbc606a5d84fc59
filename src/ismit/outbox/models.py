"""Outgoing messages written in the same transaction as the change that causes them, their delivery
attempts, and the Idempotency-Key records of the API's creating writes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ismit.lib.scoping import CHANGE, VIEW, ActorLike, ScopedQuerySet


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead")


class OutboxMessageQuerySet(ScopedQuerySet):
    scope_field = "organisation"

    def grant_q(self, actor: ActorLike, action: str) -> Q | None:
        # Platform operators run the outbox: they see every message and replay dead ones.
        if action in (VIEW, CHANGE) and actor.is_operator:
            return Q(pk__isnull=False)
        return None


class OutboxMessage(models.Model):
    """One message to deliver to another system, at least once, through the handler of its topic."""

    topic = models.CharField(max_length=100)
    payload = models.BinaryField()
    payload_sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict, blank=True)
    target = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # When a deliver task was last sent for the message: the sweep sends again only after a while.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker delivering it (status "sending"); expired claims are taken over.
    locked_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["topic", "-created_at"], name="outbox_topic"),
        ]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"


class Outcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Will retry")
    PERMANENT = "permanent", _("Refused")
    LOST = "lost", _("Interrupted")


class OutboxAttempt(models.Model):
    """One delivery attempt: when, how long, and how it ended (attempts are not in the audit log)."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_set")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["message", "number", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"attempt {self.number} of message #{self.message_id}: {self.outcome}"


class IdempotencyRecord(models.Model):
    """The answer to the first API request sent with an Idempotency-Key, replayed to its retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_sha256 = models.CharField(max_length=64)
    # Null while the first request runs (inside its transaction, so no other request ever sees it so).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
