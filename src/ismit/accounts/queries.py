"""Reads of the accounts app, shared by pages and the API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ismit.accounts.actors import Actor
from ismit.accounts.models import ApiToken, Membership, Notification, Organisation, VerificationStatus
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


def notifications_for(actor: Actor) -> QuerySet[Notification]:
    """The notifications the actor's user may read: their own, and those for every member of one of
    their organisations; newest first."""
    if not actor.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.visible_to(actor, VIEW)
        .filter(Q(user=actor.user) | Q(user__isnull=True))
        .order_by("-created_at", "-id")
    )


def unread_notification_count(actor: Actor) -> int:
    return notifications_for(actor).filter(read_at__isnull=True).count()
