"""Reads of the audit log."""

from __future__ import annotations

from django.db.models import F, QuerySet

from ismit.audit.models import AuditEvent


def events_for_organisation(organisation_id: int) -> QuerySet[AuditEvent]:
    # Newest first; events of the last second, not numbered yet by the linker, come first.
    return AuditEvent.objects.filter(organisation_id=organisation_id).order_by(
        F("seq").desc(nulls_first=True), "-id"
    )
