"""Share links: a shipment's page opened without an account."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.audit.services import record_event
from ismit.tracking.models import (
    ShareLink,
    Shipment,
)
from ismit.tracking.services.base import require_change

# -- share links ---------------------------------------------------------------------------------------------

MAX_SHARE_DAYS = 90


def create_share_link(
    *, actor: Actor, shipment: Shipment, days: int = 14, label: str = ""
) -> tuple[ShareLink, str]:
    """A read-only link for the buyer; the token is shown once."""
    require_change(actor, shipment.organisation_id)
    if not 1 <= days <= MAX_SHARE_DAYS:
        raise ValidationError({"days": [_("Between 1 and %(max)s days.") % {"max": MAX_SHARE_DAYS}]})
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        link = ShareLink.objects.create(
            shipment=shipment,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            hint=token[:6],
            label=label[:100],
            expires_at=timezone.now() + dt.timedelta(days=days),
            created_by=actor.user,
        )
        record_event(
            actor=actor,
            organisation_id=shipment.organisation_id,
            action="tracking.share_link_created",
            obj=link,
            changes={"shipment": shipment.reference, "expires_at": link.expires_at, "label": label},
        )
    return link, token


def revoke_share_link(*, actor: Actor, link: ShareLink) -> ShareLink:
    require_change(actor, link.shipment.organisation_id)
    with transaction.atomic():
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            record_event(
                actor=actor,
                organisation_id=link.shipment.organisation_id,
                action="tracking.share_link_revoked",
                obj=link,
                changes={"shipment": link.shipment.reference},
            )
    return link


def open_share_link(*, token: str) -> Shipment:
    """The shipment of an active link (each opening is audited); 404 for an unknown, expired or revoked
    one."""
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    link = ShareLink.objects.select_related("shipment").filter(token_hash=digest).first()
    if link is None or not link.is_active:
        raise Http404
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
        record_event(
            actor=None,
            organisation_id=link.shipment.organisation_id,
            action="tracking.share_link_opened",
            obj=link,
            changes={"shipment": link.shipment.reference},
        )
    return link.shipment
