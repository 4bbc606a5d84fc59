"""Pages of a trade's grants: the section "Appointed organisations" of the trade page (trades/_grants.html),
appointing a customs broker, revoking an appointment, and the search of brokers by name (htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ismit.accounts.actors import Actor
from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE, VIEW
from ismit.trades import queries, services
from ismit.trades.models import GrantScope, Trade

BROKER_CHOICES = 50  # names in the select at once; the search narrows them


def grants_context(actor: Actor, trade: Trade) -> dict:
    """What the trade page shows of its grants: the owner's members see them all and appoint (with
    CHANGE); an appointed organisation sees its own appointment."""
    can_appoint = actor.can(CHANGE, trade.organisation_id)
    return {
        "grants": queries.grants_of(actor, trade),
        "is_owner": actor.can(VIEW, trade.organisation_id),
        "can_appoint": can_appoint,
        "grant_scope": GrantScope.CUSTOMS,
        "brokers": list(queries.appointable(GrantScope.CUSTOMS)[:BROKER_CHOICES]) if can_appoint else [],
    }


def _back(trade_pk: int) -> HttpResponse:
    return redirect(reverse("trades:detail", args=[trade_pk]) + "#grants")


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in (m for ms in error_dict(exc).values() for m in ms):
        messages.error(request, message)


@login_required
@require_POST
def grant_create(request: HttpRequest, pk: int) -> HttpResponse:
    trade = queries.get_trade_header_for(request.actor, pk, CHANGE)
    scope = request.POST.get("scope") or GrantScope.CUSTOMS
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = None
    organisation = (
        queries.appointable(scope).filter(pk=organisation_id).first() if organisation_id is not None else None
    )
    try:
        services.appoint(actor=request.actor, trade=trade, organisation=organisation, scope=scope)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("%(organisation)s is appointed on this trade.") % {"organisation": organisation.legal_name},
        )
    return _back(trade.pk)


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int, grant_id: int) -> HttpResponse:
    trade = queries.get_trade_header_for(request.actor, pk, CHANGE)
    grant = queries.get_grant_for(request.actor, trade, grant_id)
    try:
        services.revoke_grant(actor=request.actor, grant=grant)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("The appointment of %(organisation)s has ended.")
            % {"organisation": grant.organisation.legal_name},
        )
    return _back(trade.pk)


@login_required
@require_GET
def grant_brokers(request: HttpRequest, pk: int) -> HttpResponse:
    """The <option>s of the verified customs brokers whose name contains ?q= (for the appoint form)."""
    trade = queries.get_trade_header_for(request.actor, pk, CHANGE)
    brokers = queries.appointable(GrantScope.CUSTOMS, request.GET.get("q", ""))[:BROKER_CHOICES]
    return render(request, "trades/_broker_options.html", {"trade": trade, "brokers": brokers})
