"""Signing keys (the platform CA and one key pair per organisation) and the documents issued with them.

Everything lives in the database and in Django's file storage, so that web processes and workers on
other machines share the CA, the keys and the issued files. Private keys are stored encrypted
(documents/keys.py); certificates are public.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.lib.scoping import ScopedQuerySet


class KeyRole(models.TextChoices):
    CA = "ca", _("Platform certificate authority")
    SIGNER = "signer", _("Organisation signing key")


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")  # rotated out: signs nothing new, still verifies what it signed
    REVOKED = "revoked", _("Revoked")  # what it signed is reported as revoked


class SigningKey(models.Model):
    """A key pair with its X.509 certificate: the platform CA's (organisation empty) or an organisation's."""

    role = models.CharField(max_length=8, choices=KeyRole.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="signing_keys"
    )
    issuer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The CA key."
    )
    status = models.CharField(max_length=8, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    algorithm = models.CharField(max_length=20, default="ECDSA P-256")
    subject_name = models.CharField(_("name in the certificate"), max_length=200)
    certificate_pem = models.TextField()
    fingerprint = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the certificate (DER)")
    serial_number = models.CharField(max_length=40)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    # AES-256-GCM over the PKCS#8 DER of the private key, bound to the certificate's fingerprint.
    private_key_encrypted = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(role="signer", status="active"),
                name="one_active_signing_key_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["role"], condition=Q(role="ca", status="active"), name="one_active_platform_ca"
            ),
            models.CheckConstraint(
                condition=Q(role="ca", organisation__isnull=True)
                | Q(role="signer", organisation__isnull=False),
                name="signing_key_owner_matches_role",
            ),
        ]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self) -> str:
        return f"{self.subject_name} ({self.fingerprint[:16]}…, {self.status})"


class DocumentStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    SUPERSEDED = "superseded", _("Superseded")
    REVOKED = "revoked", _("Revoked")


# What people call each kind of document. Generators name kinds; unknown kinds fall back to their code.
KIND_LABELS = {
    "commercial_invoice": _("Commercial invoice"),
    "packing_list": _("Packing list"),
    "coo_application": _("Certificate of origin application"),
    "export_declaration": _("Export declaration summary"),
    "cii_invoice": _("Cross Industry Invoice (UN/CEFACT CII)"),
    "wco_declaration": _("Export declaration (WCO Data Model)"),
    "edifact_invoic": _("Invoice (UN/EDIFACT INVOIC)"),
    "edifact_cusdec": _("Customs declaration (UN/EDIFACT CUSDEC)"),
    "trade_dataset": _("Trade data set (JSON)"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind.replace("_", " ").capitalize()))


# Detached signatures travel beside their document, under its name with this suffix (PDFs carry theirs).
SIGNATURE_SUFFIX = {"xml": ".xades.xml", "edi": ".xades.xml", "json": ".jws"}
SIGNATURE_MEDIA_TYPE = {"xml": "application/xml", "edi": "application/xml", "json": "application/jose"}


def _document_path(instance: IssuedDocument, filename: str) -> str:
    # A random part: names are not guessable even where the storage serves files publicly.
    return f"documents/{instance.organisation_id}/{instance.trade_id}/{secrets.token_hex(8)}-{filename}"


class IssuedDocumentQuerySet(ScopedQuerySet):
    scope_field = "organisation"  # always the trade's organisation: the issuer


class IssuedDocument(models.Model):
    """One signed document as issued: immutable. A correction is a new version that supersedes it."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    trade = models.ForeignKey("trades.Trade", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=40)
    format = models.CharField(max_length=8)  # pdf, xml, edi, json: also the file's extension
    media_type = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    file = models.FileField(upload_to=_document_path, max_length=300)
    signature = models.FileField(upload_to=_document_path, max_length=300, blank=True)  # detached formats
    sha256 = models.CharField(max_length=64, db_index=True, help_text="of the document's bytes as issued")
    size = models.PositiveIntegerField()
    # SHA-256 of the signature: the detached file, or the CMS container embedded in a PDF. Finds the
    # original of an altered copy.
    signature_sha256 = models.CharField(max_length=64, db_index=True)
    signer_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="documents")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = IssuedDocumentQuerySet.as_manager()

    IMMUTABLE_AFTER_ISSUE = frozenset({"status"})  # the only field that changes once issued

    class Meta:
        ordering = ["kind", "format", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["trade", "kind", "format", "version"], name="one_document_version_per_kind_format"
            )
        ]
        indexes = [models.Index(fields=["trade", "kind", "format", "-version"])]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} v{self.version} ({self.status})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            changed = kwargs.get("update_fields")
            if changed is None or not set(changed) <= self.IMMUTABLE_AFTER_ISSUE:
                raise ValueError("an issued document is immutable: issue a new version instead")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return kind_label(self.kind)

    @property
    def badge(self) -> str:
        """The CSS class of the status badge (the checklist's colours)."""
        return {DocumentStatus.ISSUED: "done", DocumentStatus.REVOKED: "blocked"}.get(
            self.status, "not_needed"
        )

    @property
    def filename(self) -> str:
        """The name the document travels under: `commercial_invoice.pdf`, `cii_invoice.xml`."""
        return f"{self.kind}.{self.format}"

    @property
    def signature_filename(self) -> str:
        return self.filename + SIGNATURE_SUFFIX[self.format] if self.signature else ""

    @property
    def signature_media_type(self) -> str:
        return SIGNATURE_MEDIA_TYPE.get(self.format, "")
