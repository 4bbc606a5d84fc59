"""Synthetic rules for benchmarks and load tests: plausible, valid, and never `is_sample` starter data.

    from ismit.compliance.samples import create_synthetic_rules
    create_synthetic_rules(1000)          # 1,000 rules, keys "synthetic-0000"…, in one bulk insert

They spread over real HS chapters, headings and subheadings, over the corridors of the demo trades
(CI, KE, BD, CN, IN, GH… to FR, NL, DE, the EU, the US, GB…) and over every kind of requirement, with
validity windows around today, so that a check sees a realistic share of candidate rules. Some name the
groups of the starter set (EU, ECOWAS, EAC): load it first (`ismit compliance load-starter`).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ismit.compliance.models import Rule, RuleDirection, RuleKind
from ismit.refdata.models import HSCode

ORIGINS = ("", "", "CI", "KE", "BD", "CN", "IN", "GH", "NG", "SN", "VN", "ECOWAS", "EAC")
DESTINATIONS = ("EU", "EU", "FR", "NL", "DE", "BE", "ES", "IT", "US", "GB", "CN", "", "ECOWAS")
KINDS = (
    RuleKind.DOCUMENT,
    RuleKind.DOCUMENT,
    RuleKind.LICENCE,
    RuleKind.RESTRICTION,
    RuleKind.PROHIBITION,
    RuleKind.DUTY,
    RuleKind.DUTY,
    RuleKind.DUTY,
    RuleKind.VAT,
    RuleKind.DE_MINIMIS,
)
DOCUMENT_CODES = ("861", "862", "851", "852", "853", "856", "811", "911", "941")
SOURCE_URL = "https://eur-lex.europa.eu/eli/reg/1987/2658/oj"


def synthetic_rules(n: int, *, seed: int = 2026, prefix: str = "synthetic") -> list[Rule]:
    """`n` unsaved, valid rules (deterministic for a seed)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    codes = list(HSCode.objects.order_by("code").values_list("code", flat=True))
    if not codes:
        raise RuntimeError("load the reference data first: ismit refdata load")
    today = dt.date.today()
    rules = []
    for number in range(n):
        kind = rng.choice(KINDS)
        code = rng.choice(codes)
        hs_prefix = "" if kind in (RuleKind.VAT, RuleKind.DE_MINIMIS) and rng.random() < 0.7 else code
        origin = rng.choice(ORIGINS)
        destination = rng.choice(DESTINATIONS)
        if origin == destination:
            origin = ""
        start = today - dt.timedelta(days=rng.randint(0, 3650)) if rng.random() < 0.6 else None
        end = today + dt.timedelta(days=rng.randint(-400, 1500)) if rng.random() < 0.3 else None
        if start and end and end < start:
            end = None
        rule = Rule(
            key=f"{prefix}-{number:04d}",
            direction=RuleDirection.EXPORT
            if kind == RuleKind.LICENCE and rng.random() < 0.4
            else RuleDirection.IMPORT,
            origin=origin,
            destination=destination,
            hs_prefix=hs_prefix,
            valid_from=start,
            valid_to=end,
            kind=kind,
            title=f"Synthetic {kind.label.lower()} rule {number} (HS {hs_prefix or 'all'})",
            title_fr=f"Règle synthétique {number} (SH {hs_prefix or 'tout'})",
            explanation="Generated for benchmarks; not a real requirement.",
            source_title="Synthetic rule for benchmarks (no legal force)",
            source_url=SOURCE_URL,
            is_sample=False,
        )
        if kind in (RuleKind.DOCUMENT, RuleKind.LICENCE):
            rule.document_code = rng.choice(DOCUMENT_CODES)
        if kind == RuleKind.DUTY:
            rule.rate = Decimal(rng.choice(("0", "2.5", "4", "6.5", "8", "12", "17.3")))
        if kind == RuleKind.VAT:
            rule.rate = Decimal(rng.choice(("5.5", "7", "9", "10", "19", "20", "21")))
        if kind == RuleKind.DE_MINIMIS:
            rule.threshold_amount = Decimal(rng.choice(("22", "150", "800")))
            rule.threshold_currency = rng.choice(("EUR", "USD"))
        rules.append(rule)
    return rules


def create_synthetic_rules(n: int, *, seed: int = 2026, prefix: str = "synthetic") -> int:
    """Insert `n` synthetic rules (replacing earlier ones with the same prefix); returns n."""
    Rule.objects.filter(key__startswith=f"{prefix}-").delete()
    Rule.objects.bulk_create(synthetic_rules(n, seed=seed, prefix=prefix), batch_size=500)
    return n
