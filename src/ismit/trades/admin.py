"""Operators' view of trades. People enter and change trades through the pages and the API."""

from django.contrib import admin

from ismit.trades.models import ChecklistStep, ColumnMapping, GoodsItem, Party, Trade

# Code lists are long (UN/LOCODE, HS): raw id inputs instead of selects of every code.
LOCATION_FIELDS = ("incoterm_place", "place_of_loading", "place_of_discharge")


class GoodsItemInline(admin.TabularInline):
    model = GoodsItem
    extra = 0
    fields = (
        "line_no",
        "description",
        "hs_code",
        "origin_country",
        "quantity",
        "unit",
        "unit_price",
        "packages_count",
        "package_type",
        "net_mass_kg",
        "gross_mass_kg",
    )
    raw_id_fields = ("hs_code", "origin_country", "unit", "package_type")


class ChecklistStepInline(admin.TabularInline):
    model = ChecklistStep
    extra = 0
    can_delete = False
    fields = (
        "position",
        "code",
        "category",
        "responsible",
        "status",
        "acting_organisation",
        "note",
        "started_at",
        "completed_at",
        "updated_at",
        "updated_by",
    )
    readonly_fields = fields
    ordering = ("position",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "organisation",
        "direction",
        "status",
        "buyer",
        "incoterm",
        "transport_mode",
        "created_at",
    )
    list_filter = ("status", "direction", "incoterm", "transport_mode", "payment_terms")
    search_fields = ("reference", "invoice_number", "organisation__legal_name", "buyer__name", "seller__name")
    list_select_related = ("organisation", "buyer", "buyer__country", "incoterm", "transport_mode")
    date_hierarchy = "created_at"
    raw_id_fields = (
        "organisation",
        "seller",
        "buyer",
        "consignee",
        "currency",
        *LOCATION_FIELDS,
        "created_by",
    )
    readonly_fields = ("created_at", "updated_at")
    inlines = (GoodsItemInline, ChecklistStepInline)


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "city", "organisation", "linked_organisation")
    list_filter = ("country",)
    search_fields = ("name", "city", "organisation__legal_name")
    list_select_related = ("country", "organisation", "linked_organisation")
    raw_id_fields = ("organisation", "linked_organisation", "country")


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "created_at")
    search_fields = ("name", "organisation__legal_name")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
