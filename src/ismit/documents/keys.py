"""Keys and certificates: the platform's CA and one ECDSA P-256 key pair per organisation.

The CA is self-signed and made on first need; each organisation's certificate is issued by it when the
organisation is verified (or on its first issue). Both live in the database (SigningKey), so that every web
process and worker shares them. Private keys are encrypted at rest with AES-256-GCM under a key derived
(HKDF-SHA256) from settings.ISMIT_SIGNING_SECRET; the ciphertext is bound to the certificate's fingerprint,
so a key copied onto another row does not decrypt.

ECDSA P-256 is the one algorithm that pyHanko (PAdES), signxml (XAdES) and jwcrypto (JWS, ES256) all
support natively, with small signatures and fast signing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.documents.models import KeyRole, KeyStatus, SigningKey
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split

CA_NAME = "ISMIT Document Signing CA"
CA_VALIDITY = dt.timedelta(days=25 * 365)
SIGNER_VALIDITY = dt.timedelta(days=5 * 365)
BACKDATE = dt.timedelta(minutes=5)  # tolerate clocks a little behind ours
_MAGIC = b"ISK1"  # version of the encrypted blob's layout: magic, 12-byte nonce, ciphertext with tag


# -- encryption at rest -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ismit.documents.keys", info=b"private keys at rest, v1"
    ).derive(secret.encode())
    return AESGCM(key)


def encrypt_private_key(private_key: ec.EllipticCurvePrivateKey, *, bound_to: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return _MAGIC + nonce + _aead(settings.ISMIT_SIGNING_SECRET).encrypt(nonce, der, bound_to.encode())


def decrypt_private_key(blob: bytes, *, bound_to: str) -> ec.EllipticCurvePrivateKey:
    blob = bytes(blob)
    if not blob.startswith(_MAGIC):
        raise ImproperlyConfigured("This signing key is not stored in a format this version reads.")
    nonce, ciphertext = blob[len(_MAGIC) : len(_MAGIC) + 12], blob[len(_MAGIC) + 12 :]
    try:
        der = _aead(settings.ISMIT_SIGNING_SECRET).decrypt(nonce, ciphertext, bound_to.encode())
    except InvalidTag:
        raise ImproperlyConfigured(
            "The signing keys cannot be decrypted: ISMIT_SIGNING_SECRET is not the secret they were "
            "encrypted with (see docs/configuration.md)."
        )
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


# -- certificates -----------------------------------------------------------------------------------


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_certificate(key: SigningKey) -> x509.Certificate:
    return _load_pem(key.certificate_pem)


@lru_cache(maxsize=256)
def _load_pem(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,  # non-repudiation: the organisation stands behind what it signs
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _row(
    *,
    role: str,
    certificate: x509.Certificate,
    private_key: ec.EllipticCurvePrivateKey,
    subject_name: str,
    organisation: Organisation | None = None,
    issuer: SigningKey | None = None,
) -> SigningKey:
    fp = fingerprint(certificate)
    return SigningKey.objects.create(
        role=role,
        organisation=organisation,
        issuer=issuer,
        subject_name=subject_name,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        fingerprint=fp,
        serial_number=format(certificate.serial_number, "x"),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        private_key_encrypted=encrypt_private_key(private_key, bound_to=fp),
    )


def _create_ca() -> SigningKey:
    now = timezone.now()
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ISMIT"),
        ]
    )
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    key = _row(role=KeyRole.CA, certificate=certificate, private_key=private_key, subject_name=CA_NAME)
    record_event(
        actor=None,
        organisation_id=None,
        action="signing_ca.created",
        obj=key,
        changes={"fingerprint": key.fingerprint, "not_after": key.not_after},
    )
    return key


def platform_ca() -> SigningKey:
    """The active platform CA, made on first need (once, even when several processes ask at once)."""
    ca = SigningKey.objects.filter(role=KeyRole.CA, status=KeyStatus.ACTIVE).first()
    if ca is not None:
        return ca
    try:
        with transaction.atomic():
            return _create_ca()
    except IntegrityError:  # another process made it first
        return SigningKey.objects.get(role=KeyRole.CA, status=KeyStatus.ACTIVE)


def ca_certificates() -> list[x509.Certificate]:
    """Every CA certificate that signed organisation certificates (the active one first)."""
    platform_ca()
    rows = SigningKey.objects.filter(role=KeyRole.CA).exclude(status=KeyStatus.REVOKED)
    return [load_certificate(k) for k in sorted(rows, key=lambda k: (k.status != KeyStatus.ACTIVE, -k.pk))]


def ca_bundle_pem() -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in ca_certificates())


def subject_for(organisation: Organisation) -> str:
    return organisation.legal_name.strip()[:64] or f"Organisation {organisation.pk}"  # X.520 ub-common-name


def _create_signer(organisation: Organisation, *, actor, replaces: SigningKey | None) -> SigningKey:
    ca = platform_ca()
    ca_certificate = load_certificate(ca)
    ca_key = decrypt_private_key(ca.private_key_encrypted, bound_to=ca.fingerprint)
    now = timezone.now()
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    subject = subject_for(organisation)
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, subject),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"ISMIT organisation {organisation.pk}"),
    ]
    if len(organisation.country or "") == 2:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, organisation.country.upper()))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + SIGNER_VALIDITY, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    if replaces is not None:
        replaces.status = KeyStatus.RETIRED
        replaces.retired_at = now
        replaces.save(update_fields=["status", "retired_at"])
    key = _row(
        role=KeyRole.SIGNER,
        certificate=certificate,
        private_key=private_key,
        subject_name=subject,
        organisation=organisation,
        issuer=ca,
    )
    record_event(
        actor=actor,
        organisation_id=organisation.pk,
        action="signing_key.created",
        obj=key,
        changes={
            "fingerprint": key.fingerprint,
            "subject": subject,
            "not_after": key.not_after,
            "replaces": replaces.fingerprint if replaces else None,
        },
    )
    return key


def active_key(organisation: Organisation) -> SigningKey | None:
    return SigningKey.objects.filter(
        role=KeyRole.SIGNER, organisation=organisation, status=KeyStatus.ACTIVE
    ).first()


_KEY_FIELDS = concrete_attnames(SigningKey)
# Prepared (lib.prepared): every issue reads it.
_ACTIVE_SIGNER_ROWS = Prepared(
    lambda organisation_id: (
        SigningKey.objects.filter(
            role=KeyRole.SIGNER, organisation_id=organisation_id, status=KeyStatus.ACTIVE
        )
        .order_by("-created_at", "-id")
        .values_list(*_KEY_FIELDS, *prefixed("issuer", _KEY_FIELDS))[:1]
    ),
    "organisation_id",
)


def _active_signer(organisation_id: int) -> SigningKey | None:
    """The organisation's active key with its issuer, without a lock."""
    rows = _ACTIVE_SIGNER_ROWS.rows(organisation_id=organisation_id)
    if not rows:
        return None
    key_row, issuer_row = split(rows[0], len(_KEY_FIELDS), len(_KEY_FIELDS))
    key = instance(SigningKey, _KEY_FIELDS, key_row)
    issuer = instance(SigningKey, _KEY_FIELDS, issuer_row) if issuer_row[0] is not None else None
    SigningKey.issuer.field.set_cached_value(key, issuer)
    return key


def ensure_signing_key(organisation: Organisation, *, actor=None, renew: bool = False) -> SigningKey:
    """The organisation's active key; a new one (the old one retired) if it has none, if its certificate
    no longer names the organisation as it is now, or if `renew` is asked."""
    if not renew:
        current = _active_signer(organisation.pk)
        if current is not None and not _outdated(current, organisation):
            return current  # the common case: read with its issuer, without a lock or a transaction
    with transaction.atomic():
        current = (
            SigningKey.objects.select_for_update()
            .filter(role=KeyRole.SIGNER, organisation=organisation, status=KeyStatus.ACTIVE)
            .first()
        )
        if current is not None and not renew and not _outdated(current, organisation):
            return current
        try:
            with transaction.atomic():
                return _create_signer(organisation, actor=actor, replaces=current)
        except IntegrityError:  # made by a concurrent request
            return SigningKey.objects.get(
                role=KeyRole.SIGNER, organisation=organisation, status=KeyStatus.ACTIVE
            )


def _outdated(key: SigningKey, organisation: Organisation) -> bool:
    certificate = load_certificate(key)
    country = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return (
        key.subject_name != subject_for(organisation)
        or (country[0].value if country else "") != (organisation.country or "").upper()
        or certificate.not_valid_after_utc - timezone.now() < dt.timedelta(days=30)
    )


# -- what the signing functions need ----------------------------------------------------------------


@dataclass(frozen=True)
class SignerMaterial:
    """A decrypted key with its certificate chain, for documents/signing.py. Never stored."""

    key_id: int
    name: str
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    ca_certificate: x509.Certificate


# Decrypted keys, per process, by what identifies them: a key's row never changes but for its status (a
# revoked or retired key is not read as active, so not asked for), and a rotation makes a new row. Bound to
# the secret they were decrypted with. Never stored.
_MATERIALS: dict[tuple, SignerMaterial] = {}
_MATERIALS_LIMIT = 256


def signer_material(key: SigningKey) -> SignerMaterial:
    ca = key.issuer if key.issuer_id else platform_ca()
    known = (key.pk, key.fingerprint, key.subject_name, ca.pk, ca.fingerprint, settings.ISMIT_SIGNING_SECRET)
    material = _MATERIALS.get(known)
    if material is None:
        material = SignerMaterial(
            key_id=key.pk,
            name=key.subject_name,
            private_key=decrypt_private_key(key.private_key_encrypted, bound_to=key.fingerprint),
            certificate=load_certificate(key),
            ca_certificate=load_certificate(ca),
        )
        if len(_MATERIALS) >= _MATERIALS_LIMIT:
            _MATERIALS.clear()
        _MATERIALS[known] = material
    return material
