"""Platform operators verify or reject organisations; the owners are told by e-mail, in their language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(cast):
    """The exporter's MSME, waiting for verification, with a second, English-speaking owner."""
    Organisation.objects.filter(pk=cast.msme.pk).update(verification_status=VerificationStatus.PENDING)
    Membership.objects.filter(user=cast.colleague).update(role=Role.OWNER)
    cast.msme.refresh_from_db()
    return cast.msme


def test_the_operator_sees_the_pending_organisations(client, cast, pending):
    client.force_login(cast.operator)
    response = client.get(reverse("accounts:verification_queue"))
    assert list(response.context["organisations"]) == [pending]
    assert reverse("accounts:verification_review", args=[pending.pk]) in response.content.decode()


def test_the_review_page_shows_which_validator_checked_each_identifier(client, cast, pending):
    pending.identifiers.create(scheme="vat", value="40303265045", validator="stdnum.fr.tva")
    client.force_login(cast.operator)
    html = client.get(reverse("accounts:verification_review", args=[pending.pk])).content.decode()
    assert "stdnum.fr.tva" in html
    assert cast.exporter.email in html


@pytest.mark.parametrize("who", ["exporter", "colleague", "broker", "stranger"])
def test_only_operators_see_the_queue_and_the_review_pages(client, cast, pending, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("accounts:verification_queue")).status_code == 404
    assert client.get(reverse("accounts:verification_review", args=[pending.pk])).status_code == 404
    assert client.post(reverse("accounts:verify", args=[pending.pk])).status_code == 404
    assert (
        client.post(reverse("accounts:reject", args=[pending.pk]), {"reject-reason": "x"}).status_code == 404
    )
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.PENDING


def test_the_operator_verifies_and_the_owners_are_told_in_their_language(
    client, cast, pending, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(cast.operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:verify", args=[pending.pk]), {"verify-reason": ""})
    assert response["Location"] == reverse("accounts:verification_queue")
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.VERIFIED
    assert pending.verified_by == cast.operator
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert set(subjects) == {cast.exporter.email, cast.colleague.email}
    for owner in (cast.exporter, cast.colleague):
        with translation.override(owner.language):
            expected = gettext("%(org)s is verified on ISMIT") % {"org": pending.legal_name}
        assert subjects[owner.email] == expected


def test_rejecting_needs_a_reason(client, cast, pending, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(cast.operator)
    url = reverse("accounts:reject", args=[pending.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reject-reason": "  "})
    assert response.status_code == 200
    assert response.context["reject_form"].errors["reason"]
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.PENDING
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reject-reason": "The RCCM extract is illegible."})
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.REJECTED
    assert pending.verification_reason == "The RCCM extract is illegible."
    assert len(mailoutbox) == 2
    assert all("The RCCM extract is illegible." in m.body for m in mailoutbox)


def test_members_of_a_rejected_organisation_see_why(client, cast, pending):
    Organisation.objects.filter(pk=pending.pk).update(
        verification_status=VerificationStatus.REJECTED, verification_reason="Name does not match the RCCM."
    )
    client.force_login(cast.viewer)
    html = client.get(reverse("accounts:organisation", args=[pending.pk])).content.decode()
    assert "Name does not match the RCCM." in html
