"""Writes of the documents app: issuing a trade's signed documents, rotating and revoking signing keys."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.documents import keys, signing
from ismit.documents.data import document_data
from ismit.documents.generators import all_generators
from ismit.documents.generators.base import Generator
from ismit.documents.models import (
    SIGNATURE_SUFFIX,
    DocumentStatus,
    IssuedDocument,
    KeyRole,
    KeyStatus,
    SigningKey,
    kind_label,
)
from ismit.lib.prepared import Prepared, concrete_attnames, instance
from ismit.lib.rows import insert_objects, update_rows
from ismit.lib.scoping import ADMIN, CHANGE
from ismit.trades.models import ChecklistStep, StepStatus, Trade
from ismit.trades.services import set_step_status

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")
# Checklist steps that issuing a document completes (the certificate of origin and the declarations are
# completed by the authorities that issue or accept them, not by our issuing them).
STEPS_DONE_BY = {"commercial_invoice": "commercial_invoice", "packing_list": "packing_list"}


# -- keys -------------------------------------------------------------------------------------------


def _require_verified(organisation: Organisation, *, refresh: bool = True) -> None:
    if refresh:
        organisation.refresh_from_db(fields=["verification_status", "legal_name", "country"])
    if not organisation.can_submit_to_third_parties:
        raise ValidationError(
            {
                "__all__": [
                    _(
                        "%(org)s is not verified yet: you can prepare trades and drafts, but signed "
                        "documents for third parties can be issued only once an operator has verified the "
                        "organisation."
                    )
                    % {"org": organisation.legal_name}
                ]
            }
        )


def signing_key_for_issue(organisation: Organisation, *, actor: Actor | None = None) -> SigningKey:
    """The key an organisation (read just now) signs with now: made on its first issue if it has none yet."""
    _require_verified(organisation, refresh=False)
    return keys.ensure_signing_key(organisation, actor=actor)


def _may_manage_keys(actor: Actor | None, organisation: Organisation | None) -> bool:
    # `None` is the operator at the command line (`ismit documents rotate-key`).
    if actor is None or actor.is_operator:
        return True
    return organisation is not None and actor.can(ADMIN, organisation.pk)


@transaction.atomic
def rotate_key(*, actor: Actor | None, organisation: Organisation) -> SigningKey:
    """A new key and certificate for the organisation. The old key signs nothing more; what it signed
    stays valid."""
    if not _may_manage_keys(actor, organisation):
        raise PermissionDenied(_("Only the organisation's owners or an operator may rotate its signing key."))
    _require_verified(organisation)
    old = keys.active_key(organisation)
    key = keys.ensure_signing_key(organisation, actor=actor, renew=old is not None)
    record_event(
        actor=actor,
        organisation_id=organisation.pk,
        action="signing_key.rotated",
        obj=key,
        changes={"retired": old.fingerprint if old else None, "active": key.fingerprint},
    )
    return key


@transaction.atomic
def revoke_key(*, actor: Actor | None, key: SigningKey, reason: str) -> SigningKey:
    """Revoke a key (stolen, or issued in error): every document it signed is reported as revoked."""
    if actor is not None and not actor.is_operator:
        raise PermissionDenied(_("Only platform operators revoke signing keys."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason for the revocation.")]})
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.role != KeyRole.SIGNER:
        raise ValidationError({"__all__": [_("The platform's CA is not revoked this way.")]})
    if key.status == KeyStatus.REVOKED:
        return key
    old = key.status
    key.status = KeyStatus.REVOKED
    key.revoked_at = timezone.now()
    key.revocation_reason = reason.strip()[:300]
    key.save(update_fields=["status", "revoked_at", "revocation_reason"])
    revoked = IssuedDocument.objects.filter(signer_key=key).exclude(status=DocumentStatus.REVOKED)
    count = revoked.update(status=DocumentStatus.REVOKED)
    record_event(
        actor=actor,
        organisation_id=key.organisation_id,
        action="signing_key.revoked",
        obj=key,
        changes={
            "fingerprint": key.fingerprint,
            "status": [old, key.status],
            "reason": key.revocation_reason,
            "documents_revoked": count,
        },
    )
    return key


# -- issuing ----------------------------------------------------------------------------------------


def _chosen(kinds: Iterable[str] | None) -> list[Generator]:
    generators = all_generators()
    if kinds is None:
        return generators
    wanted = set(kinds)
    unknown = wanted - {g.kind for g in generators}
    if unknown:
        raise ValidationError(
            {"kinds": [_("Unknown kind of document: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))}]}
        )
    if not wanted:
        raise ValidationError({"kinds": [_("Choose at least one kind of document.")]})
    return [g for g in generators if g.kind in wanted]


def _refuse_blocked_declarations(trade: Trade, generators: list[Generator], *, explicit: bool, language: str):
    """Declarations are not issued while the compliance check reports errors. Asked for by name, that is an
    error; as part of the whole set, they are left out (the page says so) and the other documents issued."""
    if not any(g.is_declaration for g in generators):
        return generators
    from ismit.compliance.check import run_check  # the layer below; imported here, when needed

    result = run_check(trade, language=language)
    if not result.has_errors:
        return generators
    if explicit:
        errors = [f.message for f in result.findings if f.severity == "error"]
        message = _("Declarations cannot be issued while the compliance check reports errors: %(errors)s") % {
            "errors": " ".join(str(e) for e in errors[:5])
        }
        raise ValidationError({"kinds": [message]})
    return [g for g in generators if not g.is_declaration]


def _render(generator: Generator, data, language: str) -> bytes:
    label = kind_label(generator.kind)
    try:
        content = generator.render(data, language=language)
    except ValidationError as exc:
        messages = [_("%(document)s: %(error)s") % {"document": label, "error": m} for m in exc.messages]
        raise ValidationError({"__all__": messages})
    except Exception as exc:
        logger.exception(
            "generator %s.%s failed on trade %s", generator.kind, generator.format, data.reference
        )
        raise ValidationError(
            {
                "__all__": [
                    _("The %(document)s (%(format)s) could not be generated: %(error)s")
                    % {
                        "document": label,
                        "format": generator.format.upper(),
                        "error": str(exc)[:200] or type(exc).__name__,
                    }
                ]
            }
        )
    if not isinstance(content, bytes) or not content:
        raise ValidationError({"__all__": [_("The %(document)s came out empty.") % {"document": label}]})
    return content


def _sign(generator: Generator, content: bytes, material: keys.SignerMaterial) -> signing.Signed:
    try:
        return signing.sign(
            content,
            fmt=generator.format,
            signer=material,
            filename=f"{generator.kind}.{generator.format}",
            media_type=generator.media_type,
        )
    except Exception as exc:
        logger.exception("signing %s.%s failed", generator.kind, generator.format)
        raise ValidationError(
            {
                "__all__": [
                    _("The %(document)s could not be signed: %(error)s")
                    % {"document": kind_label(generator.kind), "error": str(exc)[:200] or type(exc).__name__}
                ]
            }
        )


def _declares_under_grant(actor: Actor, trade: Trade, kinds: Iterable[str] | None) -> bool:
    """A customs broker appointed on the trade issues its declarations (only those) to submit them."""
    from ismit.trades.models import GrantScope
    from ismit.trades.queries import grant_for

    declarations = {g.kind for g in all_generators() if g.is_declaration}
    if not kinds or not set(kinds) <= declarations:
        return False
    return grant_for(actor, trade, GrantScope.CUSTOMS) is not None


@dataclass
class PreparedIssue:
    """Documents rendered and signed, to be stored by store_issue inside a transaction; the names of the
    files stored so far, for discard_stored when that transaction fails."""

    actor: Actor
    trade: Trade
    key: SigningKey
    language: str
    signed: list[tuple[Generator, signing.Signed]]
    stored: list[str] = field(default_factory=list)


def prepare_issue(
    *,
    actor: Actor,
    trade: Trade,
    kinds: Iterable[str] | None = None,
    language: str = "en",
    checked: bool = False,
    organisation: Organisation | None = None,
    loaded: bool = False,
    declaration_reference: str = "",
) -> PreparedIssue:
    """Check who issues, then generate and sign the trade's documents (all of them, or the `kinds` named),
    outside any transaction: no lock is held meanwhile. Declarations are refused while the compliance check
    reports errors; `checked=True` says the caller has just run that check itself and refused on errors
    (customs' submission), so it is not run twice. `organisation`: the trade's, if the caller has just read
    it; `loaded`: the trade was just read by data.trade_for_documents. `declaration_reference`: the LRN a
    declaration carries when it is not the trade's reference (customs: a new declaration after a
    rejection, and its corrections)."""
    if not actor.can(CHANGE, trade.organisation_id) and not _declares_under_grant(actor, trade, kinds):
        raise PermissionDenied(_("You may not issue documents for this trade."))
    if language not in LANGUAGES:
        raise ValidationError({"language": [_("Choose English or French.")]})
    generators = _chosen(kinds)
    if organisation is None or organisation.pk != trade.organisation_id:
        organisation = Organisation.objects.get(pk=trade.organisation_id)
    key = signing_key_for_issue(organisation, actor=actor)
    if not checked:
        generators = _refuse_blocked_declarations(
            trade, generators, explicit=kinds is not None, language=language
        )
    data = document_data(trade, language=language, loaded=loaded)
    if declaration_reference:
        data = dataclasses.replace(data, declaration_reference=declaration_reference)
    material = keys.signer_material(key)
    signed = [(g, _sign(g, _render(g, data, language), material)) for g in generators]
    return PreparedIssue(actor=actor, trade=trade, key=key, language=language, signed=signed)


_DOCUMENT_FIELDS = concrete_attnames(IssuedDocument)
_UNREAD = object()  # store_issue: the previous version was not read by the caller


# Prepared (lib.prepared): every issue (every submission of a declaration) reads them.
def key_revoked() -> ValidationError:
    """What refuses to store documents whose signing key was revoked since they were signed."""
    return ValidationError({"__all__": [_("The signing key was revoked meanwhile: try again.")]})


USABLE_KEY_STATUSES = (KeyStatus.ACTIVE, KeyStatus.RETIRED)  # not revoked: documents may still be stored


def usable_key(key_id: int) -> QuerySet[SigningKey]:
    """The key, if documents may still be stored signed by it: not revoked (store_issue)."""
    return SigningKey.objects.filter(pk=key_id, status__in=USABLE_KEY_STATUSES)


_USABLE_KEY_ROWS = Prepared(lambda key_id: usable_key(key_id).order_by().values_list("pk")[:1], "key_id")
_PREVIOUS_ROWS = Prepared(
    lambda trade_id, kind, format: (
        IssuedDocument.objects.select_for_update()
        .filter(trade_id=trade_id, kind=kind, format=format)
        .order_by("-version")
        .values_list(*_DOCUMENT_FIELDS)[:1]
    ),
    "trade_id",
    text=("kind", "format"),
)


def store_issue(
    prepared: PreparedIssue,
    *,
    key_usable: bool | None = None,
    previous: dict[tuple[str, str], IssuedDocument | None] | None = None,
) -> list[IssuedDocument]:
    """Store prepared documents, each a new version of its kind and format (the previous version marked
    superseded; it stays verifiable). Inside the caller's transaction, which holds the trade's row lock.
    Refused if the signing key was revoked meanwhile; `key_usable`: whether usable_key(key) found it, read
    by the caller under that lock (else read here). `previous`: the newest version of a (kind, format),
    None if there is none, as the caller read it locked (previous_documents); else read here."""
    if key_usable is None:
        key_usable = bool(_USABLE_KEY_ROWS.rows(key_id=prepared.key.pk))
    if not key_usable:
        raise key_revoked()
    issued = [
        _store(
            actor=prepared.actor,
            trade=prepared.trade,
            generator=g,
            signed=s,
            key=prepared.key,
            language=prepared.language,
            stored=prepared.stored,
            previous=(previous or {}).get((g.kind, g.format), _UNREAD),
        )
        for g, s in prepared.signed
    ]
    _complete_steps(actor=prepared.actor, trade=prepared.trade, issued=issued)
    return issued


def discard_stored(prepared: PreparedIssue) -> None:
    """Remove the files of documents whose transaction failed."""
    for name in prepared.stored:
        try:
            default_storage.delete(name)
        except Exception:  # the original error matters more than a file left behind
            logger.exception("could not remove %s after a failed issue", name)


def issue_documents(
    *,
    actor: Actor,
    trade: Trade,
    kinds: Iterable[str] | None = None,
    language: str = "en",
    checked: bool = False,
    declaration_reference: str = "",
) -> list[IssuedDocument]:
    """Generate, sign and store the trade's documents (all of them, or the `kinds` named): prepare_issue,
    then store_issue in a transaction of its own. All or nothing: the stored files are removed if it
    fails."""
    prepared = prepare_issue(
        actor=actor,
        trade=trade,
        kinds=kinds,
        language=language,
        checked=checked,
        declaration_reference=declaration_reference,
    )
    try:
        with transaction.atomic():
            Trade.objects.select_for_update().filter(pk=trade.pk).first()  # one issue of a trade at a time
            return store_issue(prepared)
    except BaseException:
        discard_stored(prepared)
        raise


def _store(
    *,
    actor: Actor,
    trade: Trade,
    generator: Generator,
    signed: signing.Signed,
    key: SigningKey,
    language: str,
    stored: list[str],
    previous: IssuedDocument | object | None = None,
) -> IssuedDocument:
    if previous is _UNREAD:
        rows = _PREVIOUS_ROWS.rows(trade_id=trade.pk, kind=generator.kind, format=generator.format)
        previous = instance(IssuedDocument, _DOCUMENT_FIELDS, rows[0]) if rows else None
    document = IssuedDocument(
        organisation_id=trade.organisation_id,
        trade=trade,
        kind=generator.kind,
        format=generator.format,
        media_type=generator.media_type,
        version=(previous.version + 1) if previous else 1,
        language=language,
        supersedes=previous,
        sha256=signing.sha256_hex(signed.data),
        size=len(signed.data),
        signature_sha256=signed.signature_sha256,
        signer_key=key,
        issued_by=actor.user,
    )
    document.file.save(document.filename, ContentFile(signed.data), save=False)
    stored.append(document.file.name)
    if signed.signature is not None:
        name = document.filename + SIGNATURE_SUFFIX[generator.format]
        document.signature.save(name, ContentFile(signed.signature), save=False)
        stored.append(document.signature.name)
    insert_objects([document])  # a new row, no query built (lib.rows)
    if previous is not None and previous.status == DocumentStatus.ISSUED:
        previous.status = DocumentStatus.SUPERSEDED
        update_rows(IssuedDocument, [previous], ["status"])
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="document.issued",
        obj=document,
        changes={
            "trade": trade.reference,
            "kind": document.kind,
            "format": document.format,
            "version": document.version,
            "language": language,
            "sha256": document.sha256,
            "signer": key.fingerprint,
            "supersedes": previous.pk if previous else None,
        },
    )
    return document


def _complete_steps(*, actor: Actor, trade: Trade, issued: list[IssuedDocument]) -> None:
    versions = {d.kind: d.version for d in issued if d.kind in STEPS_DONE_BY}
    if not versions:
        return
    steps = ChecklistStep.objects.filter(
        trade_id=trade.pk, code__in=[STEPS_DONE_BY[k] for k in versions]
    ).exclude(status__in=[StepStatus.DONE, StepStatus.NOT_NEEDED])
    for step in steps:
        kind = next(k for k, code in STEPS_DONE_BY.items() if code == step.code)
        set_step_status(
            actor=actor,
            step=step,
            status=StepStatus.DONE,
            note=_("Issued and signed on ISMIT (version %(version)s).") % {"version": versions[kind]},
            acting_organisation=trade.organisation,
        )
