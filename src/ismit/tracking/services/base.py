"""What the tracking services share: topics, sources, ranks, the shipment's path, the permission check."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.lib.scoping import CHANGE
from ismit.tracking.models import (
    ShipmentStatus,
)

logger = logging.getLogger("ismit.tracking")

NOTIFICATION_TOPIC = "tracking.notification"
CUSTOMS_SOURCE = "customs"
PLATFORM_SOURCE = "platform"
STATUS_RANK = {s: n for n, s in enumerate(ShipmentStatus.values)}
#: customs statuses (ismit.customs) that hold the goods
CUSTOMS_HOLDS = {"query", "documents_required", "control"}
#: the trade's steps that are documents to have ready before the departure
DOCUMENT_STEPS = (
    "commercial_invoice",
    "packing_list",
    "licences",
    "certificate_of_origin",
    "export_declaration",
)


def shipment_path(shipment_id: int) -> str:
    """The path of a shipment's page (links in notifications)."""
    return f"/shipments/{shipment_id}/"


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def require_change(actor: Actor, organisation_id: int) -> None:
    if not actor.can(CHANGE, organisation_id):
        raise PermissionDenied(_("You may not change this organisation's shipments."))
