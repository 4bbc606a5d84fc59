"""Payments received on a trade, and the two filings made from them: the foreign-exchange settlement report
and the export VAT refund claim.

A filing (FxReport, VatClaim) is one per trade. Each submission is a version (FxReportVersion,
VatClaimVersion) with its own idempotency key and the exact JSON body sent; a correction (the answer to a
query) continues the same conversation with the single window, a new submission after a rejection starts
a new one under a new reference.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.lib.scoping import ScopedQuerySet


class FinanceQuerySet(ScopedQuerySet):
    """Rows of a trade's finance: its owner organisation's only (an appointed customs broker sees none)."""

    scope_field = "trade__organisation"


class VersionQuerySet(ScopedQuerySet):
    scope_field = "filing__trade__organisation"


class Payment(models.Model):
    """Money received from the buyer, as the bank's advice shows it."""

    trade = models.ForeignKey(
        "trades.Trade", on_delete=models.CASCADE, db_index=False, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.ForeignKey(
        "refdata.Currency",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("currency"),
    )
    received_on = models.DateField(_("received on"))
    bank_reference = models.CharField(_("bank reference"), max_length=35)
    payer = models.CharField(_("payer"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = FinanceQuerySet.as_manager()

    class Meta:
        ordering = ["trade", "received_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["trade", "bank_reference"], name="payment_bank_reference_unique")
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency_id} on {self.received_on} ({self.bank_reference})"


class FilingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Queued, will be sent")
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received by the single window")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    QUERY = "query", _("Question to answer")
    FAILED = "failed", _("Not delivered")


#: a submission is on its way or being examined: nothing more to send until it is answered
IN_FLIGHT = frozenset({FilingStatus.QUEUED, FilingStatus.SENT, FilingStatus.RECEIVED})
#: the answers of the single window that end a conversation
FINAL = frozenset({FilingStatus.ACCEPTED, FilingStatus.REJECTED})


def _key_base() -> str:
    return uuid.uuid4().hex


class Filing(models.Model):
    """What the two filings share: where they stand with the single window, and what was sent last."""

    status = models.CharField(
        _("status"), max_length=10, choices=FilingStatus.choices, default=FilingStatus.DRAFT
    )
    reference = models.CharField(_("reference"), max_length=35, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    registration_number = models.CharField(_("registration number"), max_length=64, blank=True)
    version = models.PositiveIntegerField(default=0)  # the last version submitted; 0: never submitted
    idempotency_key = models.CharField(max_length=200, blank=True)  # of the last version
    payload = models.JSONField(default=dict, blank=True)  # the JSON body of the last version
    explanation = models.TextField(_("explanation"), blank=True)
    reasons = models.JSONField(default=list, blank=True)  # [{"code", "field", "message"}] of a rejection
    question = models.TextField(blank=True)  # of a query
    delivery_error = models.TextField(blank=True)
    # Unique per filing: idempotency keys are built from it and the version number.
    key_base = models.CharField(max_length=32, default=_key_base, editable=False)
    window_id = models.BigIntegerField(null=True, blank=True)  # customs.SingleWindow it goes to
    # The issue time of the last answer applied: an older one arriving late changes nothing.
    last_answer_at = models.DateTimeField(null=True, blank=True)
    last_notification_id = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = FinanceQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def is_final(self) -> bool:
        return self.status == FilingStatus.ACCEPTED

    @property
    def badge(self) -> str:
        return {
            FilingStatus.ACCEPTED: "done",
            FilingStatus.REJECTED: "rejected",
            FilingStatus.QUERY: "blocked",
            FilingStatus.FAILED: "blocked",
            FilingStatus.DRAFT: "not_needed",
        }.get(self.status, "in_progress")


class FxReport(Filing):
    """The foreign-exchange settlement report of an export: the proceeds repatriated against the invoice."""

    trade = models.OneToOneField("trades.Trade", on_delete=models.PROTECT, related_name="fx_report")

    class Meta:
        verbose_name = _("FX settlement report")
        verbose_name_plural = _("FX settlement reports")

    def __str__(self) -> str:
        return f"FX report of trade {self.trade_id} ({self.status})"


class VatClaim(Filing):
    """The claim for a refund of the input VAT paid on what the exported goods were made of."""

    trade = models.OneToOneField("trades.Trade", on_delete=models.PROTECT, related_name="vat_claim")
    # The input VAT is not in the trade's data (it was paid on the exporter's purchases): the MSME enters
    # it here, with the purchase invoices it comes from.
    vat_amount = models.DecimalField(_("input VAT to refund"), max_digits=16, decimal_places=2, null=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    input_invoices = models.TextField(_("purchase invoices"), blank=True)

    class Meta:
        verbose_name = _("VAT refund claim")
        verbose_name_plural = _("VAT refund claims")

    def __str__(self) -> str:
        return f"VAT claim of trade {self.trade_id} ({self.status})"


class FilingVersion(models.Model):
    """One submission of a filing: the body sent, its key, and the answer it got."""

    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=35)
    correction_of = models.CharField(max_length=64, blank=True)  # the conversation it continues
    conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=64)
    outbox_message_id = models.BigIntegerField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    answer_status = models.CharField(max_length=10, blank=True)
    answer_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["filing", "number"]

    def __str__(self) -> str:
        return f"{self.reference} v{self.number}"


class FxReportVersion(FilingVersion):
    filing = models.ForeignKey(FxReport, on_delete=models.CASCADE, related_name="versions")

    objects = VersionQuerySet.as_manager()

    class Meta(FilingVersion.Meta):
        constraints = [models.UniqueConstraint(fields=["filing", "number"], name="fx_version_unique")]


class VatClaimVersion(FilingVersion):
    filing = models.ForeignKey(VatClaim, on_delete=models.CASCADE, related_name="versions")

    objects = VersionQuerySet.as_manager()

    class Meta(FilingVersion.Meta):
        constraints = [models.UniqueConstraint(fields=["filing", "number"], name="vat_version_unique")]
