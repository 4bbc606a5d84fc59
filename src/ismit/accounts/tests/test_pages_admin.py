"""The back office lists the accounts and keeps the audit log read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.accounts.actors import actor_for
from ismit.accounts.models import User
from ismit.accounts.services import create_api_token, update_organisation
from ismit.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, cast):
    admin = User.objects.create_superuser(email="root@ismit.example", password=cast.password)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "accounts_user",
        "accounts_organisation",
        "accounts_membership",
        "accounts_apitoken",
        "accounts_verificationevidence",
        "audit_auditevent",
    ],
)
def test_the_admin_lists_every_model(admin_client, cast, model):
    create_api_token(user=cast.exporter, name="ERP")
    update_organisation(actor=actor_for(cast.exporter), organisation=cast.msme, phone="+225 07")
    response = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


def test_the_admin_opens_an_organisation_with_its_members(admin_client, cast):
    response = admin_client.get(reverse("admin:accounts_organisation_change", args=[cast.msme.pk]))
    assert response.status_code == 200
    assert (
        cast.colleague.email in response.content.decode()
        or str(cast.colleague.pk) in response.content.decode()
    )


def test_the_admin_adds_a_user_by_e_mail(admin_client, cast):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New@Example.org",
            "usable_password": "true",
            "password1": "a-long-passphrase-77",
            "password2": "a-long-passphrase-77",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(email="new@example.org").check_password("a-long-passphrase-77")


def test_audit_events_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, cast):
    event = AuditEvent.objects.create(
        seq=10_000, at="2026-01-01T00:00:00Z", action="x", object_type="y", prev_hash="0", hash="1"
    )
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    response = admin_client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "edited"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == "x"


def test_api_token_hashes_are_read_only_in_the_admin(admin_client, cast):
    token, _ = create_api_token(user=cast.exporter, name="ERP")
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    admin_client.post(reverse("admin:accounts_apitoken_change", args=[token.pk]), {"key_hash": "0" * 64})
    token.refresh_from_db()
    assert token.key_hash != "0" * 64
