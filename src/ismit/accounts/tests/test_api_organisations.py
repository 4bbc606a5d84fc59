"""The API's view of the current user and of organisations: create, read, change, verify, audit."""

from __future__ import annotations

import pytest

from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus
from ismit.accounts.services import create_api_token

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_me_lists_the_users_memberships_and_roles(client, cast):
    me = client.get("/api/v1/me", headers=bearer(cast.viewer)).json()
    assert me["user"]["email"] == cast.viewer.email
    assert me["is_operator"] is False
    assert me["memberships"] == [
        {
            "organisation": {
                "id": cast.msme.id,
                "legal_name": cast.msme.legal_name,
                "kind": "msme",
                "verification_status": "verified",
            },
            "role": "read_only",
        }
    ]


def test_a_member_lists_only_their_own_organisations(client, cast):
    page = client.get("/api/v1/organisations", headers=bearer(cast.exporter)).json()
    assert page["count"] == 1
    assert [o["id"] for o in page["results"]] == [cast.msme.id]
    assert page["next"] is None and page["previous"] is None


def test_an_operator_lists_every_organisation_page_by_page(client, cast):
    headers = bearer(cast.operator)
    first = client.get("/api/v1/organisations?page_size=3", headers=headers).json()
    assert first["count"] == Organisation.objects.count()
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = client.get(first["next"], headers=headers).json()
    assert "page=1" in second["previous"]
    assert not {o["id"] for o in first["results"]} & {o["id"] for o in second["results"]}


def test_page_size_follows_the_setting_and_is_capped_at_200(client, cast, settings):
    Organisation.objects.bulk_create(
        Organisation(legal_name=f"Cooperative {n:03d}", kind="msme", country="CI", city="Bouaké")
        for n in range(200)
    )
    settings.API_PAGE_SIZE = 4
    headers = bearer(cast.operator)
    assert len(client.get("/api/v1/organisations", headers=headers).json()["results"]) == 4
    page = client.get("/api/v1/organisations?page_size=500", headers=headers).json()
    assert len(page["results"]) == 200
    assert page["count"] == 206
    response = client.get("/api/v1/organisations?page=0", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "page"


def test_the_creator_of_an_organisation_becomes_its_owner(client, cast):
    response = client.post(
        "/api/v1/organisations",
        {
            "legal_name": "Karité du Nord",
            "kind": "msme",
            "country": "CI",
            "city": "Korhogo",
        },
        content_type=JSON,
        headers=bearer(cast.stranger),
    )
    assert response.status_code == 201
    org = response.json()
    assert org["verification_status"] == "pending"
    assert Membership.objects.get(user=cast.stranger, organisation_id=org["id"]).role == Role.OWNER


def test_organisation_errors_name_their_fields(client, cast):
    response = client.post(
        "/api/v1/organisations",
        {
            "legal_name": "Freight Co",
            "kind": "provider",
            "country": "XX",
            "city": "Dakar",
        },
        content_type=JSON,
        headers=bearer(cast.stranger),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"country", "provider_types"}


def test_an_owner_changes_the_organisation_profile(client, cast):
    response = client.patch(
        f"/api/v1/organisations/{cast.msme.id}",
        {"phone": "+225 27 00 00 00"},
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert response.status_code == 200
    assert response.json()["phone"] == "+225 27 00 00 00"
    assert response.json()["legal_name"] == cast.msme.legal_name


def test_a_member_who_is_not_owner_cannot_change_the_profile(client, cast):
    for user in (cast.colleague, cast.viewer):
        response = client.patch(
            f"/api/v1/organisations/{cast.msme.id}", {"phone": "0"}, content_type=JSON, headers=bearer(user)
        )
        assert response.status_code == 403
    assert Organisation.objects.get(pk=cast.msme.pk).phone == ""


def test_another_organisation_is_not_visible(client, cast):
    headers = bearer(cast.other)
    for path in ("", "/members", "/audit"):
        assert client.get(f"/api/v1/organisations/{cast.msme.id}{path}", headers=headers).status_code == 404
    response = client.patch(
        f"/api/v1/organisations/{cast.msme.id}", {"phone": "0"}, content_type=JSON, headers=headers
    )
    assert response.status_code == 404


def test_an_owner_sets_and_removes_an_identifier(client, cast):
    headers = bearer(cast.other)  # a Kenyan company: its PIN is the tax identifier
    response = client.put(
        f"/api/v1/organisations/{cast.other_msme.id}/identifiers/vat",
        {"value": "nonsense"},
        content_type=JSON,
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "identifiers.vat"
    response = client.put(
        f"/api/v1/organisations/{cast.other_msme.id}/identifiers/vat",
        {"value": ""},
        content_type=JSON,
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["identifiers"] == {}


def test_an_operator_verifies_and_rejects_organisations(client, cast):
    cast.msme.verification_status = VerificationStatus.PENDING
    cast.msme.save()
    headers = bearer(cast.operator)
    verified = client.post(
        f"/api/v1/organisations/{cast.msme.id}/verify", {}, content_type=JSON, headers=headers
    )
    assert verified.status_code == 200
    assert verified.json()["verification_status"] == "verified"

    missing_reason = client.post(
        f"/api/v1/organisations/{cast.msme.id}/reject", {}, content_type=JSON, headers=headers
    )
    assert missing_reason.status_code == 422
    assert missing_reason.json()["errors"][0]["field"] == "reason"
    rejected = client.post(
        f"/api/v1/organisations/{cast.msme.id}/reject",
        {"reason": "The extract is forged."},
        content_type=JSON,
        headers=headers,
    )
    assert rejected.json()["verification_status"] == "rejected"
    assert rejected.json()["verification_reason"] == "The extract is forged."


def test_an_owner_cannot_verify_their_own_organisation(client, cast):
    cast.msme.verification_status = VerificationStatus.PENDING
    cast.msme.save()
    response = client.post(
        f"/api/v1/organisations/{cast.msme.id}/verify", {}, content_type=JSON, headers=bearer(cast.exporter)
    )
    assert response.status_code == 403
    assert Organisation.objects.get(pk=cast.msme.pk).verification_status == VerificationStatus.PENDING


def test_members_are_listed_with_their_roles(client, cast):
    members = client.get(f"/api/v1/organisations/{cast.msme.id}/members", headers=bearer(cast.viewer)).json()
    assert {(m["user"]["email"], m["role"]) for m in members} == {
        (cast.exporter.email, "owner"),
        (cast.colleague.email, "member"),
        (cast.viewer.email, "read_only"),
    }


def test_owners_read_the_audit_log_of_their_organisation(client, cast, cashew_trade):
    response = client.get(f"/api/v1/organisations/{cast.msme.id}/audit", headers=bearer(cast.exporter))
    assert response.status_code == 200
    page = response.json()
    assert page["count"] >= 1
    assert "trade.created" in [e["action"] for e in page["results"]]
    seqs = [e["seq"] for e in page["results"]]
    assert seqs == sorted(seqs, reverse=True)


def test_members_who_are_not_owners_cannot_read_the_audit_log(client, cast, cashew_trade):
    for user in (cast.colleague, cast.viewer, cast.operator):
        response = client.get(f"/api/v1/organisations/{cast.msme.id}/audit", headers=bearer(user))
        assert response.status_code == 403


def test_owners_add_change_and_remove_members_and_each_change_is_audited(client, cast):
    owner, members = bearer(cast.exporter), f"/api/v1/organisations/{cast.msme.id}/members"
    response = client.post(
        members, {"email": cast.stranger.email.upper(), "role": "read_only"}, content_type=JSON, headers=owner
    )
    assert response.status_code == 201, response.content
    added = response.json()
    assert (added["user"]["email"], added["role"]) == (cast.stranger.email, "read_only")

    response = client.patch(f"{members}/{added['id']}", {"role": "member"}, content_type=JSON, headers=owner)
    assert response.status_code == 200, response.content
    assert Membership.objects.get(pk=added["id"]).role == Role.MEMBER

    assert client.delete(f"{members}/{added['id']}", headers=owner).status_code == 204
    assert not Membership.objects.filter(pk=added["id"]).exists()
    audit = client.get(f"/api/v1/organisations/{cast.msme.id}/audit", headers=owner).json()["results"]
    actions = [e["action"] for e in audit]
    assert actions[:3] == ["membership.removed", "membership.role_changed", "membership.added"]


def test_member_changes_are_for_owners_and_refuse_bad_input_with_field_errors(client, cast):
    members = f"/api/v1/organisations/{cast.msme.id}/members"
    colleague = Membership.objects.get(user=cast.colleague, organisation=cast.msme)
    response = client.post(
        members,
        {"email": cast.stranger.email, "role": "member"},
        content_type=JSON,
        headers=bearer(cast.colleague),
    )
    assert response.status_code == 403
    assert client.delete(f"{members}/{colleague.pk}", headers=bearer(cast.viewer)).status_code == 403

    owner = bearer(cast.exporter)
    unknown = client.post(members, {"email": "nobody-yet@example.com"}, content_type=JSON, headers=owner)
    assert unknown.status_code == 422
    assert unknown["Content-Type"] == "application/problem+json"
    assert "email" in str(unknown.json())
    twice = client.post(members, {"email": cast.colleague.email}, content_type=JSON, headers=owner)
    assert twice.status_code == 422
    bad_role = client.patch(f"{members}/{colleague.pk}", {"role": "boss"}, content_type=JSON, headers=owner)
    assert bad_role.status_code == 422
    assert "role" in str(bad_role.json())
    own = Membership.objects.get(user=cast.exporter, organisation=cast.msme)
    last_owner = client.patch(f"{members}/{own.pk}", {"role": "member"}, content_type=JSON, headers=owner)
    assert last_owner.status_code == 422
    assert Membership.objects.get(pk=own.pk).role == Role.OWNER
    assert Membership.objects.get(pk=colleague.pk).role == Role.MEMBER


def test_a_membership_is_reached_only_under_its_own_organisation(client, cast):
    colleague = Membership.objects.get(user=cast.colleague, organisation=cast.msme)
    other_org = Membership.objects.get(user=cast.other).organisation_id
    response = client.delete(
        f"/api/v1/organisations/{other_org}/members/{colleague.pk}", headers=bearer(cast.exporter)
    )
    assert response.status_code == 404
    assert Membership.objects.filter(pk=colleague.pk).exists()
