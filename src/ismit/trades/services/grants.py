"""Grants: an organisation appointed on one trade (a customs broker)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation, OrganisationKind
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.trades.models import (
    SCOPE_PROVIDER_TYPES,
    Trade,
    TradeGrant,
)
from ismit.trades.services.data import require_change

# -- grants: an organisation appointed on one trade (a customs broker) --------------------------------


def _grant_changes(grant: TradeGrant, trade: Trade, organisation: Organisation) -> dict:
    return {
        "trade": trade.reference,
        "trade_id": trade.pk,
        "organisation": organisation.pk,
        "organisation_name": organisation.legal_name,
        "scope": grant.scope,
    }


def _notify(organisation: Organisation, *, kind: str, title, trade: Trade) -> None:
    """An in-app and e-mail notice to the appointed organisation, where accounts offers notify()."""
    from ismit.accounts import services as accounts_services

    notify = getattr(accounts_services, "notify", None)
    if notify is not None:
        notify(
            organisation_id=organisation.pk,
            kind=kind,
            title=title,
            url=reverse("trades:detail", args=[trade.pk]),
        )


def appoint(*, actor: Actor, trade: Trade, organisation: Organisation | None, scope: str) -> TradeGrant:
    """Appoint a verified provider (a customs broker for scope "customs") on one trade of the owner's.

    Only a member who may change the trade's owner organisation appoints. `organisation` None means an id
    that matched no provider: the same error as a provider that may not be appointed."""
    require_change(actor, trade.organisation_id)
    errors = FieldErrors()
    provider_types = SCOPE_PROVIDER_TYPES.get(scope)
    if provider_types is None:
        errors.add("scope", _("Unknown scope: %(scope)s") % {"scope": scope})
    elif (
        organisation is None
        or organisation.kind != OrganisationKind.PROVIDER
        or not set(provider_types) & set(organisation.provider_types or [])
        or organisation.pk == trade.organisation_id
    ):
        errors.add("organisation", _("Choose a customs broker registered on the platform."))
    elif not organisation.is_verified:
        errors.add("organisation", _("This organisation is not verified yet: it cannot be appointed."))
    errors.raise_if_any()
    already = _("This organisation is already appointed on this trade.")
    with transaction.atomic():
        if TradeGrant.objects.active().filter(trade=trade, organisation=organisation, scope=scope).exists():
            raise ValidationError({"organisation": [already]})
        try:
            with transaction.atomic():
                grant = TradeGrant.objects.create(
                    trade=trade, organisation=organisation, scope=scope, granted_by=actor.user
                )
        except IntegrityError:  # appointed by a concurrent request
            raise ValidationError({"organisation": [already]})
        changes = _grant_changes(grant, trade, organisation)
        # In both organisations' logs: the owner's, and the appointed organisation's own.
        for organisation_id in (trade.organisation_id, organisation.pk):
            record_event(
                actor=actor,
                organisation_id=organisation_id,
                action="trade.grant_created",
                obj=grant,
                changes=changes,
            )
        _notify(
            organisation,
            kind="trade.grant_created",
            title=format_lazy(  # in each member's language (notify renders it per member)
                gettext_lazy("{owner} appointed you on trade {reference}"),
                owner=trade.organisation.legal_name,
                reference=trade.reference,
            ),
            trade=trade,
        )
    return grant


def revoke_grant(*, actor: Actor, grant: TradeGrant) -> TradeGrant:
    """End an appointment: the organisation loses access to the trade at once. Kept on record."""
    trade = grant.trade
    require_change(actor, trade.organisation_id)
    now = timezone.now()
    with transaction.atomic():
        revoked = TradeGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor.user
        )
        if not revoked:
            raise ValidationError({"__all__": [_("This appointment was already revoked.")]})
        grant.revoked_at, grant.revoked_by = now, actor.user
        organisation = grant.organisation
        changes = _grant_changes(grant, trade, organisation)
        for organisation_id in (trade.organisation_id, organisation.pk):
            record_event(
                actor=actor,
                organisation_id=organisation_id,
                action="trade.grant_revoked",
                obj=grant,
                changes=changes,
            )
        _notify(
            organisation,
            kind="trade.grant_revoked",
            title=format_lazy(
                gettext_lazy("{owner} ended your appointment on trade {reference}"),
                owner=trade.organisation.legal_name,
                reference=trade.reference,
            ),
            trade=trade,
        )
    return grant
