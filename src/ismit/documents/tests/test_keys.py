"""Signing keys: the platform CA, one key per verified organisation, encrypted at rest, rotated, revoked."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Organisation, VerificationStatus
from ismit.accounts.services import verify_organisation
from ismit.audit.models import AuditEvent
from ismit.documents import keys, services
from ismit.documents.models import DocumentStatus, KeyRole, KeyStatus, SigningKey
from ismit.documents.tests.issuing import content, signature
from ismit.documents.verification import REVOKED, VALID, check

pytestmark = pytest.mark.django_db


def _pending(cast, name="Cacao Bouaké SA") -> Organisation:
    from ismit.accounts.services import create_organisation

    return create_organisation(by=cast.other, legal_name=name, kind="msme", country="CI", city="Bouaké")


def test_verifying_an_organisation_gives_it_a_key_certified_by_the_platform_ca(cast):
    org = _pending(cast)
    assert not SigningKey.objects.filter(organisation=org).exists()

    verify_organisation(actor=actor_for(cast.operator), organisation=org, reason="Registry extract checked.")

    key = SigningKey.objects.get(organisation=org, status=KeyStatus.ACTIVE)
    certificate = keys.load_certificate(key)
    ca = keys.load_certificate(keys.platform_ca())
    certificate.verify_directly_issued_by(ca)  # raises if not
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Cacao Bouaké SA"
    assert certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CI"
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert AuditEvent.objects.filter(action="signing_key.created", organisation_id=org.pk).count() == 1


def test_the_platform_ca_is_made_once_and_kept_in_the_database(db):
    first = keys.platform_ca()
    again = keys.platform_ca()

    assert first.pk == again.pk and SigningKey.objects.filter(role=KeyRole.CA).count() == 1
    certificate = keys.load_certificate(first)
    assert certificate.issuer == certificate.subject  # self-signed
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_private_keys_are_encrypted_at_rest(cast, settings):
    key = keys.ensure_signing_key(cast.msme)
    private = keys.signer_material(key).private_key
    stored = bytes(key.private_key_encrypted)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    scalar = private.private_numbers().private_value.to_bytes(32, "big")

    assert b"PRIVATE KEY" not in stored and pem not in stored and der not in stored and scalar not in stored
    # The key decrypts only on its own row (bound to its certificate)…
    other = keys.platform_ca()
    with pytest.raises(ImproperlyConfigured):
        keys.decrypt_private_key(stored, bound_to=other.fingerprint)
    # … and only with the secret it was encrypted with.
    settings.ISMIT_SIGNING_SECRET = "another-secret"
    with pytest.raises(ImproperlyConfigured, match="ISMIT_SIGNING_SECRET"):
        keys.decrypt_private_key(stored, bound_to=key.fingerprint)


def test_an_unverified_organisation_can_draft_but_not_issue(cast, cashew_trade, exporter_actor, media_root):
    Organisation.objects.filter(pk=cast.msme.pk).update(verification_status=VerificationStatus.PENDING)

    with pytest.raises(ValidationError, match="not verified"):
        services.issue_documents(actor=exporter_actor, trade=cashew_trade)
    assert not cashew_trade.documents.exists()
    assert not SigningKey.objects.filter(organisation=cast.msme).exists()


def test_a_key_is_made_on_the_first_issue_when_the_organisation_has_none(cast, issued_set):
    key = SigningKey.objects.get(organisation=cast.msme, status=KeyStatus.ACTIVE)
    assert {d.signer_key_id for d in issued_set} == {key.pk}


def test_rotation_keeps_what_the_old_key_signed_verifiable(cast, cashew_trade, exporter_actor, issued_set):
    old = issued_set[0].signer_key

    new = services.rotate_key(actor=exporter_actor, organisation=cast.msme)  # an owner may rotate

    old.refresh_from_db()
    assert old.status == KeyStatus.RETIRED and new.status == KeyStatus.ACTIVE and new.pk != old.pk
    for document in issued_set:
        assert check(data=content(document), signature=signature(document)).status == VALID
    again = services.issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["commercial_invoice"])
    assert again[0].signer_key_id == new.pk
    assert AuditEvent.objects.filter(action="signing_key.rotated", organisation_id=cast.msme.pk).exists()


def test_only_owners_and_operators_rotate_keys(cast):
    with pytest.raises(PermissionDenied):
        services.rotate_key(actor=actor_for(cast.colleague), organisation=cast.msme)  # a member
    with pytest.raises(PermissionDenied):
        services.rotate_key(actor=actor_for(cast.other), organisation=cast.msme)  # another MSME's owner
    assert (
        services.rotate_key(actor=actor_for(cast.operator), organisation=cast.msme).status == KeyStatus.ACTIVE
    )


def test_revoking_a_key_revokes_what_it_signed(cast, cashew_trade, exporter_actor, issued_set):
    key = issued_set[0].signer_key
    with pytest.raises(PermissionDenied):
        services.revoke_key(actor=exporter_actor, key=key, reason="lost laptop")  # operators only

    services.revoke_key(actor=actor_for(cast.operator), key=key, reason="Key exposed in a phishing attack.")

    key.refresh_from_db()
    assert key.status == KeyStatus.REVOKED and key.revoked_at is not None
    assert set(cashew_trade.documents.values_list("status", flat=True)) == {DocumentStatus.REVOKED}
    for document in issued_set:
        assert check(data=content(document), signature=signature(document)).status == REVOKED
    assert check(sha256=issued_set[0].sha256).status == REVOKED
    # The organisation signs again with a new key; the revoked one signs nothing more.
    reissued = services.issue_documents(actor=exporter_actor, trade=cashew_trade, kinds=["trade_dataset"])
    assert reissued[0].signer_key_id != key.pk
    assert check(data=content(reissued[0]), signature=signature(reissued[0])).status == VALID
    event = AuditEvent.objects.get(action="signing_key.revoked")
    assert event.organisation_id == cast.msme.pk and event.changes["documents_revoked"] == len(issued_set)


def test_an_organisation_renamed_and_verified_again_gets_a_certificate_with_its_new_name(cast):
    first = keys.ensure_signing_key(cast.msme)
    Organisation.objects.filter(pk=cast.msme.pk).update(
        legal_name="Anacarde Côte d'Ivoire SA", verification_status=VerificationStatus.PENDING
    )
    cast.msme.refresh_from_db()

    verify_organisation(actor=actor_for(cast.operator), organisation=cast.msme, reason="New name checked.")

    first.refresh_from_db()
    current = keys.active_key(cast.msme)
    assert first.status == KeyStatus.RETIRED
    assert current.subject_name == "Anacarde Côte d'Ivoire SA"


def test_the_ca_certificate_is_published_without_login(client, db):
    response = client.get("/verify/ca.pem")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    published = x509.load_pem_x509_certificates(response.content)
    assert [keys.fingerprint(c) for c in published] == [keys.platform_ca().fingerprint]


def test_an_operator_revokes_a_key_from_the_admin_and_never_sees_private_keys(client, cast, issued_set):
    cast.operator.is_staff = cast.operator.is_superuser = True  # as the demo's operator
    cast.operator.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(cast.operator)
    key = issued_set[0].signer_key
    for url in ("/admin/documents/signingkey/", f"/admin/documents/signingkey/{key.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200 and b"private_key_encrypted" not in page.content

    client.post("/admin/documents/signingkey/", {"action": "revoke", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.status == KeyStatus.REVOKED
    assert check(sha256=issued_set[0].sha256).status == REVOKED
