"""Writes of the accounts app: people, organisations, memberships, verification, API tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pycountry
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.mail import Mail, queue_mails
from ismit.accounts.models import (
    ApiToken,
    IdentifierScheme,
    Membership,
    Notification,
    Organisation,
    OrganisationIdentifier,
    OrganisationKind,
    ProviderType,
    Role,
    User,
    VerificationEvidence,
    VerificationStatus,
)
from ismit.accounts.signals import organisation_verified
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors
from ismit.lib.identifiers import check_identifier
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split
from ismit.lib.rows import insert_objects
from ismit.lib.scoping import ADMIN, CHANGE

ORG_FIELDS = ("legal_name", "country", "street", "city", "postcode", "subdivision", "email", "phone")
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


# -- people -----------------------------------------------------------------------------------------


def sign_up(*, email: str, password: str, full_name: str = "", language: str = "en") -> User:
    """Create a person's account. E-mail addresses are unique, compared without case."""
    errors = FieldErrors()
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        errors.add("email", _("Enter a valid e-mail address."))
    elif User.objects.filter(email__iexact=email).exists():
        errors.add("email", _("An account with this e-mail address already exists."))
    candidate = User(email=email, full_name=full_name.strip())
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("password", message)
    if language not in ("en", "fr"):
        errors.add("language", _("Choose English or French."))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name.strip(), language=language
            )
            record_event(
                actor=user, organisation_id=None, action="user.signed_up", obj=user, changes={"email": email}
            )
    except IntegrityError:
        raise ValidationError({"email": [_("An account with this e-mail address already exists.")]})
    return user


# -- organisations ----------------------------------------------------------------------------------


def _validate_org_fields(values: dict, errors: FieldErrors) -> None:
    if "legal_name" in values and not (values["legal_name"] or "").strip():
        errors.add("legal_name", _("Enter the organisation's legal name."))
    if "city" in values and not (values["city"] or "").strip():
        errors.add("city", _("Enter the city."))
    if "country" in values:
        code = (values["country"] or "").upper()
        if pycountry.countries.get(alpha_2=code) is None:
            errors.add("country", _("%(code)s is not an ISO 3166 country code.") % {"code": code or "—"})
        values["country"] = code
    if values.get("subdivision"):
        sub = values["subdivision"].upper()
        if pycountry.subdivisions.get(code=sub) is None:
            errors.add("subdivision", _("%(code)s is not an ISO 3166-2 subdivision code.") % {"code": sub})
        values["subdivision"] = sub


def _validate_kind(kind: str, provider_types: Iterable[str], errors: FieldErrors) -> list[str]:
    types = sorted(set(provider_types or []))
    if kind not in OrganisationKind.values:
        errors.add("kind", _("Choose what kind of organisation this is."))
    if kind == OrganisationKind.PROVIDER and not types:
        errors.add("provider_types", _("A service provider offers at least one service."))
    if kind != OrganisationKind.PROVIDER and types:
        errors.add("provider_types", _("Only service providers have provider types."))
    for t in types:
        if t not in ProviderType.values:
            errors.add("provider_types", _("Unknown provider type: %(type)s") % {"type": t})
    return types


def _checked_identifiers(country: str, identifiers: dict[str, str], errors: FieldErrors) -> dict:
    checked = {}
    for scheme, raw in (identifiers or {}).items():
        if not raw:
            continue
        if scheme not in IdentifierScheme.values:
            errors.add(
                f"identifiers.{scheme}", _("Unknown identifier scheme: %(scheme)s") % {"scheme": scheme}
            )
            continue
        try:
            checked[scheme] = check_identifier(scheme, country, raw)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add(f"identifiers.{scheme}", message)
    return checked


@transaction.atomic
def create_organisation(
    *,
    by: User,
    legal_name: str,
    kind: str,
    country: str,
    city: str,
    street: str = "",
    postcode: str = "",
    subdivision: str = "",
    email: str = "",
    phone: str = "",
    provider_types: Iterable[str] = (),
    identifiers: dict[str, str] | None = None,
) -> Organisation:
    """Create an organisation, pending verification, with its creator as owner."""
    values = {
        "legal_name": legal_name,
        "country": country,
        "street": street,
        "city": city,
        "postcode": postcode,
        "subdivision": subdivision,
        "email": email,
        "phone": phone,
    }
    errors = FieldErrors()
    _validate_org_fields(values, errors)
    types = _validate_kind(kind, provider_types, errors)
    if kind == OrganisationKind.OPERATOR and not by.is_superuser:
        errors.add("kind", _("Only the platform's administrators can create an operator organisation."))
    checked = _checked_identifiers(values["country"], identifiers or {}, errors)
    errors.raise_if_any()

    org = Organisation.objects.create(
        kind=kind, provider_types=types, **{k: (v or "").strip() for k, v in values.items()}
    )
    for scheme, ident in checked.items():
        OrganisationIdentifier.objects.create(
            organisation=org, scheme=scheme, value=ident.value, validator=ident.validator
        )
    Membership.objects.create(user=by, organisation=org, role=Role.OWNER)
    record_event(
        actor=by,
        organisation_id=org.id,
        action="organisation.created",
        obj=org,
        changes={
            **values,
            "kind": kind,
            "provider_types": types,
            "identifiers": {s: i.value for s, i in checked.items()},
        },
    )
    return org


def _require(actor: Actor, action: str, organisation: Organisation) -> None:
    if not actor.can(action, organisation.id):
        raise PermissionDenied(_("You may not do this for %(org)s.") % {"org": organisation.legal_name})


@transaction.atomic
def update_organisation(*, actor: Actor, organisation: Organisation, **fields) -> Organisation:
    """Change an organisation's profile. Changing its legal name or country sends it back for verification."""
    _require(actor, ADMIN, organisation)
    unknown = set(fields) - set(ORG_FIELDS) - {"provider_types"}
    if unknown:
        raise ValueError(f"not organisation fields: {sorted(unknown)}")
    errors = FieldErrors()
    values = {k: v for k, v in fields.items() if k in ORG_FIELDS}
    _validate_org_fields(values, errors)
    types = organisation.provider_types
    if "provider_types" in fields:
        types = _validate_kind(organisation.kind, fields["provider_types"], errors)
    errors.raise_if_any()
    changes = {}
    for name, value in values.items():
        value = (value or "").strip()
        if getattr(organisation, name) != value:
            changes[name] = [getattr(organisation, name), value]
            setattr(organisation, name, value)
    if types != organisation.provider_types:
        changes["provider_types"] = [organisation.provider_types, types]
        organisation.provider_types = types
    if not changes:
        return organisation
    if {"legal_name", "country"} & set(changes) and organisation.is_verified:
        organisation.verification_status = VerificationStatus.PENDING
        organisation.verification_reason = _("Legal name or country changed: to be verified again.")
        changes["verification_status"] = [VerificationStatus.VERIFIED, VerificationStatus.PENDING]
    organisation.save()
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation.updated",
        obj=organisation,
        changes=changes,
    )
    return organisation


@transaction.atomic
def set_identifier(*, actor: Actor, organisation: Organisation, scheme: str, value: str) -> None:
    """Add, replace or (with an empty value) remove one registration identifier."""
    _require(actor, ADMIN, organisation)
    errors = FieldErrors()
    existing = OrganisationIdentifier.objects.filter(organisation=organisation, scheme=scheme).first()
    if not value:
        if existing:
            existing.delete()
            record_event(
                actor=actor,
                organisation_id=organisation.id,
                action="organisation.identifier_removed",
                obj=organisation,
                changes={"scheme": scheme, "value": existing.value},
            )
        return
    checked = _checked_identifiers(organisation.country, {scheme: value}, errors)
    errors.raise_if_any()
    ident = checked[scheme]
    OrganisationIdentifier.objects.update_or_create(
        organisation=organisation,
        scheme=scheme,
        defaults={"value": ident.value, "validator": ident.validator},
    )
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation.identifier_set",
        obj=organisation,
        changes={"scheme": scheme, "value": ident.value, "previous": existing.value if existing else None},
    )


# -- memberships ------------------------------------------------------------------------------------


@transaction.atomic
def add_member(*, actor: Actor, organisation: Organisation, email: str, role: str) -> Membership:
    """Give an existing user a role in the organisation (owners only)."""
    _require(actor, ADMIN, organisation)
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose owner, member or read-only.")]})
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        raise ValidationError(
            {"email": [_("No account uses this e-mail address; ask the person to sign up first.")]}
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role}
    )
    if not created:
        raise ValidationError({"email": [_("This person is already a member.")]})
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="membership.added",
        obj=membership,
        changes={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def change_member_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    organisation = membership.organisation
    _require(actor, ADMIN, organisation)
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose owner, member or read-only.")]})
    if membership.role == Role.OWNER and role != Role.OWNER:
        _ensure_another_owner(membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="membership.role_changed",
        obj=membership,
        changes={"user": membership.user.email, "role": [old, role]},
    )
    return membership


@transaction.atomic
def remove_member(*, actor: Actor, membership: Membership) -> None:
    organisation = membership.organisation
    _require(actor, ADMIN, organisation)
    if membership.role == Role.OWNER:
        _ensure_another_owner(membership)
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="membership.removed",
        obj=membership,
        changes={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


def _ensure_another_owner(membership: Membership) -> None:
    others = (
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError({"role": [_("An organisation keeps at least one owner.")]})


# -- verification -----------------------------------------------------------------------------------


@transaction.atomic
def add_evidence(
    *, actor: Actor, organisation: Organisation, description: str, file: UploadedFile
) -> VerificationEvidence:
    """Attach a document that proves the organisation's identity (registration extract, licence…)."""
    _require(actor, CHANGE, organisation)
    errors = FieldErrors()
    if not (description or "").strip():
        errors.add("description", _("Say what this document is."))
    if file is None:
        errors.add("file", _("Choose a file."))
    elif file.size > MAX_EVIDENCE_BYTES:
        errors.add("file", _("The file is larger than 10 MB."))
    errors.raise_if_any()
    evidence = VerificationEvidence.objects.create(
        organisation=organisation, description=description.strip(), file=file, uploaded_by=actor.user
    )
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation.evidence_added",
        obj=evidence,
        changes={"description": evidence.description, "file": evidence.file.name},
    )
    return evidence


def _decide(*, actor: Actor, organisation: Organisation, status: str, reason: str) -> Organisation:
    if not actor.is_operator:
        raise PermissionDenied(_("Only platform operators verify organisations."))
    if status == VerificationStatus.REJECTED and not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason for the rejection.")]})
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    old = org.verification_status
    org.verification_status = status
    org.verification_reason = (reason or "").strip()
    org.verified_at = timezone.now()
    org.verified_by = actor.user
    org.save(update_fields=["verification_status", "verification_reason", "verified_at", "verified_by"])
    record_event(
        actor=actor,
        organisation_id=org.id,
        action=f"organisation.{status}",
        obj=org,
        changes={"verification_status": [old, status], "reason": org.verification_reason},
    )
    queue_mails(_decision_mails(org), organisation_id=org.id)
    return org


@transaction.atomic
def verify_organisation(*, actor: Actor, organisation: Organisation, reason: str = "") -> Organisation:
    org = _decide(actor=actor, organisation=organisation, status=VerificationStatus.VERIFIED, reason=reason)
    organisation_verified.send(sender=Organisation, organisation=org, actor=actor)
    return org


@transaction.atomic
def reject_organisation(*, actor: Actor, organisation: Organisation, reason: str) -> Organisation:
    return _decide(actor=actor, organisation=organisation, status=VerificationStatus.REJECTED, reason=reason)


def _decision_mails(org: Organisation) -> list[Mail]:
    """The e-mail of the operator's decision to each owner of the organisation, in the owner's language."""
    owners = User.objects.filter(memberships__organisation=org, memberships__role=Role.OWNER, is_active=True)
    mails = []
    for owner in owners:
        with translation.override(owner.language):
            if org.is_verified:
                subject = _("%(org)s is verified on ISMIT") % {"org": org.legal_name}
                body = _(
                    "Your organisation %(org)s has been verified. You can now send declarations, "
                    "requests and documents to third parties."
                ) % {"org": org.legal_name}
            else:
                subject = _("%(org)s could not be verified") % {"org": org.legal_name}
                body = _("Your organisation %(org)s was not verified, for this reason: %(reason)s") % {
                    "org": org.legal_name,
                    "reason": org.verification_reason,
                }
        mails.append(Mail(to=owner.email, subject=subject, body=body))
    return mails


# -- API tokens -------------------------------------------------------------------------------------


@transaction.atomic
def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a personal access token. The key is returned once; only its hash is kept."""
    name = (name or "").strip() or _("API token")
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], key_hash=ApiToken.hash_key(key), hint=key[: len(ApiToken.PREFIX) + 6]
    )
    record_event(
        actor=user,
        organisation_id=None,
        action="api_token.created",
        obj=token,
        changes={"name": token.name, "hint": token.hint},
    )
    return token, key


@transaction.atomic
def revoke_api_token(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.id:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            actor=user,
            organisation_id=None,
            action="api_token.revoked",
            obj=token,
            changes={"name": token.name, "hint": token.hint},
        )
    return token


_TOKEN_FIELDS = concrete_attnames(ApiToken)
_USER_FIELDS = concrete_attnames(User)
# The bearer token's row and its user's, prepared (lib.prepared): every API request reads it.
_TOKEN_ROWS = Prepared(
    lambda key_hash: ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).values_list(
        *_TOKEN_FIELDS, *prefixed("user", _USER_FIELDS)
    )[:1],
    text=("key_hash",),
)


def user_for_api_key(key: str) -> User | None:
    """The active user behind a bearer token, or None. Notes the last use at most once a minute."""
    if not key or not key.startswith(ApiToken.PREFIX):
        return None
    rows = _TOKEN_ROWS.rows(key_hash=ApiToken.hash_key(key))
    if not rows:
        return None
    token_row, user_row = split(rows[0], len(_TOKEN_FIELDS), len(_USER_FIELDS))
    token, user = instance(ApiToken, _TOKEN_FIELDS, token_row), instance(User, _USER_FIELDS, user_row)
    if not user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user


# -- notifications ----------------------------------------------------------------------------------


# Every member of an organisation, as notify() reads them (prepared, lib.prepared: every answer applied
# notifies).
_MEMBER_ROWS = Prepared(
    lambda organisation_id: (
        User.objects.filter(memberships__organisation_id=organisation_id, is_active=True)
        .order_by("pk")
        .distinct()
        .values_list(*_USER_FIELDS)
    ),
    "organisation_id",
)


def notify(
    *,
    organisation_id: int,
    kind: str,
    title,
    body="",
    url: str = "",
    email: bool = True,
    user_ids: Iterable[int] | None = None,
) -> list[Notification]:
    """Tell every member of an organisation that something happened: in the platform, and by e-mail
    (sent once the caller's transaction commits).

    `title` and `body` may be lazy translations (gettext_lazy, format_lazy): each member gets them in
    their own language. `url` is the path of the page to open (made absolute with SITE_URL in e-mails).
    `user_ids`: only these members (their own choice of what they hear about); none: nothing is written.
    """
    chosen = None if user_ids is None else sorted(set(user_ids))
    if chosen is not None and not chosen:
        return []
    batch = getattr(_batch, "state", None)
    key = (organisation_id, None if chosen is None else tuple(chosen))
    members = batch.members.get(key) if batch is not None else None
    if members is None:
        if chosen is None:
            rows = _MEMBER_ROWS.rows(organisation_id=organisation_id)
            members = [instance(User, _USER_FIELDS, row) for row in rows]
        else:
            members_q = User.objects.filter(memberships__organisation_id=organisation_id, is_active=True)
            members = list(members_q.filter(pk__in=chosen).order_by("pk").distinct())
        if batch is not None:
            batch.members[key] = members
    if user_ids is not None and not members:
        return []
    now = timezone.now()
    rows = []
    for member in members or [None]:
        with translation.override(member.language if member else settings.LANGUAGE_CODE):
            rows.append(
                Notification(
                    organisation_id=organisation_id,
                    user=member,
                    kind=kind[:60],
                    title=str(title)[:200],
                    body=str(body or ""),
                    url=url[:300],
                    created_at=now,
                )
            )
    mails = []
    if email:
        mails = [_mail_of(n) for n in rows if n.user is not None and n.user.email]
    if batch is not None:
        batch.rows += rows
        batch.mails += mails
        return rows
    if not mails:
        Notification.objects.bulk_create(rows)
        return rows
    with transaction.atomic():  # the notifications and their e-mails, or neither
        Notification.objects.bulk_create(rows)
        queue_mails(mails, organisation_id=organisation_id)
    return rows


def _mail_of(notification: Notification) -> Mail:
    """The e-mail of a notification: its title, its body and the link to its page."""
    text = notification.body
    if notification.url:
        link = f"{settings.SITE_URL}{notification.url}"
        text = f"{text}\n\n{link}" if text else link
    return Mail(to=notification.user.email, subject=notification.title, body=text)


class _Batch:
    def __init__(self) -> None:
        self.members: dict[tuple, list[User]] = {}
        self.rows: list[Notification] = []
        self.mails: list[Mail] = []

    def take_mails(self) -> list[Mail]:
        mails, self.mails = self.mails, []
        return mails


_batch = threading.local()


@contextmanager
def batched_notifications() -> Iterator[_Batch]:
    """Inside a transaction: notify() reads each organisation's members once in the block, and its
    notifications are written in one INSERT at the end, their e-mails in one outbox message (sent once the
    transaction commits, as always). Nested, the outermost block writes them.

    The block's value holds the e-mails (`.mails`): a caller inside lib.rows.deferred takes them
    (`take_mails()`) and queues them after its deferred writes (queue_mails needs the outbox message's
    primary key at once)."""
    if getattr(_batch, "state", None) is not None:
        yield _batch.state
        return
    _batch.state = _Batch()
    try:
        yield _batch.state
        state = _batch.state
    finally:
        _batch.state = None
    if state.rows:
        insert_objects(state.rows)  # with the caller's other writes inside lib.rows.deferred
    queue_mails(state.take_mails())


def mark_notifications_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or those with the given ids); returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
