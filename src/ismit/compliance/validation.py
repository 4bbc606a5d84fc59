"""What makes a rule valid: one set of checks for the admin (Rule.clean) and the YAML import.

The checks that need code lists (countries, groups, HS codes, currencies) take a KnownCodes, read once
for a whole import rather than once per rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from ismit.compliance.models import (
    CODED_KINDS,
    HS_PREFIX_LENGTHS,
    KEY,
    RATE_KINDS,
    CountryGroup,
    Rule,
    RuleDirection,
    RuleKind,
    is_http_url,
)
from ismit.refdata.models import Country, Currency, HSCode

MAX_RATE = Decimal("1000")


@dataclass
class KnownCodes:
    """The codes a set of rules may name, read with one query per list."""

    countries: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    hs: set[str] = field(default_factory=set)
    currencies: set[str] = field(default_factory=set)

    @classmethod
    def for_rules(cls, rules: Iterable[Rule], extra_groups: Iterable[str] = ()) -> KnownCodes:
        rules = list(rules)
        places = {code for r in rules for code in (r.origin, r.destination) if code}
        return cls(
            countries=set(Country.objects.filter(code__in=places).values_list("code", flat=True)),
            groups=set(CountryGroup.objects.filter(code__in=places).values_list("code", flat=True))
            | set(extra_groups),
            hs=set(
                HSCode.objects.filter(code__in={r.hs_prefix for r in rules if r.hs_prefix}).values_list(
                    "code", flat=True
                )
            ),
            currencies=set(
                Currency.objects.filter(
                    code__in={r.threshold_currency for r in rules if r.threshold_currency}
                ).values_list("code", flat=True)
            ),
        )


def rule_errors(rule: Rule, known: KnownCodes) -> dict[str, list[str]]:
    """{field: [messages]} for every field of the rule that is not valid."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not KEY.match(rule.key or ""):
        add("key", _("Use lower-case letters, digits, “-” and “_” (at most 80)."))
    if rule.direction not in RuleDirection.values:
        add("direction", _("Choose one of: %(choices)s.") % {"choices": ", ".join(RuleDirection.values)})
    if rule.kind not in RuleKind.values:
        add("kind", _("Choose one of: %(choices)s.") % {"choices": ", ".join(RuleKind.values)})
    for name in ("origin", "destination"):
        code = getattr(rule, name)
        if code and code not in known.countries and code not in known.groups:
            add(name, _("%(code)s is neither an ISO 3166 country code nor a country group.") % {"code": code})
    if rule.hs_prefix:
        if not rule.hs_prefix.isdigit() or len(rule.hs_prefix) not in HS_PREFIX_LENGTHS:
            add("hs_prefix", _("Use an HS chapter (2 digits), heading (4) or subheading (6)."))
        elif rule.hs_prefix not in known.hs:
            add("hs_prefix", _("%(code)s is not in the Harmonized System.") % {"code": rule.hs_prefix})
    if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
        add("valid_to", _("The last day cannot come before the first."))
    if rule.kind == RuleKind.DOCUMENT and not rule.document_code:
        add("document_code", _("A document rule needs its UNTDID 1001 document code."))
    if rule.document_code:
        if rule.kind not in CODED_KINDS:
            add("document_code", _("Only documents and licences have a document code."))
        elif not rule.document_code.isdigit():
            add("document_code", _("A UNTDID 1001 document code has 1 to 3 digits."))
    if rule.kind in RATE_KINDS:
        if rule.rate is None:
            add("rate", _("A duty or VAT rule needs its rate (per cent)."))
        elif not Decimal(0) <= rule.rate <= MAX_RATE:
            add("rate", _("Enter a rate between 0 and 1000 per cent."))
    elif rule.rate is not None:
        add("rate", _("Only duty and VAT rules have a rate."))
    if rule.kind == RuleKind.DE_MINIMIS:
        if rule.threshold_amount is None or rule.threshold_amount <= 0:
            add("threshold_amount", _("A de minimis rule needs a threshold greater than zero."))
        if not rule.threshold_currency:
            add("threshold_currency", _("A de minimis rule needs the threshold's currency."))
    elif rule.threshold_amount is not None or rule.threshold_currency:
        add("threshold_amount", _("Only de minimis rules have a threshold."))
    if rule.threshold_currency and rule.threshold_currency not in known.currencies:
        add(
            "threshold_currency",
            _("%(code)s is not an ISO 4217 currency code.") % {"code": rule.threshold_currency},
        )
    if not (rule.title or "").strip():
        add("title", _("Give the rule a title."))
    if not (rule.source_title or "").strip():
        add("source_title", _("Cite the legal source of the rule."))
    if not rule.source_url:
        add("source_url", _("Give the URL of the legal source."))
    elif not is_http_url(rule.source_url):
        add("source_url", _("Enter an http(s) URL."))
    return errors
