"""Reads of the accounts app, shared by pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from ismit.accounts.actors import Actor
from ismit.accounts.models import ApiToken, Membership, Organisation, VerificationStatus
from ismit.lib.scoping import VIEW


def organisations_visible_to(actor: Actor, action: str = VIEW) -> QuerySet[Organisation]:
    return Organisation.objects.visible_to(actor, action).prefetch_related("identifiers")


def get_organisation_for(actor: Actor, pk: int, action: str = VIEW) -> Organisation:
    return organisations_visible_to(actor, action).get_for(actor, action, pk=pk)


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__email")


def get_membership_for(actor: Actor, pk: int, action: str) -> Membership:
    return Membership.objects.select_related("user", "organisation").get_for(actor, action, pk=pk)


def verification_queue(actor: Actor) -> QuerySet[Organisation]:
    return organisations_visible_to(actor).filter(verification_status=VerificationStatus.PENDING)


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
