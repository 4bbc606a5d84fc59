"""The one mechanism that decides who sees what.

Every model that holds organisation data uses a ScopedQuerySet, and every read of such data goes
through `visible_to(actor, action)` or `get_for(actor, action, ...)`. Views and API handlers never
filter by organisation themselves. An actor (see ismit.accounts.actors.Actor) answers one question:
which organisation ids it may act for with a given action. Grants that reach across organisations
(a broker appointed on one transaction, a bank with consent) are added by overriding `grant_q`.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import models
from django.db.models import Q
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.http import Http404

VIEW = "view"
CHANGE = "change"
ADMIN = "admin"
ACTIONS = (VIEW, CHANGE, ADMIN)


class ActorLike(Protocol):
    is_authenticated: bool
    is_operator: bool

    def organisation_ids(self, action: str) -> frozenset[int]: ...

    def organisation_scope(self, action: str) -> Any:
        """organisation_ids, or a subquery that yields them (one round trip less for a single read)."""
        ...


class _InArray:
    """`field__in_array=subquery`: `field IN (subquery)`, written `field = ANY(ARRAY(subquery))` on
    PostgreSQL. There an IN (subquery) that is one branch of an OR is checked row by row (a full scan of
    the table); the array is computed once and its branch uses an index, so an OR of two of them is a
    BitmapOr of two index scans. Same rows; for a list of values it is a plain IN. Grants use it."""

    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        if self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # "(SELECT …)"
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)


models.Field.register_lookup(type("InArray", (_InArray, In), {}))
ForeignObject.register_lookup(type("RelatedInArray", (_InArray, RelatedIn), {}))


class ScopedQuerySet(models.QuerySet):
    #: path from the model to the id of the organisation that owns a row
    scope_field = "organisation"

    def grant_q(self, actor: ActorLike, action: str) -> Q | None:
        """Extra rows the actor may reach through a grant; none by default."""
        return None

    def visible_to(self, actor: ActorLike | None, action: str = VIEW) -> ScopedQuerySet:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if actor is None or not actor.is_authenticated:
            return self.none()
        field = "id" if self.scope_field == "id" else f"{self.scope_field}_id"
        extra = self.grant_q(actor, action)
        if extra is None:
            return self.filter(**{f"{field}__in": actor.organisation_scope(action)})
        # Beside a grant's OR, a subquery of ids is read as an array (see InArray): both sides use indexes.
        return self.filter(Q(**{f"{field}__in_array": actor.organisation_scope(action)}) | extra)

    def get_for(self, actor: ActorLike | None, action: str = VIEW, **lookup: Any) -> models.Model:
        """The object, or Http404 if it does not exist or the actor may not act on it."""
        try:
            return self.visible_to(actor, action).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404
        except self.model.MultipleObjectsReturned:
            raise Http404
