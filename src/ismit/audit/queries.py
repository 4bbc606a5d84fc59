"""Reads of the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from ismit.audit.models import AuditEvent


def events_for_organisation(organisation_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organisation_id=organisation_id).order_by("-seq")
