"""Reads of the catalogue and of providers, shared by the pages and the API."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.lib.scoping import VIEW
from ismit.marketplace.models import Lane, Provider, ProviderStatus, RateLine, ServiceOffering

RANKING_CRITERIA = ("price", "transit", "quality")


def _with_children(qs: QuerySet[ServiceOffering]) -> QuerySet[ServiceOffering]:
    return qs.select_related("organisation", "currency").prefetch_related(
        Prefetch("lanes", queryset=Lane.objects.order_by("id")),
        Prefetch("rate_lines", queryset=RateLine.objects.order_by("is_surcharge", "id")),
    )


def own_offerings(actor: Actor, organisation: Organisation | None) -> QuerySet[ServiceOffering]:
    """The organisation's offerings (active first), if the actor is one of its members; else none."""
    if organisation is None or not actor.can(VIEW, organisation.pk):
        return ServiceOffering.objects.none()
    return _with_children(
        ServiceOffering.objects.visible_to(actor, VIEW).filter(organisation_id=organisation.pk)
    ).order_by("-active", "name", "id")


def offerings_visible_to(actor: Actor) -> QuerySet[ServiceOffering]:
    return _with_children(ServiceOffering.objects.visible_to(actor, VIEW)).order_by("organisation_id", "id")


def get_offering_for(actor: Actor, pk, action: str = VIEW) -> ServiceOffering:
    """The offering; 404 when the actor may not see it, 403 when it may see it but not `action` it."""
    offering = _with_children(ServiceOffering.objects.all()).get_for(actor, VIEW, pk=pk)
    if action != VIEW and not actor.can(action, offering.organisation_id):
        raise PermissionDenied(_("You may not change this provider's catalogue."))
    return offering


def get_lane_for(actor: Actor, offering: ServiceOffering, pk, action: str = VIEW) -> Lane:
    lane = Lane.objects.select_related("offering").get_for(actor, VIEW, pk=pk, offering_id=offering.pk)
    if action != VIEW and not actor.can(action, offering.organisation_id):
        raise PermissionDenied(_("You may not change this provider's catalogue."))
    return lane


def get_rate_line_for(actor: Actor, offering: ServiceOffering, pk, action: str = VIEW) -> RateLine:
    line = RateLine.objects.select_related("offering").get_for(actor, VIEW, pk=pk, offering_id=offering.pk)
    if action != VIEW and not actor.can(action, offering.organisation_id):
        raise PermissionDenied(_("You may not change this provider's catalogue."))
    return line


# -- providers ---------------------------------------------------------------------------------------------


def provider_directory(actor: Actor, service_type: str = "") -> QuerySet[Provider]:
    """Active providers, verified, by name (the directory makes no ranking); optionally only those with an
    active offering of `service_type`."""
    qs = (
        Provider.objects.visible_to(actor, VIEW)
        .listed()
        .select_related("organisation")
        .order_by("organisation__legal_name", "organisation_id")
    )
    if service_type:
        qs = qs.filter(
            organisation__offerings__service_type=service_type, organisation__offerings__active=True
        ).distinct()
    return qs


def providers_for_operator(actor: Actor) -> QuerySet[Provider]:
    """Every provider, whatever its standing (operators only; others get their visible ones)."""
    return (
        Provider.objects.visible_to(actor, VIEW)
        .select_related("organisation")
        .order_by("organisation__legal_name", "organisation_id")
    )


def get_provider_for(actor: Actor, organisation_id) -> Provider:
    """The provider's standing and quality; 404 when it is not in the marketplace or not visible (a
    suspended or departed provider is visible to its own members and to operators only)."""
    return Provider.objects.select_related("organisation", "status_changed_by").get_for(
        actor, VIEW, organisation_id=organisation_id
    )


def get_provider_organisation_for_operator(actor: Actor, organisation_id) -> Organisation:
    """The organisation an operator acts on (404 for a provider the actor may not see, 403 for a
    non-operator who may)."""
    if not actor.is_operator:
        get_provider_for(actor, organisation_id)  # 404 when the actor may not even see the provider
        raise PermissionDenied(_("Only platform operators may do this."))
    return Organisation.objects.get_for(actor, VIEW, pk=organisation_id)


def public_offerings_of(actor: Actor, provider: Provider) -> QuerySet[ServiceOffering]:
    qs = offerings_visible_to(actor).filter(organisation_id=provider.organisation_id)
    if provider.status != ProviderStatus.ACTIVE and not actor.can(VIEW, provider.organisation_id):
        return qs.none() if not actor.is_operator else qs
    return qs


def own_provider(actor: Actor) -> Provider | None:
    """The Provider row of the actor's current organisation, if any."""
    organisation = actor.organisation
    if organisation is None:
        return None
    return Provider.objects.visible_to(actor, VIEW).filter(organisation_id=organisation.pk).first()


def require_member_provider(actor: Actor) -> Organisation:
    organisation = actor.organisation
    if organisation is None or organisation.kind != "provider":
        raise Http404
    return organisation
