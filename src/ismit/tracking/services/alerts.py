"""Alerts: raised from events and deadlines, notified to who wants them."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_noop

from ismit.accounts.models import Membership
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.outbox.services import enqueue
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import (
    Alert,
    AlertKind,
    AlertPreference,
    Delivery,
    Event,
    EventType,
    Shipment,
    ShipmentAccess,
    ShipmentReference,
    ShipmentStatus,
    Subscription,
    WebhookEndpoint,
)
from ismit.tracking.services.base import DOCUMENT_STEPS, NOTIFICATION_TOPIC, setting, shipment_path
from ismit.trades.models import ChecklistStep, StepStatus

# -- alerts ---------------------------------------------------------------------------------------------


def raise_alert(
    *, shipment: Shipment, kind: str, key: str, text: str, params: dict, details: dict | None = None
) -> Alert | None:
    """Raise an alert once per key: tell the members who want it (in-app, e-mail) and the organisation's
    webhooks. None when it was raised already.

    `text` is an untranslated message (marked with gettext_noop) with `{name}` fields filled from
    `params`: the alert is stored with both, and every reader gets it in their own language
    (Alert.localized_message); `message` keeps it in the platform's default language, for webhooks."""
    params = json.loads(json.dumps(params, cls=DjangoJSONEncoder))
    with translation.override(settings.LANGUAGE_CODE):
        stored = Alert.render(text, params)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                shipment=shipment,
                kind=kind,
                key=key[:200],
                message=stored,
                details=json.loads(
                    json.dumps({**(details or {}), "text": text, "params": params}, cls=DjangoJSONEncoder)
                ),
            )
    except IntegrityError:
        return None
    record_event(
        actor=None,
        organisation_id=shipment.organisation_id,
        action="tracking.alert_raised",
        obj=alert,
        changes={"shipment": shipment.reference, "kind": kind, "key": key},
    )
    _tell_members(
        shipment.organisation_id, kind, lazy(Alert.render, str)(text, params), shipment_path(shipment.pk)
    )
    _send_to_webhooks(alert, shipment)
    return alert


def _tell_members(organisation_id: int, kind: str, title, url: str) -> None:
    members = list(
        Membership.objects.filter(organisation_id=organisation_id, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    choices = {
        p.user_id: p for p in AlertPreference.objects.filter(organisation_id=organisation_id, kind=kind)
    }
    by_mail, in_app_only = [], []
    for user_id in members:
        choice = choices.get(user_id)
        if choice is None or (choice.in_app and choice.email):
            by_mail.append(user_id)
        elif choice.in_app:
            in_app_only.append(user_id)
    for user_ids, email in ((by_mail, True), (in_app_only, False)):
        if user_ids:
            notify(
                organisation_id=organisation_id,
                kind=f"tracking.{kind}",
                title=title,
                url=url,
                email=email,
                user_ids=user_ids,
            )


def _send_to_webhooks(alert: Alert, shipment: Shipment) -> None:
    hooks = [
        h
        for h in WebhookEndpoint.objects.filter(organisation_id=shipment.organisation_id, active=True)
        if not h.kinds or alert.kind in h.kinds
    ]
    if not hooks:
        return
    body = {
        "type": "alert",
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "message": alert.message,
            "details": alert.details,
            "createdAt": dm.format_time(alert.created_at),
        },
        "shipment": {
            "id": shipment.pk,
            "reference": shipment.reference,
            "status": shipment.status,
            "eta": dm.format_time(shipment.eta) if shipment.eta else None,
            "delayed": shipment.delayed,
        },
    }
    payload = json.dumps(body, cls=DjangoJSONEncoder).encode()
    for hook in hooks:
        _queue_delivery(
            organisation_id=shipment.organisation_id,
            key=f"tracking-alert:{hook.pk}:{alert.pk}",
            url=hook.url,
            payload=payload,
            summary=f"{alert.kind}: {shipment.reference}",
            webhook=hook,
        )


def _queue_delivery(
    *, organisation_id, key, url, payload, summary, subscription=None, webhook=None
) -> Delivery:
    delivery = Delivery.objects.create(
        organisation_id=organisation_id,
        subscription=subscription,
        webhook=webhook,
        idempotency_key=key,
        url=url,
        summary=summary[:200],
    )
    enqueue(
        topic=NOTIFICATION_TOPIC,
        payload=payload,
        idempotency_key=key,
        organisation_id=organisation_id,
        target=url,
    )
    return delivery


def notify_subscribers(events: list[Event]) -> None:
    """One signed delivery per subscription with the new events it asks for (DCSA `{"events": [...]}`)."""
    shipment_ids = {e.shipment_id for e in events}
    owners = dict(Shipment.objects.filter(pk__in=shipment_ids).values_list("pk", "organisation_id"))
    readers: dict[int, set[int]] = defaultdict(set)  # organisation -> shipments it sees
    for pk, org in owners.items():
        readers[org].add(pk)
    for shipment_id, org in ShipmentAccess.objects.filter(
        shipment_id__in=shipment_ids, revoked_at__isnull=True
    ).values_list("shipment_id", "organisation_id"):
        readers[org].add(shipment_id)
    subscriptions = list(Subscription.objects.filter(organisation_id__in=list(readers)))
    if not subscriptions:
        return
    refs: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for shipment_id, kind, value in ShipmentReference.objects.filter(
        shipment_id__in=shipment_ids
    ).values_list("shipment_id", "kind", "value"):
        refs[shipment_id].add((kind, value))
    for sub in subscriptions:
        chosen = [
            e
            for e in events
            if e.shipment_id in readers[sub.organisation_id] and matches(sub.filters, e, refs[e.shipment_id])
        ]
        if not chosen:
            continue
        payload = json.dumps({"events": [e.raw for e in chosen]}, cls=DjangoJSONEncoder).encode()
        _queue_delivery(
            organisation_id=sub.organisation_id,
            key=f"tracking-sub:{sub.pk}:{chosen[0].pk}-{chosen[-1].pk}-{len(chosen)}",
            url=sub.callback_url,
            payload=payload,
            summary=f"{len(chosen)} event(s)",
            subscription=sub,
        )


def matches(filters: dict, event: Event, refs: set[tuple[str, str]]) -> bool:
    """Does the event pass a subscription's filters (AND between filters, OR within a list)?"""
    types = filters.get("eventTypes") or []
    if types and event.event_type not in types:
        return False
    for name, kind in (
        ("carrierBookingReference", "BKG"),
        ("transportDocumentReference", "TRD"),
        ("equipmentReference", "EQ"),
    ):
        value = filters.get(name)
        if value and (kind, value) not in refs:
            return False
    location = filters.get("UNLocationCode")
    if location and event.location != location:
        return False
    for name, event_type in (
        ("transportEventTypeCode", EventType.TRANSPORT),
        ("equipmentEventTypeCode", EventType.EQUIPMENT),
        ("shipmentEventTypeCode", EventType.SHIPMENT),
    ):
        codes = filters.get(name) or []
        if codes and (event.event_type != event_type or event.type_code not in codes):
            return False
    return True


def check_alerts(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """The periodic check: shipments in transit without news for N days, and documents not ready N days
    before the departure. Returns how many alerts were raised."""
    now = now or timezone.now()
    raised = 0
    silence = dt.timedelta(days=setting("TRACKING_SILENCE_DAYS", 3))
    quiet = Shipment.objects.filter(status=ShipmentStatus.IN_TRANSIT, last_event_at__lt=now - silence)
    for shipment in quiet.order_by("last_event_at")[:batch]:
        days = (now - shipment.last_event_at).days
        with transaction.atomic():
            raised += bool(
                raise_alert(
                    shipment=shipment,
                    kind=AlertKind.SILENCE,
                    key=f"silence:{shipment.last_event_at.isoformat()}",
                    text=gettext_noop("{reference}: no news of the shipment for {days} days."),
                    params={"reference": shipment.reference, "days": days},
                    details={"last_event_at": shipment.last_event_at},
                )
            )
    cutoff = dt.timedelta(days=setting("TRACKING_DOCUMENT_CUTOFF_DAYS", 2))
    soon = Shipment.objects.filter(
        status=ShipmentStatus.PLANNED,
        trade__isnull=False,
        planned_departure__isnull=False,
        planned_departure__lte=now + cutoff,
    )
    for shipment in soon.order_by("planned_departure")[:batch]:
        missing = ChecklistStep.objects.filter(trade_id=shipment.trade_id, code__in=DOCUMENT_STEPS).exclude(
            status__in=[StepStatus.DONE, StepStatus.NOT_NEEDED]
        )
        for step in missing:
            with transaction.atomic():
                raised += bool(
                    raise_alert(
                        shipment=shipment,
                        kind=AlertKind.MISSING_DOCUMENT,
                        key=f"missing_document:{step.code}",
                        text=gettext_noop(
                            "{reference}: step “{step}” is not done and the departure is {when}."
                        ),
                        params={
                            "reference": shipment.reference,
                            "step": step.code,
                            "when": dm.format_time(shipment.planned_departure),
                        },
                        details={"step": step.code, "planned_departure": shipment.planned_departure},
                    )
                )
    return raised
