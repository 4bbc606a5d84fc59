"""Code lists in the admin: read-only for operators (they change only through `ismit refdata load`)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ismit.refdata.models import (
    Country,
    Currency,
    ExchangeRate,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    Subdivision,
    TransportMode,
    UnitOfMeasure,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Country)
class CountryAdmin(ReadOnlyAdmin):
    list_display = ["code", "alpha3", "numeric", "name", "name_fr"]
    search_fields = ["code", "alpha3", "name", "name_fr"]


@admin.register(Subdivision)
class SubdivisionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "type", "country"]
    list_select_related = ["country"]
    search_fields = ["code", "name"]


@admin.register(Currency)
class CurrencyAdmin(ReadOnlyAdmin):
    list_display = ["code", "numeric", "name"]
    search_fields = ["code", "name"]


@admin.register(HSCode)
class HSCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "level", "section", "description"]
    list_filter = ["level", "section"]
    search_fields = ["=code", "description"]


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "country", "subdivision", "functions", "status", "latitude", "longitude"]
    search_fields = ["=code", "search_name", "iata"]
    show_full_result_count = False  # counting 116,000 rows on every search is slow


@admin.register(Incoterm)
class IncotermAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "name",
        "any_mode",
        "export_clearance",
        "main_carriage",
        "insurance",
        "insurance_required",
        "import_clearance",
    ]
    search_fields = ["code", "name", "name_fr"]


@admin.register(UnitOfMeasure)
class UnitOfMeasureAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "symbol", "common"]
    list_filter = ["common"]
    search_fields = ["=code", "name", "symbol"]


@admin.register(PackageType)
class PackageTypeAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "common"]
    list_filter = ["common"]
    search_fields = ["=code", "name"]


@admin.register(TransportMode)
class TransportModeAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "name_fr", "locode_function"]
    search_fields = ["code", "name", "name_fr"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "rate_per_eur", "on", "source"]
    list_filter = ["on"]
    search_fields = ["=currency__code", "source"]
