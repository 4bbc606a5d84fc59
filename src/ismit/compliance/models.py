"""The requirements knowledge base: country groups and the rules that say what a border asks for.

Rules are platform-wide reference data, not organisation data: operators maintain them in the admin or
import them as YAML (compliance.services); everyone reads them. A rule applies to goods moving from an
origin to a destination (a country, a group of countries, or any), under an HS prefix, between two
dates, and gives one requirement: a document, a licence, a prohibition or restriction, a duty or VAT
rate, or a de minimis threshold. Every rule cites its legal source.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

GROUP_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
HS_PREFIX_LENGTHS = (2, 4, 6)


class CountryGroup(models.Model):
    """A group of countries that rules can name: a customs union (EU), a trade bloc (ECOWAS, EAC)…"""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=128)
    name_fr = models.CharField(_("name (French)"), max_length=128, blank=True)
    customs_union = models.BooleanField(
        _("customs union"),
        default=False,
        help_text=_("Goods moving between two members cross no customs border: import rules do not apply."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("country group")
        verbose_name_plural = _("country groups")

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    def clean(self) -> None:
        if not GROUP_CODE.match(self.code or ""):
            raise ValidationError(
                {"code": _("Use 2 to 12 capital letters or digits, starting with a letter.")}
            )


class GroupMembership(models.Model):
    """A country's membership of a group, from the day it joined to the last day it was a member."""

    group = models.ForeignKey(CountryGroup, on_delete=models.CASCADE, related_name="memberships")
    country = models.ForeignKey("refdata.Country", on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("member from"))
    valid_to = models.DateField(_("member until"), null=True, blank=True, help_text=_("Last day, inclusive."))

    class Meta:
        ordering = ["group", "country", "valid_from"]
        indexes = [models.Index(fields=["country", "valid_from"])]
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")

    def __str__(self) -> str:
        until = f"–{self.valid_to}" if self.valid_to else "–"
        return f"{self.country_id} in {self.group_id} ({self.valid_from}{until})"

    def covers(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def clean(self) -> None:
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The last day cannot come before the first.")})


class RuleDirection(models.TextChoices):
    EXPORT = "export", _("Export (leaving the origin)")
    IMPORT = "import", _("Import (entering the destination)")
    ANY = "any", _("Export or import")


class RuleKind(models.TextChoices):
    DOCUMENT = "document", _("Document to present")
    LICENCE = "licence", _("Licence or permit")
    PROHIBITION = "prohibition", _("Prohibition")
    RESTRICTION = "restriction", _("Restriction")
    DUTY = "duty", _("Customs duty")
    VAT = "vat", _("VAT / sales tax")
    DE_MINIMIS = "de_minimis", _("De minimis threshold")


RATE_KINDS = frozenset({RuleKind.DUTY, RuleKind.VAT})
CODED_KINDS = frozenset({RuleKind.DOCUMENT, RuleKind.LICENCE})


class RuleQuerySet(models.QuerySet):
    def valid_on(self, on: dt.date) -> RuleQuerySet:
        return self.filter(
            models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on),
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=on),
        )


class Rule(models.Model):
    key = models.SlugField(
        _("key"), max_length=80, unique=True, help_text=_("Stable name of the rule in YAML files.")
    )
    direction = models.CharField(_("direction"), max_length=8, choices=RuleDirection.choices)
    origin = models.CharField(
        _("origin"), max_length=12, blank=True, help_text=_("Country code or group code; empty: any origin.")
    )
    destination = models.CharField(
        _("destination"),
        max_length=12,
        blank=True,
        help_text=_("Country code or group code; empty: any destination."),
    )
    hs_prefix = models.CharField(
        _("HS prefix"),
        max_length=6,
        blank=True,
        help_text=_("HS chapter (2 digits), heading (4) or subheading (6); empty: all goods."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Last day, inclusive."))
    kind = models.CharField(_("kind"), max_length=12, choices=RuleKind.choices)
    document_code = models.CharField(
        _("document code"),
        max_length=3,
        blank=True,
        help_text=_("UNTDID 1001 document name code, e.g. 861 certificate of origin."),
    )
    rate = models.DecimalField(
        _("rate (%)"), max_digits=7, decimal_places=3, null=True, blank=True, help_text=_("For duty and VAT.")
    )
    threshold_amount = models.DecimalField(
        _("threshold amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    threshold_currency = models.CharField(_("threshold currency"), max_length=3, blank=True)
    title = models.CharField(_("title"), max_length=200)
    title_fr = models.CharField(_("title (French)"), max_length=200, blank=True)
    explanation = models.TextField(_("explanation"), blank=True)
    explanation_fr = models.TextField(_("explanation (French)"), blank=True)
    source_title = models.CharField(_("legal source"), max_length=300)
    source_url = models.URLField(_("source URL"), max_length=500)
    is_sample = models.BooleanField(_("sample data"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        indexes = [models.Index(fields=["destination", "origin"])]
        verbose_name = _("requirement rule")
        verbose_name_plural = _("requirement rules")

    def __str__(self) -> str:
        return self.key

    def localized_title(self, language: str | None = None) -> str:
        return self.title_fr if self.title_fr and _is_french(language) else self.title

    def localized_explanation(self, language: str | None = None) -> str:
        return self.explanation_fr if self.explanation_fr and _is_french(language) else self.explanation

    def clean(self) -> None:
        from ismit.compliance.validation import KnownCodes, rule_errors

        errors = rule_errors(self, KnownCodes.for_rules([self]))
        if errors:
            raise ValidationError(errors)


def _is_french(language: str | None) -> bool:
    return (language or get_language() or "").startswith("fr")


def is_http_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True
