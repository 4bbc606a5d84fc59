"""Is this document one the platform issued, unaltered, and does it still stand? Anyone may ask.

A document is found by the SHA-256 of its bytes; its signature (embedded in a PDF, or the detached file
given beside it) is checked as well, and names the original when the copy was changed. The answer says
who issued it, when, for which trade reference, which document and version, and its status — nothing
else of the trade. Every verification is audited, under the issuer's organisation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.audit.services import record_event
from ismit.documents import keys, signing
from ismit.documents.models import DocumentStatus, IssuedDocument, KeyStatus, SigningKey, kind_label

VALID, SUPERSEDED, REVOKED, ALTERED, UNKNOWN = "valid", "superseded", "revoked", "altered", "unknown"
STATUS_LABELS = {
    VALID: gettext_lazy("Valid"),
    SUPERSEDED: gettext_lazy("Valid, superseded by a newer version"),
    REVOKED: gettext_lazy("Revoked"),
    ALTERED: gettext_lazy("Altered"),
    UNKNOWN: gettext_lazy("Unknown"),
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class VerificationResult:
    status: str  # valid, superseded, revoked, altered or unknown
    sha256: str  # of what was submitted (the document, or the hash given)
    issuer: str = ""  # the organisation's name as its certificate gives it
    issued_at: dt.datetime | None = None
    reference: str = ""  # the trade's reference
    kind: str = ""
    format: str = ""
    version: int | None = None
    latest_version: int | None = None  # when superseded
    signature_checked: bool = False  # a signature was verified cryptographically, not only the hash found
    # Not shown to the public: for the audit trail.
    document_id: int | None = None
    organisation_id: int | None = None

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def badge(self) -> str:
        """The CSS class of the status badge (the checklist's colours)."""
        return {VALID: "done", SUPERSEDED: "pending", REVOKED: "blocked", ALTERED: "blocked"}.get(
            self.status, "not_needed"
        )

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind) if self.kind else ""

    @property
    def explanation(self) -> str:
        if self.status == VALID:
            return _("This document was issued on the platform and has not been changed since.")
        if self.status == SUPERSEDED:
            return _(
                "This document was issued on the platform and has not been changed, but a corrected version "
                "(version %(version)s) replaces it."
            ) % {"version": self.latest_version}
        if self.status == REVOKED:
            return _("This document was issued on the platform but has been revoked: do not rely on it.")
        if self.status == ALTERED:
            return _("This document carries the platform's signature but was changed after it was signed.")
        return _("The platform has not issued this document (or it was changed and carries no signature).")


def _document_status(document: IssuedDocument) -> str:
    if document.status == DocumentStatus.REVOKED or document.signer_key.status == KeyStatus.REVOKED:
        return REVOKED
    if document.status == DocumentStatus.SUPERSEDED:
        return SUPERSEDED
    return VALID


def _result(
    status: str, sha256: str, document: IssuedDocument | None, key: SigningKey | None = None, **extra
):
    key = document.signer_key if document is not None else key
    latest = None
    if document is not None and status == SUPERSEDED:
        latest = (
            IssuedDocument.objects.filter(
                trade_id=document.trade_id, kind=document.kind, format=document.format
            )
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
    return VerificationResult(
        status=status,
        sha256=sha256,
        issuer=key.subject_name if key is not None else "",
        issued_at=document.issued_at if document is not None else None,
        reference=document.trade.reference if document is not None else "",
        kind=document.kind if document is not None else "",
        format=document.format if document is not None else "",
        version=document.version if document is not None else None,
        latest_version=latest,
        document_id=document.pk if document is not None else None,
        organisation_id=key.organisation_id if key is not None else None,
        **extra,
    )


def _documents():
    return IssuedDocument.objects.select_related("trade", "signer_key")


def _stored_signature(document: IssuedDocument) -> bytes | None:
    if not document.signature:
        return None
    try:
        with document.signature.open("rb") as f:
            return f.read()
    except OSError:  # the stored file is unreachable: the register still answers
        return None


def check(
    *, data: bytes | None = None, sha256: str | None = None, signature: bytes | None = None
) -> VerificationResult:
    """The verdict on a document (its bytes, or only its SHA-256), with its detached signature if any."""
    if data is not None:
        sha256 = signing.sha256_hex(data)
    sha256 = (sha256 or "").strip().lower()
    if data is None and not SHA256.match(sha256) and not signature:
        return VerificationResult(status=UNKNOWN, sha256=sha256)
    document = _documents().filter(sha256=sha256).order_by("-issued_at", "-pk").first() if sha256 else None
    cas = keys.ca_certificates()

    if document is not None:
        if data is None:  # only the hash: what the register says
            return _result(_document_status(document), sha256, document)
        given = signature if signature else _stored_signature(document)
        if document.format != "pdf" and given is None:
            return _result(_document_status(document), sha256, document)
        outcome = signing.verify_signature(data, given, ca_certificates=cas)
        if outcome.ok and outcome.certificate_fingerprint == document.signer_key.fingerprint:
            return _result(_document_status(document), sha256, document, signature_checked=True)
        # The bytes are the ones issued, but the signature given with them is not theirs.
        return _result(ALTERED, sha256, document, signature_checked=True)

    # Not a document we issued as it is. Did it come with (or carry) one of our signatures?
    outcome = signing.verify_signature(data, signature, ca_certificates=cas)
    if not outcome.present:
        return VerificationResult(status=UNKNOWN, sha256=sha256)
    original = None
    if outcome.signature_sha256:
        original = _documents().filter(signature_sha256=outcome.signature_sha256).first()
    if original is None and outcome.document_sha256:
        original = _documents().filter(sha256=outcome.document_sha256).first()
    key = None
    if original is None and outcome.certificate is not None:
        key = SigningKey.objects.filter(fingerprint=outcome.certificate_fingerprint).first()
    if original is None and key is None:
        # A signature, but not one of ours: nothing to say about who issued it.
        return VerificationResult(status=UNKNOWN, sha256=sha256)
    if data is None and original is not None and outcome.signature_sha256 == original.signature_sha256:
        # Only the signature file was given, exactly as issued: it stands for its document.
        return _result(_document_status(original), sha256 or original.sha256, original)
    return _result(ALTERED, sha256, original, key=key, signature_checked=outcome.certificate is not None)


def verify(
    *,
    data: bytes | None = None,
    sha256: str | None = None,
    signature: bytes | None = None,
    actor=None,
    channel: str = "",
) -> VerificationResult:
    """Check a document and record the verification in the audit log (under the issuer, when known)."""
    result = check(data=data, sha256=sha256, signature=signature)
    with transaction.atomic():
        record_event(
            actor=actor,  # a user, an anonymous visitor (recorded as such), or None at the command line
            organisation_id=result.organisation_id,
            action="document.verified",
            object_type="documents.issueddocument" if result.document_id else "",
            object_id=result.document_id or "",
            changes={
                "status": result.status,
                "sha256": result.sha256,
                "signature_given": bool(signature),
                "channel": channel,
            },
        )
    return result
