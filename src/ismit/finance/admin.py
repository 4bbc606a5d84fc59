"""Operators' view of payments and filings. People record and file through the pages and the API."""

from django.contrib import admin

from ismit.finance.models import FxReport, FxReportVersion, Payment, VatClaim, VatClaimVersion


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("trade", "amount", "currency", "received_on", "bank_reference", "payer", "created_at")
    search_fields = ("bank_reference", "trade__reference", "payer")
    raw_id_fields = ("trade", "currency", "recorded_by")
    date_hierarchy = "received_on"


class FxVersionInline(admin.TabularInline):
    model = FxReportVersion
    extra = 0
    can_delete = False
    fields = (
        "number",
        "reference",
        "correction_of",
        "conversation_id",
        "idempotency_key",
        "submitted_at",
        "delivered_at",
        "answer_status",
    )
    readonly_fields = fields


class VatVersionInline(FxVersionInline):
    model = VatClaimVersion


class FilingAdmin(admin.ModelAdmin):
    list_display = (
        "trade",
        "status",
        "reference",
        "registration_number",
        "version",
        "submitted_at",
        "answered_at",
    )
    list_filter = ("status",)
    search_fields = ("reference", "registration_number", "conversation_id", "trade__reference")
    raw_id_fields = ("trade",)
    readonly_fields = (
        "conversation_id",
        "idempotency_key",
        "payload",
        "key_base",
        "last_answer_at",
        "last_notification_id",
    )


@admin.register(FxReport)
class FxReportAdmin(FilingAdmin):
    inlines = [FxVersionInline]


@admin.register(VatClaim)
class VatClaimAdmin(FilingAdmin):
    inlines = [VatVersionInline]
