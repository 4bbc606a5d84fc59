"""Reads of the compliance app. Rules and groups are public reference data: nothing here is scoped."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from ismit.compliance.models import GroupMembership, Rule
from ismit.lib.prepared import Prepared, concrete_attnames, instance


@dataclass(frozen=True)
class Memberships:
    """The groups each country belonged to on one date."""

    on: dt.date
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # country -> group codes
    customs_unions: frozenset[str] = frozenset()  # the codes among them that are customs unions

    def places(self, country: str) -> frozenset[str]:
        """The codes a rule may use to name the country: itself and its groups."""
        return frozenset({country}) | self.groups.get(country, frozenset())

    def same_customs_territory(self, a: str, b: str) -> bool:
        if a == b:
            return True
        shared = self.groups.get(a, frozenset()) & self.groups.get(b, frozenset())
        return bool(shared & self.customs_unions)

    def is_member(self, country: str, group: str) -> bool:
        return group in self.groups.get(country, frozenset())


def _codes(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n}" for n in range(count))


def _named(prefix: str, codes: list[str]) -> dict[str, str]:
    """The arguments of a prepared query of _codes(prefix, len(codes))."""
    return dict(zip(_codes(prefix, len(codes)), codes, strict=True))


@functools.cache
def _membership_rows(count: int) -> Prepared:
    """The memberships of `count` countries, every date (prepared once per number of countries)."""
    names = _codes("c", count)
    return Prepared(
        lambda **codes: (
            GroupMembership.objects.filter(country_id__in=[codes[n] for n in names])
            .order_by()
            .values_list("country_id", "group_id", "group__customs_union", "valid_from", "valid_to")
        ),
        text=names,
    )


@functools.cache
def _rule_rows(origins: int, destinations: int) -> Prepared:
    """The rules whose origin and destination could match, every date (prepared once per shape)."""
    origin_names, destination_names = _codes("o", origins), _codes("d", destinations)
    return Prepared(
        lambda **codes: (
            Rule.objects.filter(
                Q(origin="") | Q(origin__in=[codes[n] for n in origin_names]),
                Q(destination="") | Q(destination__in=[codes[n] for n in destination_names]),
            )
            .order_by("key")
            .values_list(*_RULE_FIELDS)
        ),
        text=(*origin_names, *destination_names),
    )


_RULE_FIELDS = concrete_attnames(Rule)
_VALID_FROM, _VALID_TO = _RULE_FIELDS.index("valid_from"), _RULE_FIELDS.index("valid_to")


def memberships_on(countries: Iterable[str], on: dt.date) -> Memberships:
    """One query: the groups of these countries on that date (first and last day included). Prepared
    (lib.prepared): the date is compared here, so that the query's text depends on nothing but the number
    of countries."""
    groups: dict[str, set[str]] = {}
    unions: set[str] = set()
    codes = sorted({c for c in countries if c is not None})
    rows = _membership_rows(len(codes)).rows(**_named("c", codes)) if codes else []
    for country, group, customs_union, valid_from, valid_to in rows:
        if not (valid_from <= on and (valid_to is None or valid_to >= on)):
            continue
        groups.setdefault(country, set()).add(group)
        if customs_union:
            unions.add(group)
    return Memberships(
        on=on, groups={c: frozenset(g) for c, g in groups.items()}, customs_unions=frozenset(unions)
    )


def candidate_rules(origins: Iterable[str], destinations: Iterable[str], on: dt.date) -> list[Rule]:
    """One query: the rules valid on the date whose origin and destination could match, by key. Prepared
    as memberships_on is."""
    origins = sorted({c for c in origins if c is not None})
    destinations = sorted({c for c in destinations if c is not None})
    if not origins or not destinations:
        return list(
            Rule.objects.valid_on(on).filter(
                Q(origin="") | Q(origin__in=origins), Q(destination="") | Q(destination__in=destinations)
            )
        )
    values = _named("o", origins) | _named("d", destinations)
    return [
        instance(Rule, _RULE_FIELDS, row)
        for row in _rule_rows(len(origins), len(destinations)).rows(**values)
        if (row[_VALID_FROM] is None or row[_VALID_FROM] <= on)
        and (row[_VALID_TO] is None or row[_VALID_TO] >= on)
    ]


def rules_for(
    *,
    origin: str = "",
    destination: str = "",
    hs: str = "",
    kind: str = "",
    on: dt.date | None = None,
) -> QuerySet[Rule]:
    """Rules that apply to goods of this HS code moving from origin to destination (countries or groups).

    A rule for "any" origin, for a group the country belonged to on the date (today by default), or for
    a shorter HS prefix applies too. Without filters: every rule.
    """
    rules = Rule.objects.order_by("key")
    on = on or timezone.localdate()
    countries = [c for c in (origin.upper(), destination.upper()) if c]
    members = memberships_on(countries, on) if countries else None
    if origin:
        rules = rules.filter(Q(origin="") | Q(origin__in=members.places(origin.upper())))
    if destination:
        rules = rules.filter(Q(destination="") | Q(destination__in=members.places(destination.upper())))
    digits = "".join(ch for ch in hs if ch.isdigit())[:6]
    if digits:
        rules = rules.filter(hs_prefix__in=["", *(digits[:n] for n in (2, 4, 6) if len(digits) >= n)])
    if kind:
        rules = rules.filter(kind=kind)
    return rules
