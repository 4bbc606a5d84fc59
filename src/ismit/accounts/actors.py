"""Who is acting: a user (or nobody) with their memberships. Input of lib.scoping."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ismit.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed
from ismit.lib.scoping import ADMIN, CHANGE, VIEW

ROLE_ACTIONS = {
    Role.OWNER: frozenset({VIEW, CHANGE, ADMIN}),
    Role.MEMBER: frozenset({VIEW, CHANGE}),
    Role.READ_ONLY: frozenset({VIEW}),
}


_ORGANISATION_FIELDS = concrete_attnames(Organisation)
# The user's roles with their organisations, by name, prepared (lib.prepared): every API write reads them.
_MEMBERSHIP_ROWS = Prepared(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id)
        .order_by("organisation__legal_name", "organisation_id")
        .values_list("role", *prefixed("organisation", _ORGANISATION_FIELDS))
    ),
    "user_id",
)

# The user's roles, prepared as well: every scoped write asks them.
_ROLE_ROWS = Prepared(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id).order_by().values_list("organisation_id", "role")
    ),
    "user_id",
)


@dataclass
class Actor:
    user: User | None
    preferred_org_id: int | None = None
    _roles: dict[int, str] | None = field(default=None, repr=False)

    @classmethod
    def of_user_id(cls, user_id: int) -> Actor:
        """An actor known by its user's id alone: what a prepared query (lib.prepared) is built with."""
        return cls(user=User(pk=user_id, is_active=True))

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.user.is_authenticated and self.user.is_active

    @property
    def roles(self) -> dict[int, str]:
        """{organisation id: role}, read once per request."""
        if self._roles is None:
            if not self.is_authenticated:
                self._roles = {}
            else:
                self._roles = dict(_ROLE_ROWS.rows(user_id=self.user.pk))
        return self._roles

    def roles_read(self, roles: dict[int, str]) -> None:
        """The user's roles as a read of the caller found them just now (with what it read): not read
        again in this request."""
        if self._roles is None and self.is_authenticated:
            self._roles = dict(roles)

    def organisation_ids(self, action: str) -> frozenset[int]:
        return frozenset(org for org, role in self.roles.items() if action in ROLE_ACTIONS[Role(role)])

    def organisation_scope(self, action: str):
        """The ids of organisation_ids(action) if the memberships are read already, else a subquery
        that the database answers within the query it scopes (a read then needs no query of its own)."""
        if self._roles is not None or not self.is_authenticated:
            return sorted(self.organisation_ids(action))
        roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
        return Membership.objects.filter(user=self.user, role__in=roles).values("organisation_id")

    def can(self, action: str, organisation_id: int) -> bool:
        return organisation_id in self.organisation_ids(action)

    @cached_property
    def organisations(self) -> list[Organisation]:
        """The user's organisations by name; reads the memberships with them if not read yet."""
        if not self.is_authenticated:
            return []
        rows = _MEMBERSHIP_ROWS.rows(user_id=self.user.pk)
        organisations = [instance(Organisation, _ORGANISATION_FIELDS, row[1:]) for row in rows]
        if self._roles is None:
            self._roles = {org.id: row[0] for org, row in zip(organisations, rows, strict=True)}
        return organisations

    @cached_property
    def is_operator(self) -> bool:
        if not self.is_authenticated:
            return False
        if self.user.is_superuser:
            return True
        return any(org.kind == OrganisationKind.OPERATOR for org in self.organisations)

    @cached_property
    def organisation(self) -> Organisation | None:
        """The organisation the user currently works for (chosen in the session, else the first)."""
        orgs = self.organisations
        for org in orgs:
            if org.id == self.preferred_org_id:
                return org
        return orgs[0] if orgs else None


ANONYMOUS = Actor(user=None)


def actor_for(user: User | None, preferred_org_id: int | None = None) -> Actor:
    if user is None or not user.is_authenticated:
        return Actor(user=None)
    return Actor(user=user, preferred_org_id=preferred_org_id)
