"""The outbox in the back office: read-only (operators replay dead messages from the outbox page, which
audits it)."""

from __future__ import annotations

from django.contrib import admin

from ismit.outbox.models import IdempotencyRecord, OutboxAttempt, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OutboxAttemptInline(admin.TabularInline):
    model = OutboxAttempt
    extra = 0
    fields = ("number", "started_at", "duration_ms", "outcome", "error", "worker")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "status", "attempts", "organisation_id", "created_at", "next_attempt_at")
    list_filter = ("status", "topic")
    search_fields = ("=idempotency_key", "topic", "target")
    date_hierarchy = "created_at"
    exclude = ("payload",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields if f.name != "payload"]
    inlines = [OutboxAttemptInline]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    search_fields = ("=key", "path")
    exclude = ("body",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields if f.name != "body"]
