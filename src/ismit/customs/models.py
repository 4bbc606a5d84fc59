"""Single windows (configured by operators), declarations and their versions, every answer received,
every message exchanged, and the questions customs asks."""

from __future__ import annotations

import hashlib
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.lib import lookups  # noqa: F401 - registers nonempty, for the partial index of notifications
from ismit.lib.scoping import ADMIN, ActorLike, ScopedQuerySet
from ismit.trades.models import GrantScope, TradeGrant

# -- single windows -----------------------------------------------------------------------------------


class Procedure(models.TextChoices):
    EXPORT = "export", _("Export declaration")
    IMPORT = "import", _("Import declaration")
    FX = "fx", _("Foreign-exchange settlement report")
    VAT = "vat", _("VAT refund claim")


class Channel(models.TextChoices):
    WCO_XML = "wco-xml", _("WCO declaration XML")
    EDIFACT = "edifact", _("UN/EDIFACT CUSDEC")
    JSON = "json", _("JSON (reports and claims)")


_SEALED = b"ISW1"  # layout of a sealed secret: magic, 12-byte nonce, ciphertext with its tag


def _aead() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ismit.customs.window-secrets").derive(
        settings.ISMIT_SIGNING_SECRET.encode()
    )
    return AESGCM(key)


def seal_secret(secret: str) -> bytes:
    """The shared secret of a window, encrypted at rest (AES-256-GCM under a key derived from
    ISMIT_SIGNING_SECRET, as the documents' signing keys are)."""
    nonce = os.urandom(12)
    return _SEALED + nonce + _aead().encrypt(nonce, secret.encode(), _SEALED)


def open_secret(blob: bytes) -> str:
    blob = bytes(blob)
    if not blob.startswith(_SEALED):
        raise ImproperlyConfigured("the stored single window secret is not in a known format")
    nonce, ciphertext = blob[4:16], blob[16:]
    try:
        return _aead().decrypt(nonce, ciphertext, _SEALED).decode()
    except InvalidTag:
        raise ImproperlyConfigured(
            "A single window secret cannot be decrypted: ISMIT_SIGNING_SECRET is not the secret it was "
            "encrypted with. Set the window's secret again (`ismit customs add-window ... --secret`)."
        )


class SingleWindow(models.Model):
    """A national single window the platform sends to: one row per country, procedure and format."""

    name = models.CharField(_("name"), max_length=100)
    country = models.CharField(
        _("country"), max_length=2, help_text="ISO 3166 alpha-2: the country of export (import) it serves."
    )
    procedure = models.CharField(_("procedure"), max_length=8, choices=Procedure.choices)
    connector = models.CharField(_("connector"), max_length=10, choices=Channel.choices)
    base_url = models.URLField(_("base URL"), max_length=300, help_text="e.g. https://nsw.example.gov/api")
    client_id = models.CharField(_("client id"), max_length=100)
    secret_sealed = models.BinaryField(blank=True, default=b"", editable=False)
    secret_env = models.CharField(
        _("secret from environment variable"),
        max_length=100,
        blank=True,
        help_text="Name of an environment variable that holds the shared secret (instead of storing it).",
    )
    timeout = models.FloatField(_("timeout (seconds)"), default=20.0)
    active = models.BooleanField(_("active"), default=True)
    # Polling fallback: the highest notification sequence read by polling.
    poll_after = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    # One poll of an endpoint at a time: taken by a conditional UPDATE, given back when the poll ends (or
    # left to expire when its worker dies).
    polling_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "procedure", "connector"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "procedure", "connector"], name="one_window_per_country_procedure_format"
            )
        ]
        verbose_name = _("single window")
        verbose_name_plural = _("single windows")

    def __str__(self) -> str:
        return f"{self.name} ({self.country} {self.procedure}, {self.connector})"

    def set_secret(self, secret: str) -> None:
        self.secret_sealed = seal_secret(secret) if secret else b""

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_sealed) or bool(self.secret_env)

    @property
    def secret(self) -> str:
        """The shared HMAC secret: from the environment variable named in the row, else the sealed one."""
        if self.secret_env:
            value = os.environ.get(self.secret_env, "")
            if not value:
                raise ImproperlyConfigured(
                    f"single window {self.pk}: the environment variable {self.secret_env} is not set"
                )
            return value
        if not self.secret_sealed:
            raise ImproperlyConfigured(f"single window {self.pk} has no secret")
        return open_secret(self.secret_sealed)

    def get_secret(self) -> str:
        return self.secret

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def callback_path(self) -> str:
        from django.urls import reverse

        return reverse("customs:callback", kwargs={"window_id": self.pk})


# -- scoping ----------------------------------------------------------------------------------------------


def customs_grant_trades(actor: ActorLike, action: str):
    """Subquery of the ids of the trades on which one of the actor's organisations holds an active customs
    grant (with `action` allowed in that organisation), or None for ADMIN (never granted)."""
    if action == ADMIN:
        return None
    return TradeGrant.objects.filter(
        organisation_id__in=actor.organisation_scope(action),
        scope=GrantScope.CUSTOMS,
        revoked_at__isnull=True,
    ).values("trade_id")


class CustomsQuerySet(ScopedQuerySet):
    """Owned by the trade's organisation; a customs broker appointed on the trade sees (and, as a member
    who may change, acts on) them too."""

    scope_field = "organisation"
    trade_field = "trade"

    def grant_q(self, actor: ActorLike, action: str) -> Q | None:
        trades = customs_grant_trades(actor, action)
        if trades is None:
            return None
        return Q(**{f"{self.trade_field}_id__in": trades})


class EventQuerySet(CustomsQuerySet):
    scope_field = "declaration__organisation"
    trade_field = "declaration__trade"


# -- declarations -----------------------------------------------------------------------------------------


class DeclarationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received by customs")
    ACCEPTED = "accepted", _("Accepted")
    QUERY = "query", _("Question from customs")
    DOCUMENTS_REQUIRED = "documents_required", _("Documents required")
    CONTROL = "control", _("Physical inspection")
    CLEARED = "cleared", _("Released")
    GOODS_EXITED = "goods_exited", _("Goods exited")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Could not be delivered")


S = DeclarationStatus
#: statuses that never change again
FINAL_STATUSES = frozenset({S.REJECTED, S.GOODS_EXITED})
#: statuses after which a new declaration of the trade may be submitted
CLOSED_STATUSES = frozenset({S.REJECTED, S.FAILED})
#: statuses the single window sends
ANSWER_STATUSES = frozenset(
    {S.RECEIVED, S.ACCEPTED, S.QUERY, S.DOCUMENTS_REQUIRED, S.CONTROL, S.CLEARED, S.GOODS_EXITED, S.REJECTED}
)
#: the badge colour of each status (the checklist's colours)
BADGES = {
    S.QUEUED: "pending",
    S.SENT: "in_progress",
    S.RECEIVED: "in_progress",
    S.ACCEPTED: "in_progress",
    S.QUERY: "blocked",
    S.DOCUMENTS_REQUIRED: "blocked",
    S.CONTROL: "in_progress",
    S.CLEARED: "done",
    S.GOODS_EXITED: "done",
    S.REJECTED: "rejected",
    S.FAILED: "rejected",
}


class Declaration(models.Model):
    """One version of a trade's customs declaration, as sent to a single window.

    A correction (the answer to a query, an amendment) is a new row that `corrects` the previous version
    and continues its conversation. The answers of a conversation apply to its newest version.
    """

    trade = models.ForeignKey("trades.Trade", on_delete=models.PROTECT, related_name="declarations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    submitted_by_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    window = models.ForeignKey(SingleWindow, on_delete=models.PROTECT, related_name="declarations")
    kind = models.CharField(_("kind"), max_length=8)  # export | import (the trade's direction)
    procedure = models.CharField(_("procedure"), max_length=8)  # DE 1/10: 1040 export, 4000 import
    channel = models.CharField(_("format"), max_length=10, choices=Channel.choices)
    document = models.ForeignKey(
        "documents.IssuedDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    lrn = models.CharField(_("local reference number"), max_length=35, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    mrn = models.CharField(_("movement reference number"), max_length=35, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DeclarationStatus.choices, default=DeclarationStatus.DRAFT
    )
    status_at = models.DateTimeField(default=timezone.now)
    #: the sequence of the last answer applied: an answer with a lower one arrived late
    last_sequence = models.BigIntegerField(default=0)
    #: why it was rejected (or what a query's correction still lacks): [{code, text, item, tag, pointer}]
    reasons = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomsQuerySet.as_manager()

    class Meta:
        ordering = ["trade_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["trade", "version"], name="one_declaration_version")]
        verbose_name = _("customs declaration")
        verbose_name_plural = _("customs declarations")

    def __str__(self) -> str:
        return f"{self.trade_id} v{self.version} {self.status}"

    @property
    def badge(self) -> str:
        return BADGES.get(self.status, "")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class Direction(models.TextChoices):
    OUT = "out", _("Sent")
    IN = "in", _("Received")


MESSAGE_KINDS = {
    "request": _("Request"),
    "response": _("Answer"),
    "notification": _("Notification"),
}


def _message_path(instance: ExchangedMessage, filename: str) -> str:
    at = instance.at or timezone.now()
    owner = instance.organisation_id or "platform"
    return f"customs/{owner}/{at:%Y/%m}/{secrets.token_hex(8)}-{filename}"


class ExchangedMessage(models.Model):
    """Every message sent to or received from a single window, byte for byte, with its hash (for audit)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trade = models.ForeignKey(
        "trades.Trade", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window = models.ForeignKey(SingleWindow, null=True, on_delete=models.PROTECT, related_name="messages")
    declaration = models.ForeignKey(
        Declaration, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=20)  # request, response, notification
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    notification_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.FileField(upload_to=_message_path, max_length=300, blank=True)
    # A message's body is kept in the row (written with it); older messages' bodies may be files.
    content = models.BinaryField(blank=True, default=b"", editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # no answer: why (timeout, connection refused)
    at = models.DateTimeField(default=timezone.now)

    objects = CustomsQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One record per notification a window sent: the second arrival of one is a duplicate.
            models.UniqueConstraint(
                fields=["window", "notification_id"],
                condition=~Q(notification_id=""),
                name="one_message_per_notification",
            )
        ]
        verbose_name = _("exchanged message")
        verbose_name_plural = _("exchanged messages")

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.method} {self.path} ({self.sha256[:12]})"

    @property
    def label(self) -> str:
        """What the message is, in words: "Request POST /customs/declarations", "Notification: Accepted"."""
        if self.kind == "notification":
            status = next((v for k, v in self.headers.items() if k.lower() == "x-notification-status"), "")
            shown = DeclarationStatus(status).label if status in DeclarationStatus.values else status
            return (
                f"{MESSAGE_KINDS['notification']}: {shown}" if shown else str(MESSAGE_KINDS["notification"])
            )
        return f"{MESSAGE_KINDS.get(self.kind, self.kind)} {self.method} {self.path}".strip()

    @property
    def filename(self) -> str:
        extension = "json"
        content_type = self.content_type.lower()
        if "xml" in content_type:
            extension = "xml"
        elif "edifact" in content_type or "plain" in content_type:
            extension = "edi"
        elif not content_type:
            extension = "bin"
        return f"{self.direction}-{self.kind}-{self.pk}.{extension}"

    @property
    def has_body(self) -> bool:
        return bool(self.content) or bool(self.body)

    def read(self) -> bytes:
        if self.content:
            return bytes(self.content)
        if not self.body:
            return b""
        with self.body.open("rb") as f:
            return f.read()

    @staticmethod
    def hash(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class DeclarationEvent(models.Model):
    """One answer of a single window about a declaration: what it said, and whether it was applied.

    Pending: stored by the callback (or a poll), to be applied by a worker (applying.apply_pending_answers)
    with the other answers of its declaration waiting, in their order. Not applied: it came late (a later
    answer of the conversation was applied already) or the declaration had reached a final status. Without
    a declaration: it arrived before the platform had recorded the conversation it belongs to; it is
    applied when the conversation is recorded.
    """

    declaration = models.ForeignKey(
        Declaration, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    window = models.ForeignKey(SingleWindow, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(ExchangedMessage, on_delete=models.PROTECT, related_name="+")
    notification_id = models.CharField(max_length=64)
    conversation_id = models.CharField(max_length=64, db_index=True)
    sequence = models.BigIntegerField()
    status = models.CharField(max_length=20, blank=True)  # "" when the message could not be read
    raw_code = models.CharField(max_length=8, blank=True)  # the function code / GIS code as received
    mrn = models.CharField(max_length=35, blank=True)
    details = models.JSONField(default=dict, blank=True)  # reasons, question, limit, version
    via = models.CharField(max_length=10)  # callback | poll
    arrivals = models.PositiveIntegerField(default=1)  # by callback (2: a duplicate), or the first poll
    applied = models.BooleanField(default=False)
    pending = models.BooleanField(default=False)  # stored, not handled yet
    received_at = models.DateTimeField(default=timezone.now)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["window", "notification_id"], name="one_event_per_notification")
        ]
        indexes = [
            models.Index(fields=["declaration", "sequence"], name="customs_event_order"),
            models.Index(fields=["declaration"], condition=Q(pending=True), name="customs_event_pending"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.status} ({'applied' if self.applied else 'not applied'})"

    @property
    def badge(self) -> str:
        return BADGES.get(self.status, "")

    @property
    def status_label(self) -> str:
        return str(DeclarationStatus(self.status).label) if self.status in S.values else self.status


class QueryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class CustomsQuery(models.Model):
    """A question customs asked about a declaration: a task for the MSME (or its broker), answered by a
    correction."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="queries")
    trade = models.ForeignKey("trades.Trade", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    event = models.OneToOneField(DeclarationEvent, on_delete=models.PROTECT, related_name="query")
    text = models.TextField(_("question"))
    item_no = models.PositiveIntegerField(null=True, blank=True)  # the goods item it is about
    limit_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_by_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    correction = models.OneToOneField(
        Declaration, null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomsQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customs query")
        verbose_name_plural = _("customs queries")

    def __str__(self) -> str:
        return f"query {self.pk} on declaration {self.declaration_id} ({self.status})"
