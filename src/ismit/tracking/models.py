"""Shipments and what happened to them: events (DCSA Track & Trace 3.0, plus customs and platform events),
alerts, and who hears about them (DCSA subscriptions, webhooks, each user's alert preferences).

Events are immutable. A carrier that corrects an event sends it again under the same eventID with a later
eventUpdatedDateTime: the new row `supersedes` the old one, which stays on record. The current version of
an event is the one nothing supersedes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ismit.lib.scoping import VIEW, ScopedQuerySet

# -- codes ------------------------------------------------------------------------------------------------


class EventType(models.TextChoices):
    SHIPMENT = "SHIPMENT", _("Shipment")
    TRANSPORT = "TRANSPORT", _("Transport")
    EQUIPMENT = "EQUIPMENT", _("Equipment")
    IOT = "IOT", _("IoT")
    REEFER = "REEFER", _("Reefer")
    CUSTOMS = "CUSTOMS", _("Customs")
    PLATFORM = "PLATFORM", _("Platform")


class Classifier(models.TextChoices):
    PLANNED = "PLN", pgettext_lazy("event time", "Planned")
    ESTIMATED = "EST", _("Estimated")
    ACTUAL = "ACT", _("Actual")
    REQUESTED = "REQ", _("Requested")


class ShipmentStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("shipment status", "Planned")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    DELIVERED = "delivered", pgettext_lazy("shipment status", "Delivered")


class ReferenceKind(models.TextChoices):
    BOOKING = "BKG", _("Carrier booking reference")
    TRANSPORT_DOCUMENT = "TRD", _("Transport document reference")
    EQUIPMENT = "EQ", _("Equipment reference")


class AlertKind(models.TextChoices):
    EVENT = "event", _("New event")
    DELAY = "delay", _("Delay")
    CUSTOMS_HOLD = "customs_hold", _("Customs hold")
    MISSED_CONNECTION = "missed_connection", _("Missed connection")
    SILENCE = "silence", _("No news")
    MISSING_DOCUMENT = "missing_document", _("Missing document")


# -- shipments ----------------------------------------------------------------------------------------------


class ShipmentQuerySet(ScopedQuerySet):
    """A shipment is its owner's; a provider the owner authorised (ShipmentAccess) sees it too."""

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(pk__in_array=ShipmentAccess.objects.granted_shipment_ids(actor.organisation_scope(VIEW)))


class ShipmentChildQuerySet(ScopedQuerySet):
    scope_field = "shipment__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(
            shipment_id__in_array=ShipmentAccess.objects.granted_shipment_ids(actor.organisation_scope(VIEW))
        )


class CarrierEndpoint(models.Model):
    """A carrier's own DCSA T&T endpoint that the platform polls (`GET {base_url}/events`)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="carrier_endpoints"
    )
    name = models.CharField(_("name"), max_length=100)
    base_url = models.URLField(_("base URL"), max_length=300)
    token_sealed = models.BinaryField(default=b"", editable=False)
    page_size = models.PositiveSmallIntegerField(default=100)
    timeout_s = models.FloatField(default=10.0)
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("carrier endpoint")
        verbose_name_plural = _("carrier endpoints")

    def __str__(self) -> str:
        return self.name

    def set_token(self, token: str) -> None:
        from ismit.customs.models import seal_secret

        self.token_sealed = seal_secret(token) if token else b""

    @property
    def token(self) -> str:
        from ismit.customs.models import open_secret

        return open_secret(self.token_sealed) if self.token_sealed else ""


class Shipment(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, db_index=False, related_name="shipments"
    )
    trade = models.ForeignKey(
        "trades.Trade", null=True, blank=True, on_delete=models.SET_NULL, related_name="shipments"
    )
    reference = models.CharField(_("reference"), max_length=40)
    # UN/LOCODEs in order: origin, port of loading, transshipment ports, port of discharge, destination.
    route = models.JSONField(_("route"), default=list)
    port_of_loading = models.CharField(_("port of loading"), max_length=5)
    port_of_discharge = models.CharField(_("port of discharge"), max_length=5)
    planned_departure = models.DateTimeField(_("planned departure"), null=True, blank=True)
    planned_arrival = models.DateTimeField(_("planned arrival"), null=True, blank=True)
    carrier_endpoint = models.ForeignKey(
        CarrierEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="shipments"
    )
    # Derived from the events on every ingestion (see services.refresh_shipment): read by lists and pages.
    status = models.CharField(
        _("status"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.PLANNED
    )
    eta = models.DateTimeField(_("estimated arrival"), null=True, blank=True)
    eta_classifier = models.CharField(max_length=3, blank=True)
    delayed = models.BooleanField(default=False)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_location = models.CharField(max_length=5, blank=True)
    # The poller asks the carrier for events updated since this time.
    polled_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="shipment_reference_unique")
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="shipment_org_created"),
            models.Index(fields=["status", "eta"], name="shipment_status_eta"),
        ]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.reference

    @property
    def origin(self) -> str:
        return self.route[0] if self.route else self.port_of_loading

    @property
    def destination(self) -> str:
        return self.route[-1] if self.route else self.port_of_discharge


class ShipmentReference(models.Model):
    """A booking, transport document (B/L) or container number: any of them finds the shipment."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=3, choices=ReferenceKind.choices)
    value = models.CharField(max_length=100)

    objects = ShipmentChildQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "kind", "value"], name="shipment_reference_once")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="shipment_reference_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class ShipmentAccessQuerySet(ScopedQuerySet):
    """Seen by the shipment's owner and by the organisation it authorises."""

    scope_field = "shipment__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(organisation_id__in=actor.organisation_scope(VIEW))

    def active(self) -> ShipmentAccessQuerySet:
        return self.filter(revoked_at__isnull=True)

    def granted_shipment_ids(self, organisation_ids):
        return self.filter(organisation_id__in=organisation_ids, revoked_at__isnull=True).values(
            "shipment_id"
        )


class ShipmentAccess(models.Model):
    """A provider (carrier, forwarder) the owner authorised to see the shipment and to post its events."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="accesses")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShipmentAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "shipment"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_shipment_access",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} on shipment {self.shipment_id}"


# -- events -------------------------------------------------------------------------------------------------


class Event(models.Model):
    """One version of an event, as received (the message is kept); never changed once written."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, db_index=False, related_name="events")
    # Who produced it: "org:<id>" (posted by an organisation), "carrier:<endpoint id>" (polled),
    # "customs" or "platform". The eventID is unique per source.
    source = models.CharField(max_length=40)
    event_id = models.CharField(max_length=500)
    event_type = models.CharField(max_length=10, choices=EventType.choices)
    classifier = models.CharField(max_length=3, choices=Classifier.choices)
    type_code = models.CharField(max_length=20, blank=True)  # ARRI/DEPA, LOAD/DISC…, CONF…, a customs status
    event_datetime = models.DateTimeField()
    event_updated_at = models.DateTimeField()  # eventUpdatedDateTime (eventCreatedDateTime in T&T 2)
    received_at = models.DateTimeField(default=timezone.now)
    location = models.CharField(max_length=5, blank=True)  # UN/LOCODE
    location_name = models.CharField(max_length=100, blank=True)
    equipment_reference = models.CharField(max_length=11, blank=True)
    vessel_name = models.CharField(max_length=50, blank=True)
    voyage = models.CharField(max_length=50, blank=True)
    is_retracted = models.BooleanField(default=False)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    posted_by_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.JSONField()

    objects = ShipmentChildQuerySet.as_manager()

    class Meta:
        ordering = ["event_datetime", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id", "event_updated_at"], name="tracking_event_version_once"
            )
        ]
        indexes = [
            models.Index(fields=["shipment", "event_datetime"], name="tracking_event_timeline"),
            models.Index(fields=["source", "event_id"], name="tracking_event_source_id"),
        ]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.type_code} {self.classifier} {self.location} {self.event_datetime}"


# -- alerts and who hears about them ------------------------------------------------------------------------


class Alert(models.Model):
    """Something that went wrong (or may): raised once per key, then resolved or left."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, db_index=False, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    key = models.CharField(max_length=200)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ShipmentChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "key"], name="tracking_alert_once")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    #: parameters that are times (ISO 8601 in `details`), shown as local dates
    TIME_PARAMS = frozenset({"eta", "when"})

    @classmethod
    def render(cls, text: str, params: dict) -> str:
        """The message in the active language, its times as local dates."""
        values = dict(params)
        for name in cls.TIME_PARAMS & values.keys():
            moment = parse_datetime(str(values[name]))
            if moment is not None:
                values[name] = date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
        try:
            return gettext(text).format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    @property
    def localized_message(self) -> str:
        """The message in the reader's language (alerts stored before texts were kept: as stored)."""
        text, params = self.details.get("text"), self.details.get("params")
        return self.render(text, params) if text and isinstance(params, dict) else self.message


class AlertPreference(models.Model):
    """One user's choice for one kind of alert in one organisation: in the platform, by e-mail. Without a
    row, both."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "kind"], name="one_alert_preference")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}"


class Subscription(models.Model):
    """A DCSA-style event subscription: matching events are POSTed to the callback URL, signed with the
    secret (`Notification-Signature: sha256=<hex HMAC of the body>`)."""

    subscription_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    callback_url = models.URLField(max_length=500)
    secret_sealed = models.BinaryField(default=b"", editable=False)
    # DCSA filters: eventTypes (list), carrierBookingReference, transportDocumentReference,
    # equipmentReference, UNLocationCode, transportEventTypeCode, equipmentEventTypeCode… (AND between them)
    filters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(self.subscription_id)

    def set_secret(self, secret: str) -> None:
        from ismit.customs.models import seal_secret

        self.secret_sealed = seal_secret(secret)

    @property
    def secret(self) -> str:
        from ismit.customs.models import open_secret

        return open_secret(self.secret_sealed)


class WebhookEndpoint(models.Model):
    """An organisation's own system that receives its alerts (HMAC-signed, retried, logged)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    secret_sealed = models.BinaryField(default=b"", editable=False)
    kinds = models.JSONField(default=list, blank=True)  # alert kinds; empty: every kind
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    set_secret = Subscription.set_secret
    secret = Subscription.secret


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Given up")


class Delivery(models.Model):
    """The log of one outgoing notification (subscription or webhook): every attempt updates it; the
    outbox keeps each attempt."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    webhook = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    url = models.URLField(max_length=500)
    summary = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"


class ShareLinkQuerySet(ScopedQuerySet):
    scope_field = "shipment__organisation"


class ShareLink(models.Model):
    """A read-only link to one shipment for the buyer abroad: expiring, revocable; only the SHA-256 of its
    token is stored."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8)
    label = models.CharField(_("label"), max_length=100, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.shipment_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
