"""Reads of the code lists: searches for the API and the page autocomplete, lookups for validation.

Code lists are public to signed-in users, so nothing here is scoped. Lookups take codes as users write
them ("fr mrs", "0801.32") and return None for unknown codes; searches return at most MAX_LIMIT rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.db import connection, models
from django.db.models import Q
from django.utils.translation import get_language

from ismit.lib.prepared import Prepared
from ismit.refdata.models import (
    Country,
    Currency,
    ExchangeRate,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    TransportMode,
    UnitOfMeasure,
    ascii_fold,
    search_key,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
LOCATION_FUNCTIONS = frozenset("01234567B")

M = TypeVar("M", bound=models.Model)


# --- Helpers ---------------------------------------------------------------------------------------


def clamp_limit(limit: int | None) -> int:
    return DEFAULT_LIMIT if limit is None else max(1, min(int(limit), MAX_LIMIT))


def normalize_code(value: str) -> str:
    """A code as users write it, in its stored form: no spaces or dots, upper case."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def localized_name(obj: models.Model) -> str:
    """The French name when the active language is French and the list has one, else the name."""
    name_fr = getattr(obj, "name_fr", "")
    if name_fr and (get_language() or "").startswith("fr"):
        return name_fr
    return obj.name  # type: ignore[attr-defined]


def _words(q: str) -> list[str]:
    return search_key(q).split()


def _prefix(field: str, prefix: str) -> Q:
    """`field` starts with `prefix` (case-sensitive), in a form that uses the field's index.

    PostgreSQL serves LIKE 'x%' from the varchar_pattern_ops index Django adds to indexed text
    columns. SQLite's LIKE is case-insensitive and never uses an index, so a range on the same column
    (compared byte-wise, as the index is) narrows the scan to the matching rows.
    """
    q = Q(**{f"{field}__startswith": prefix})
    if connection.vendor == "sqlite":
        q &= Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
    return q


# What may precede a word inside a name or description.
_WORD_SEPARATORS = (" ", "(", "-", "/", "'")


def _all_words(field: str, words: list[str]) -> Q:
    """Every word starts a word of `field` (case-insensitive): "nut" finds "Ground-nuts", not "Coconut"."""
    condition = Q()
    for word in words:
        starts = Q(**{f"{field}__istartswith": word})
        for sep in _WORD_SEPARATORS:
            starts |= Q(**{f"{field}__icontains": sep + word})
        condition &= starts
    return condition


def _first(limit: int, *querysets: Iterable[M]) -> list[M]:
    """Up to `limit` distinct rows, taken from each source in turn (best matches first)."""
    found: dict[object, M] = {}
    for qs in querysets:
        for obj in qs:
            found.setdefault(obj.pk, obj)
            if len(found) >= limit:
                return list(found.values())
    return list(found.values())


def _starts_word(key: str, word: str) -> bool:
    return key.startswith(word) or f" {word}" in key


def _rank_in_memory(
    rows: Iterable[M],
    q: str,
    codes: Callable[[M], Iterable[str]],
    names: Callable[[M], Iterable[str]],
    limit: int,
) -> list[M]:
    """Small lists (countries, currencies): code match, then name prefix, then all words in a name."""
    code = normalize_code(q)
    words = _words(q)
    key = " ".join(words)
    ranked: list[tuple[int, str, M]] = []
    for row in rows:
        folded = [search_key(n) for n in names(row)]
        if code and any(c == code for c in codes(row)):
            rank = 0
        elif code and any(c.startswith(code) for c in codes(row)):
            rank = 1
        elif key and any(n.startswith(key) for n in folded):
            rank = 2
        elif words and any(all(_starts_word(n, w) for w in words) for n in folded):
            rank = 3
        else:
            continue
        ranked.append((rank, ascii_fold(localized_name(row)), row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in ranked[:limit]]


# --- Searches --------------------------------------------------------------------------------------


def search_hs(q: str, limit: int = DEFAULT_LIMIT) -> list[HSCode]:
    """HS codes by code prefix ("0801", "08.01", "0801 3") in code order, or by words.

    Every word must start a word of the description (case-insensitive); subheadings (the 6-digit codes
    goods are declared under) come first, then headings and chapters. Without a query: the 97 chapters.
    """
    limit = clamp_limit(limit)
    q = q.strip()
    if not q:
        return list(HSCode.objects.filter(level=2).order_by("code")[:limit])
    digits = re.sub(r"[\s.]", "", q)
    if digits.isdigit():
        return list(HSCode.objects.filter(_prefix("code", digits[:6])).order_by("code")[:limit])
    words = _words(q)
    if not words:
        return []
    return list(HSCode.objects.filter(_all_words("description", words)).order_by("-level", "code")[:limit])


def search_locations(
    q: str,
    country: str | None = None,
    function: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Location]:
    """UN/LOCODE entries by code prefix ("CIABJ", "FR MR") or name (diacritics and case ignored).

    Codes first (for what reads as a code), then names starting with the query, then names with words
    starting with each word of the query, then codes again for short queries. `country`
    (ISO alpha-2) and `function` (a UN/LOCODE function digit, "1" port … "4" airport) narrow the search.
    """
    limit = clamp_limit(limit)
    base = Location.objects.all()
    if country:
        base = base.filter(country=normalize_code(country)[:2])
    if function:
        if function not in LOCATION_FUNCTIONS:
            return []
        base = base.filter(functions__contains=function)
    q = q.strip()
    if not q:
        return list(base.order_by("code")[:limit])
    sources = []
    words = _words(q)
    if words:
        key = " ".join(words)
        sources.append(base.filter(_prefix("search_name", key)).order_by("search_name", "code")[:limit])
        # search_name holds lower-case words separated by single spaces.
        in_name = Q()
        for word in words:
            in_name &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
        sources.append(base.filter(in_name).order_by("search_name", "code")[:limit])
    code = normalize_code(q)
    if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{0,3}", code):
        by_code = base.filter(_prefix("code", code)).order_by("code")[:limit]
        # "FRMRS", "fr mrs", "PAR" read as codes; "par" more likely starts a name (Paris).
        if len(code) >= 4 or q.isupper():
            sources.insert(0, by_code)
        else:
            sources.append(by_code)
    return _first(limit, *sources)


def search_countries(q: str, limit: int = DEFAULT_LIMIT) -> list[Country]:
    """Countries by alpha-2/alpha-3 code or by English or French name, accents ignored."""
    limit = clamp_limit(limit)
    rows = Country.objects.all()
    if not q.strip():
        return sorted(rows, key=lambda c: ascii_fold(localized_name(c)))[:limit]
    return _rank_in_memory(rows, q, lambda c: (c.code, c.alpha3), lambda c: (c.name, c.name_fr), limit)


def search_currencies(q: str, limit: int = DEFAULT_LIMIT) -> list[Currency]:
    """ISO 4217 currencies by code or name."""
    limit = clamp_limit(limit)
    rows = Currency.objects.order_by("code")
    if not q.strip():
        return list(rows[:limit])
    return _rank_in_memory(rows, q, lambda c: (c.code,), lambda c: (c.name,), limit)


def _search_code_list(
    model: type[M], q: str, common_only: bool, limit: int, extra: Q | None = None
) -> list[M]:
    limit = clamp_limit(limit)
    base = model.objects.order_by("-common", "code")
    if common_only:
        base = base.filter(common=True)
    q = q.strip()
    if not q:
        return list(base[:limit])
    sources = []
    code = normalize_code(q)
    if extra is not None:
        sources.append(base.filter(extra)[:limit])
    if code:
        sources.append(base.filter(code=code))
        sources.append(base.filter(_prefix("code", code))[:limit])
    words = _words(q)
    if words:
        sources.append(base.filter(_all_words("name", words))[:limit])
    return _first(limit, *sources)


def search_units(q: str, common_only: bool = False, limit: int = DEFAULT_LIMIT) -> list[UnitOfMeasure]:
    """Rec 20 units by symbol ("kg"), code ("KGM") or name words ("kilogram"); common units first."""
    return _search_code_list(
        UnitOfMeasure, q, common_only, limit, extra=Q(symbol=q.strip()) if q.strip() else None
    )


def search_package_types(q: str, common_only: bool = False, limit: int = DEFAULT_LIMIT) -> list[PackageType]:
    """Rec 21 package types by code ("CT") or name words ("carton"); common types first."""
    return _search_code_list(PackageType, q, common_only, limit)


def list_incoterms() -> list[Incoterm]:
    """The Incoterms 2020 rules in their usual order (EXW … DDP, then FAS … CIF)."""
    return list(Incoterm.objects.order_by("sort_order"))


def list_transport_modes() -> list[TransportMode]:
    return list(TransportMode.objects.order_by("code"))


# --- Lookups for validation ------------------------------------------------------------------------


def _get(model: type[M], code: str) -> M | None:
    return model.objects.filter(pk=normalize_code(code)).first()


def _exists(model: type[models.Model], code: str) -> bool:
    return model.objects.filter(pk=normalize_code(code)).exists()


def get_country(code: str) -> Country | None:
    return _get(Country, code)


def get_currency(code: str) -> Currency | None:
    return _get(Currency, code)


def get_hs_code(code: str) -> HSCode | None:
    return _get(HSCode, code)


def get_location(code: str) -> Location | None:
    """The UN/LOCODE entry ("CIABJ", "CI ABJ"), or None if unknown."""
    return _get(Location, code)


def get_incoterm(code: str) -> Incoterm | None:
    return _get(Incoterm, code)


def get_unit(code: str) -> UnitOfMeasure | None:
    return _get(UnitOfMeasure, code)


def get_package_type(code: str) -> PackageType | None:
    return _get(PackageType, code)


def get_transport_mode(code: str) -> TransportMode | None:
    return _get(TransportMode, code)


def exists_country(code: str) -> bool:
    return _exists(Country, code)


def exists_currency(code: str) -> bool:
    return _exists(Currency, code)


def exists_hs_code(code: str) -> bool:
    return _exists(HSCode, code)


def exists_location(code: str) -> bool:
    return _exists(Location, code)


def exists_incoterm(code: str) -> bool:
    return _exists(Incoterm, code)


def exists_unit(code: str) -> bool:
    return _exists(UnitOfMeasure, code)


def exists_package_type(code: str) -> bool:
    return _exists(PackageType, code)


def exists_transport_mode(code: str) -> bool:
    return _exists(TransportMode, code)


def location_serves_mode(location: Location, mode: TransportMode) -> bool:
    """Whether a place can be a place of loading/discharge for the mode (a port for sea, …)."""
    return not mode.locode_function or location.has_function(mode.locode_function)


# --- Exchange rates --------------------------------------------------------------------------------

EURO = "EUR"
CENT = Decimal("0.01")


class NoExchangeRate(LookupError):
    """No reference rate is known for a currency (load them with `ismit refdata load`)."""

    def __init__(self, currency: str):
        self.currency = currency
        super().__init__(
            f"no exchange rate is known for {currency}; load the reference rates (ismit refdata load)"
        )


@dataclass(frozen=True)
class Conversion:
    amount: Decimal  # the converted amount, to the cent
    rate: Decimal  # units of the target currency per unit of the source currency
    rate_date: dt.date | None  # the date of the newer of the rates used (None: same currency)
    source: str  # where the rates come from


def _rate_per_eur(code: str, on: dt.date | None) -> ExchangeRate:
    """The rate of `code` on `on` or the latest before it; else the earliest after it; else the latest."""
    rates = ExchangeRate.objects.filter(currency_id=code)
    if on is None:
        found = rates.order_by("-on").first()
    else:
        found = rates.filter(on__lte=on).order_by("-on").first() or rates.order_by("on").first()
    if found is None:
        raise NoExchangeRate(code)
    return found


def convert(amount: Decimal | int | str, from_ccy: str, to_ccy: str, on: dt.date | None = None) -> Conversion:
    """`amount` of `from_ccy` in `to_ccy`, through the euro reference rates (ECB convention: units per EUR).

    Uses each currency's rate of the date `on` or, failing that, the latest rate before it (the earliest
    one after it when there is none before); without `on`, the latest rates. Raises NoExchangeRate when a
    currency has no rate at all.
    """
    source_code, target_code = normalize_code(from_ccy), normalize_code(to_ccy)
    value = Decimal(str(amount))
    if source_code == target_code:
        return Conversion(
            amount=value.quantize(CENT, ROUND_HALF_UP), rate=Decimal(1), rate_date=None, source=""
        )
    legs = [_rate_per_eur(code, on) for code in (source_code, target_code) if code != EURO]
    per_eur = {row.currency_id: row.rate_per_eur for row in legs}
    rate = per_eur.get(target_code, Decimal(1)) / per_eur.get(source_code, Decimal(1))
    rate = rate.quantize(Decimal("1e-10"), ROUND_HALF_UP).normalize()
    sources = list(dict.fromkeys(row.source for row in legs))
    return Conversion(
        amount=(value * rate).quantize(CENT, ROUND_HALF_UP),
        rate=rate,
        rate_date=max(row.on for row in legs),
        source="; ".join(sources),
    )


def currencies_with_rates() -> frozenset[str]:
    """Currencies convert() can handle (the euro included)."""
    return frozenset(currency for (currency,) in _RATED_CURRENCY_ROWS.rows()) | {EURO}


# Prepared (lib.prepared): every compliance check asks it.
_RATED_CURRENCY_ROWS = Prepared(lambda: ExchangeRate.objects.order_by().values_list("currency_id").distinct())
