"""Subscriptions (DCSA), webhooks, alert preferences, and the record of their deliveries."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import (
    AlertKind,
    AlertPreference,
    Delivery,
    DeliveryStatus,
    EventType,
    Subscription,
    WebhookEndpoint,
)
from ismit.tracking.services.base import require_change

# -- subscriptions, webhooks, preferences ------------------------------------------------------------------

SUBSCRIPTION_FILTERS = (
    "eventTypes",
    "carrierBookingReference",
    "transportDocumentReference",
    "equipmentReference",
    "UNLocationCode",
    "transportEventTypeCode",
    "equipmentEventTypeCode",
    "shipmentEventTypeCode",
)


def _check_url(url: str, path: str, errors: FieldErrors) -> None:
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
        errors.add(path, _("Enter an http(s) URL of at most 500 characters."))


def _check_secret(secret, path: str, errors: FieldErrors) -> None:
    if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        errors.add(path, _("Enter a secret of 16 to 200 characters."))


def _subscription_filters(filters: dict, errors: FieldErrors) -> dict:
    """A subscription's filters, checked against the standard's query parameters."""
    clean = {}
    for name, value in (filters or {}).items():
        if name not in SUBSCRIPTION_FILTERS:
            errors.add(name, _("Unknown filter."))
        elif name.endswith("Codes") or name in (
            "eventTypes",
            "transportEventTypeCode",
            "equipmentEventTypeCode",
            "shipmentEventTypeCode",
        ):
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                errors.add(name, _("Enter a list of codes."))
            else:
                clean[name] = [v.strip() for v in items if v.strip()]
        elif not isinstance(value, str) or len(value) > 100:
            errors.add(name, _("Enter a text of at most 100 characters."))
        else:
            clean[name] = value
    bad = set(clean.get("eventTypes", [])) - {*dm.EVENT_TYPES, EventType.CUSTOMS, EventType.PLATFORM}
    if bad:
        errors.add("eventTypes", _("Unknown event type."))
    return clean


def create_subscription(
    *, actor: Actor, organisation: Organisation, callback_url: str, secret: str, filters: dict
) -> Subscription:
    require_change(actor, organisation.pk)
    errors = FieldErrors()
    _check_url(callback_url, "callbackUrl", errors)
    _check_secret(secret, "secret", errors)
    clean = _subscription_filters(filters, errors)
    errors.raise_if_any()
    with transaction.atomic():
        sub = Subscription(
            organisation=organisation, callback_url=callback_url, filters=clean, created_by=actor.user
        )
        sub.set_secret(secret)
        sub.save()
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.subscription_created",
            obj=sub,
            changes={"callback_url": callback_url, "filters": clean},
        )
    return sub


def update_subscription(
    *, actor: Actor, subscription: Subscription, callback_url: str, filters: dict
) -> Subscription:
    """Replace a subscription's callback URL and filters (its secret has its own change)."""
    require_change(actor, subscription.organisation_id)
    errors = FieldErrors()
    _check_url(callback_url, "callbackUrl", errors)
    clean = _subscription_filters(filters, errors)
    errors.raise_if_any()
    with transaction.atomic():
        before = {"callback_url": subscription.callback_url, "filters": subscription.filters}
        subscription.callback_url, subscription.filters = callback_url, clean
        subscription.save(update_fields=["callback_url", "filters"])
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_updated",
            obj=subscription,
            changes={
                "callback_url": [before["callback_url"], callback_url],
                "filters": [before["filters"], clean],
            },
        )
    return subscription


def change_subscription_secret(*, actor: Actor, subscription: Subscription, secret: str) -> None:
    """A new shared secret for the subscription's Notification-Signature (the old one stops at once)."""
    require_change(actor, subscription.organisation_id)
    errors = FieldErrors()
    _check_secret(secret, "secret", errors)
    errors.raise_if_any()
    with transaction.atomic():
        subscription.set_secret(secret)
        subscription.save(update_fields=["secret_sealed"])
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_secret_changed",
            obj=subscription,
            changes={},
        )


def delete_subscription(*, actor: Actor, subscription: Subscription) -> None:
    require_change(actor, subscription.organisation_id)
    with transaction.atomic():
        record_event(
            actor=actor,
            organisation_id=subscription.organisation_id,
            action="tracking.subscription_deleted",
            obj=subscription,
            changes={"callback_url": subscription.callback_url},
        )
        subscription.delete()


def create_webhook(
    *, actor: Actor, organisation: Organisation, url: str, secret: str, kinds: list[str]
) -> WebhookEndpoint:
    require_change(actor, organisation.pk)
    errors = FieldErrors()
    _check_url(url, "url", errors)
    _check_secret(secret, "secret", errors)
    if set(kinds) - set(AlertKind.values):
        errors.add("kinds", _("Unknown kind of alert."))
    errors.raise_if_any()
    with transaction.atomic():
        hook = WebhookEndpoint(organisation=organisation, url=url, kinds=list(kinds), created_by=actor.user)
        hook.set_secret(secret)
        hook.save()
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.webhook_created",
            obj=hook,
            changes={"url": url, "kinds": list(kinds)},
        )
    return hook


def delete_webhook(*, actor: Actor, webhook: WebhookEndpoint) -> None:
    require_change(actor, webhook.organisation_id)
    with transaction.atomic():
        record_event(
            actor=actor,
            organisation_id=webhook.organisation_id,
            action="tracking.webhook_deleted",
            obj=webhook,
            changes={"url": webhook.url},
        )
        webhook.active = False
        webhook.save(update_fields=["active"])


def set_alert_preferences(
    *, actor: Actor, organisation: Organisation, choices: dict[str, dict[str, bool]]
) -> list[AlertPreference]:
    """The user's own choice, per kind of alert: {"delay": {"in_app": true, "email": false}, …}."""
    if organisation.pk not in actor.roles:
        raise Http404
    errors = FieldErrors()
    for kind in choices:
        if kind not in AlertKind.values:
            errors.add(kind, _("Unknown kind of alert."))
    errors.raise_if_any()
    with transaction.atomic():
        for kind, choice in choices.items():
            AlertPreference.objects.update_or_create(
                user=actor.user,
                organisation=organisation,
                kind=kind,
                defaults={
                    "in_app": bool(choice.get("in_app", True)),
                    "email": bool(choice.get("email", True)),
                },
            )
        record_event(
            actor=actor,
            organisation_id=organisation.pk,
            action="tracking.alert_preferences_set",
            object_type="accounts.user",
            object_id=actor.user.pk,
            changes=choices,
        )
    return list(AlertPreference.objects.filter(user=actor.user, organisation=organisation).order_by("kind"))


# -- deliveries (called by the outbox handler) ---------------------------------------------------------------


def record_attempt(*, key: str, status: str, status_code: int | None = None, error: str = "") -> None:
    now = timezone.now()
    fields = {"status": status, "last_status_code": status_code, "last_error": error[:4000]}
    if status == DeliveryStatus.DELIVERED:
        fields["delivered_at"] = now
    from django.db.models import F

    Delivery.objects.filter(idempotency_key=key).update(attempts=F("attempts") + 1, **fields)
