"""Operators' admin of the logistics app."""

from django.contrib import admin

from ismit.logistics.models import Consignment, LoadPlan


@admin.register(Consignment)
class ConsignmentAdmin(admin.ModelAdmin):
    list_display = ("reference", "organisation", "forwarder", "mode", "origin", "destination", "status")
    list_filter = ("status", "mode")
    search_fields = ("reference",)
    raw_id_fields = ("organisation", "trade", "forwarder", "released_by")


@admin.register(LoadPlan)
class LoadPlanAdmin(admin.ModelAdmin):
    list_display = ("id", "forwarder", "mode", "origin", "destination", "week", "created_at")
    raw_id_fields = ("forwarder", "created_by")
