"""Owners manage who belongs to their organisation; the audit log shows what everyone did."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Role
from ismit.accounts.services import update_organisation

pytestmark = pytest.mark.django_db


def test_members_see_who_belongs_to_the_organisation_but_only_owners_get_the_forms(client, cast):
    url = reverse("accounts:members", args=[cast.msme.pk])
    client.force_login(cast.viewer)
    html = client.get(url).content.decode()
    assert cast.colleague.email in html
    assert reverse("accounts:member_role", args=[cast.msme.memberships.first().pk]) not in html
    client.force_login(cast.exporter)
    html = client.get(url).content.decode()
    assert reverse("accounts:member_role", args=[cast.msme.memberships.first().pk]) in html


def test_the_owner_adds_an_existing_user_with_a_role(client, cast):
    client.force_login(cast.exporter)
    response = client.post(
        reverse("accounts:members", args=[cast.msme.pk]),
        {"email": cast.stranger.email.upper(), "role": "read_only"},
    )
    assert response["Location"] == reverse("accounts:members", args=[cast.msme.pk])
    assert Membership.objects.get(user=cast.stranger).role == Role.READ_ONLY


def test_adding_an_unknown_address_shows_the_error_on_the_field(client, cast):
    client.force_login(cast.exporter)
    response = client.post(
        reverse("accounts:members", args=[cast.msme.pk]), {"email": "ghost@example.org", "role": "member"}
    )
    assert response.status_code == 200
    assert "sign up first" in response.context["form"].errors["email"][0]


@pytest.mark.parametrize("who", ["viewer", "colleague", "other"])
def test_only_owners_of_the_organisation_add_members(client, cast, who):
    client.force_login(getattr(cast, who))
    response = client.post(
        reverse("accounts:members", args=[cast.msme.pk]), {"email": cast.stranger.email, "role": "owner"}
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user=cast.stranger).exists()


def test_the_owner_changes_a_role(client, cast):
    membership = Membership.objects.get(user=cast.colleague)
    client.force_login(cast.exporter)
    response = client.post(reverse("accounts:member_role", args=[membership.pk]), {"role": "owner"})
    assert response["Location"] == reverse("accounts:members", args=[cast.msme.pk])
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_the_last_owner_cannot_step_down(client, cast):
    membership = Membership.objects.get(user=cast.exporter, organisation=cast.msme)
    client.force_login(cast.exporter)
    response = client.post(
        reverse("accounts:member_role", args=[membership.pk]), {"role": "member"}, follow=True
    )
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


@pytest.mark.parametrize("who", ["colleague", "viewer", "other", "operator"])
def test_only_owners_change_roles_and_remove_members(client, cast, who):
    membership = Membership.objects.get(user=cast.viewer)
    client.force_login(getattr(cast, who))
    assert (
        client.post(reverse("accounts:member_role", args=[membership.pk]), {"role": "owner"}).status_code
        == 404
    )
    assert client.post(reverse("accounts:member_remove", args=[membership.pk])).status_code == 404
    membership.refresh_from_db()
    assert membership.role == Role.READ_ONLY


def test_the_owner_removes_a_member(client, cast):
    membership = Membership.objects.get(user=cast.colleague)
    client.force_login(cast.exporter)
    response = client.post(reverse("accounts:member_remove", args=[membership.pk]))
    assert response["Location"] == reverse("accounts:members", args=[cast.msme.pk])
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_owner_reads_the_audit_log_page_by_page(client, cast):
    actor = actor_for(cast.exporter)
    for i in range(55):
        update_organisation(actor=actor, organisation=cast.msme, phone=f"+225 0700 {i:04d}")
    client.force_login(cast.exporter)
    url = reverse("accounts:organisation_audit", args=[cast.msme.pk])
    first = client.get(url)
    events = list(first.context["page"].object_list)
    assert len(events) == 50
    assert events[0].changes["phone"][1] == "+225 0700 0054"
    html = first.content.decode()
    assert "organisation.updated" in html
    assert cast.exporter.email in html
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 5


@pytest.mark.parametrize("who", ["colleague", "viewer", "other", "operator"])
def test_only_owners_read_the_audit_log(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("accounts:organisation_audit", args=[cast.msme.pk])).status_code == 404
