"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class ChainHead(models.Model):
    """The end of the chain: the position and hash of the last event linked. One row, locked only by the
    linker (services.link_events), so that every event links to exactly one predecessor."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_seq}"


class AuditEvent(models.Model):
    """Who did what to which object of which organisation, and when.

    An event is written with its change, unlinked. Once committed, the linker gives it its number (`seq`,
    its id: increasing, with gaps where a transaction rolled back), its place in the chain (`link`: 1, 2,
    3… with no gap), the hash of the event before it and its own hash; the row is never changed after that.
    """

    seq = models.BigIntegerField(unique=True, null=True)
    link = models.BigIntegerField(unique=True, null=True, editable=False)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["organisation_id", "-seq"]),
            models.Index(fields=["id"], condition=models.Q(link__isnull=True), name="audit_event_unlinked"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def compute_hash(self) -> str:
        """The hash of the event's content and of its link to the event before it (not of `link`, which the
        chain of hashes fixes already)."""
        payload = {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "organisation_id": self.organisation_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "changes": self.changes,
            "prev_hash": self.prev_hash,
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        return hashlib.sha256(canonical.encode()).hexdigest()
