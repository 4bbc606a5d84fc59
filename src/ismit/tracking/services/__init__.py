"""Writes of the tracking app: shipments and who may report on them (shipments.py), events — posted,
polled, from customs — and what follows from them: derived state, checklist steps (events.py), alerts
(alerts.py), subscriptions, webhooks and preferences (subscriptions.py), share links (share_links.py).
"""

from ismit.tracking.services.alerts import (
    check_alerts,
    matches,
    notify_subscribers,
    raise_alert,
)
from ismit.tracking.services.base import (
    CUSTOMS_HOLDS,
    CUSTOMS_SOURCE,
    DOCUMENT_STEPS,
    NOTIFICATION_TOPIC,
    PLATFORM_SOURCE,
    STATUS_RANK,
    shipment_path,
)
from ismit.tracking.services.events import (
    EVENT_COLUMNS,
    IngestResult,
    NoShipment,
    add_carrier_endpoint,
    current_events,
    estimated_arrival,
    ingest,
    post_events,
    postable_shipments,
    record_customs_event,
    refresh_shipment,
)
from ismit.tracking.services.share_links import (
    MAX_SHARE_DAYS,
    create_share_link,
    open_share_link,
    revoke_share_link,
)
from ismit.tracking.services.shipments import (
    ShipmentData,
    create_shipment,
    grant_access,
    revoke_access,
)
from ismit.tracking.services.subscriptions import (
    SUBSCRIPTION_FILTERS,
    change_subscription_secret,
    create_subscription,
    create_webhook,
    delete_subscription,
    delete_webhook,
    record_attempt,
    set_alert_preferences,
    update_subscription,
)

__all__ = [
    "CUSTOMS_HOLDS",
    "CUSTOMS_SOURCE",
    "DOCUMENT_STEPS",
    "EVENT_COLUMNS",
    "MAX_SHARE_DAYS",
    "NOTIFICATION_TOPIC",
    "PLATFORM_SOURCE",
    "STATUS_RANK",
    "SUBSCRIPTION_FILTERS",
    "IngestResult",
    "NoShipment",
    "ShipmentData",
    "add_carrier_endpoint",
    "change_subscription_secret",
    "check_alerts",
    "create_share_link",
    "create_shipment",
    "create_subscription",
    "create_webhook",
    "current_events",
    "delete_subscription",
    "delete_webhook",
    "estimated_arrival",
    "grant_access",
    "ingest",
    "matches",
    "notify_subscribers",
    "open_share_link",
    "post_events",
    "postable_shipments",
    "raise_alert",
    "record_attempt",
    "record_customs_event",
    "refresh_shipment",
    "revoke_access",
    "revoke_share_link",
    "set_alert_preferences",
    "shipment_path",
    "update_subscription",
]
