"""Code lists. Read-only for users; loaded by `ismit refdata load`."""

from __future__ import annotations

import re
import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


def strip_diacritics(text: str) -> str:
    """ "Côte d'Ivoire" -> "Cote d'Ivoire"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_fold(text: str) -> str:
    """Lower case, without diacritics, single-spaced: "Côte  d'Ivoire" -> "cote d'ivoire"."""
    return " ".join(strip_diacritics(text).lower().split())


def search_key(text: str) -> str:
    """Folded words separated by single spaces: "Havre-Saint-Pierre" -> "havre saint pierre"."""
    return " ".join(re.findall(r"[a-z0-9]+", ascii_fold(text)))


class Country(models.Model):
    code = models.CharField(_("code"), max_length=2, primary_key=True)  # ISO 3166-1 alpha-2
    alpha3 = models.CharField(max_length=3, unique=True)
    numeric = models.CharField(max_length=3, blank=True)
    name = models.CharField(_("name"), max_length=128)
    name_fr = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class Subdivision(models.Model):
    code = models.CharField(max_length=10, primary_key=True)  # ISO 3166-2, e.g. CI-AB
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="subdivisions")
    name = models.CharField(max_length=160)
    type = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class Currency(models.Model):
    code = models.CharField(max_length=3, primary_key=True)  # ISO 4217
    numeric = models.CharField(max_length=3, blank=True)
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("currencies")

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class HSCode(models.Model):
    """Harmonized System: chapters (2 digits), headings (4) and subheadings (6)."""

    code = models.CharField(max_length=6, primary_key=True)
    level = models.PositiveSmallIntegerField()  # 2, 4 or 6
    parent = models.CharField(max_length=6, blank=True)
    section = models.CharField(max_length=5, blank=True)
    description = models.TextField()

    class Meta:
        ordering = ["code"]
        verbose_name = _("HS code")

    def __str__(self) -> str:
        return f"{self.code} - {self.description}"


class Location(models.Model):
    """UN/LOCODE entry (country code + 3-character location code)."""

    code = models.CharField(max_length=5, primary_key=True)
    country = models.CharField(max_length=2, db_index=True)
    name = models.CharField(max_length=128)
    name_ascii = models.CharField(max_length=128)
    # search_key(name_ascii): the key of the indexed, case- and accent-insensitive name search.
    search_name = models.CharField(max_length=128, db_index=True, editable=False, default="")
    subdivision = models.CharField(max_length=3, blank=True)
    functions = models.CharField(max_length=8, blank=True)  # e.g. "1-3-----": port, rail, road, airport…
    status = models.CharField(max_length=2, blank=True)
    iata = models.CharField(max_length=3, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("UN/LOCODE location")

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    # Function classifier positions in UN/LOCODE: 1 port, 2 rail, 3 road, 4 airport, 5 postal,
    # 6 multimodal, 7 fixed transport, B border crossing.
    def has_function(self, digit: str) -> bool:
        return digit in self.functions

    @property
    def is_port(self) -> bool:
        return self.has_function("1")

    @property
    def is_airport(self) -> bool:
        return self.has_function("4")


class Incoterm(models.Model):
    """Incoterms 2020 rule and who bears each obligation (S = seller, B = buyer)."""

    SELLER, BUYER = "S", "B"
    PARTY_CHOICES = [(SELLER, _("Seller")), (BUYER, _("Buyer"))]

    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=64)
    name_fr = models.CharField(max_length=64, blank=True)
    any_mode = models.BooleanField(help_text="True for rules for any mode; False for sea and inland waterway")
    export_clearance = models.CharField(max_length=1, choices=PARTY_CHOICES)
    main_carriage = models.CharField(max_length=1, choices=PARTY_CHOICES)
    insurance = models.CharField(max_length=1, choices=PARTY_CHOICES)
    insurance_required = models.BooleanField(default=False)
    import_clearance = models.CharField(max_length=1, choices=PARTY_CHOICES)
    place_meaning = models.CharField(max_length=120, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class UnitOfMeasure(models.Model):
    """UNECE Recommendation 20 unit of measure."""

    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=128)
    symbol = models.CharField(max_length=32, blank=True)
    common = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class PackageType(models.Model):
    """UNECE Recommendation 21 package type."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=128)
    common = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class TransportMode(models.Model):
    """UNECE Recommendation 19 mode of transport."""

    code = models.CharField(max_length=1, primary_key=True)
    name = models.CharField(max_length=64)
    name_fr = models.CharField(max_length=64, blank=True)
    # Which UN/LOCODE function digit a place must have for this mode ("" = any).
    locode_function = models.CharField(max_length=1, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class ExchangeRate(models.Model):
    """How many units of a currency one euro buys on a date (the ECB's quotation convention).

    Loaded by `ismit refdata load` from refdata/data/exchange_rates.json; read through
    refdata.queries.convert(). The euro itself has no row: its rate is 1 on every date.
    """

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    rate_per_eur = models.DecimalField(max_digits=18, decimal_places=6)
    on = models.DateField()
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["currency", "-on"]
        constraints = [models.UniqueConstraint(fields=["currency", "on"], name="exchange_rate_per_day")]
        verbose_name = _("exchange rate")

    def __str__(self) -> str:
        return f"1 EUR = {self.rate_per_eur} {self.currency_id} ({self.on})"
