"""Reads of the compliance app. Rules and groups are public reference data: nothing here is scoped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from ismit.compliance.models import GroupMembership, Rule


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


def memberships_on(countries: Iterable[str], on: dt.date) -> Memberships:
    """One query: the groups of these countries on that date (first and last day included)."""
    groups: dict[str, set[str]] = {}
    unions: set[str] = set()
    rows = (
        GroupMembership.objects.filter(country_id__in=set(countries), valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .values_list("country_id", "group_id", "group__customs_union")
    )
    for country, group, customs_union in rows:
        groups.setdefault(country, set()).add(group)
        if customs_union:
            unions.add(group)
    return Memberships(
        on=on, groups={c: frozenset(g) for c, g in groups.items()}, customs_unions=frozenset(unions)
    )


def candidate_rules(origins: Iterable[str], destinations: Iterable[str], on: dt.date) -> list[Rule]:
    """One query: the rules valid on the date whose origin and destination could match."""
    return list(
        Rule.objects.valid_on(on).filter(
            Q(origin="") | Q(origin__in=set(origins)),
            Q(destination="") | Q(destination__in=set(destinations)),
        )
    )


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
