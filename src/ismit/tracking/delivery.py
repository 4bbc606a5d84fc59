"""The outbox's delivery handler of tracking notifications: DCSA subscription callbacks and alert webhooks.

POST the body as it was queued, signed with the subscription's (or webhook's) secret:
`Notification-Signature: sha256=<hex HMAC-SHA256 of the body>` (DCSA T&T), with `Idempotency-Key`,
`API-Version` and, for a subscription, `Subscription-ID`. 2xx: delivered. 5xx, 408, 429, timeouts, refused
connections: outbox.Retry (backoff). Other 4xx, or a subscription deleted meanwhile: outbox.Permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

from django.conf import settings

from ismit import outbox
from ismit.tracking import services
from ismit.tracking.dcsa_messages import API_VERSION
from ismit.tracking.models import Delivery, DeliveryStatus

TIMEOUT_S = 10
RETRYABLE = {408, 425, 429}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@outbox.handler(services.NOTIFICATION_TOPIC)
def deliver(message) -> None:
    key = message.idempotency_key
    delivery = Delivery.objects.select_related("subscription", "webhook").filter(idempotency_key=key).first()
    target = delivery and (delivery.subscription or delivery.webhook)
    if target is None:
        services.record_attempt(key=key, status=DeliveryStatus.DEAD, error="The subscription is gone.")
        raise outbox.Permanent("The subscription or webhook of this delivery is gone.")
    body = bytes(message.payload)
    headers = {
        "Content-Type": "application/json",
        "Notification-Signature": signature(target.secret, body),
        "Idempotency-Key": key,
        "API-Version": API_VERSION,
    }
    if delivery.subscription is not None:
        headers["Subscription-ID"] = str(delivery.subscription.subscription_id)
    last = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    failed = DeliveryStatus.DEAD if last else DeliveryStatus.FAILED
    request = urllib.request.Request(delivery.url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (http(s) only)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        if status >= 500 or status in RETRYABLE:
            services.record_attempt(key=key, status=failed, status_code=status, error=f"HTTP {status}")
            raise outbox.Retry(f"The receiver answered {status}.")
        services.record_attempt(
            key=key, status=DeliveryStatus.DEAD, status_code=status, error=f"HTTP {status}"
        )
        raise outbox.Permanent(f"The receiver refused the delivery ({status}).")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        services.record_attempt(key=key, status=failed, error=str(exc))
        raise outbox.Retry(f"The receiver could not be reached: {exc}")
    services.record_attempt(key=key, status=DeliveryStatus.DELIVERED, status_code=status)
