"""Appointing an organisation on one trade (a customs broker), revoking it, and what the grant lets it see."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import cashew_trade_data
from ismit.accounts import services as accounts_services
from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus
from ismit.audit.models import AuditEvent
from ismit.audit.services import verify_chain
from ismit.lib.errors import error_dict
from ismit.lib.scoping import ADMIN, CHANGE, VIEW
from ismit.trades.models import ChecklistStep, GoodsItem, GrantScope, Trade, TradeGrant
from ismit.trades.queries import appointable, grant_for, grants_of
from ismit.trades.services import appoint, create_trade, revoke_grant

pytestmark = pytest.mark.django_db
CUSTOMS = GrantScope.CUSTOMS


@pytest.fixture
def broker_actor(cast):
    return actor_for(cast.broker)


@pytest.fixture
def grant(cast, cashew_trade, exporter_actor) -> TradeGrant:
    return appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS)


@pytest.fixture
def second_trade(cast, exporter_actor) -> Trade:
    """Another trade of the same MSME, on which nobody is appointed."""
    return create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())


def _broker(name: str, *, verified: bool = True, types=("broker",)) -> Organisation:
    return Organisation.objects.create(
        legal_name=name,
        kind="provider",
        provider_types=list(types),
        country="CI",
        city="Abidjan",
        verification_status=VerificationStatus.VERIFIED if verified else VerificationStatus.PENDING,
    )


def messages_of(exc: ValidationError) -> dict[str, list[str]]:
    return error_dict(exc)


# -- appointing -------------------------------------------------------------------------------------


def test_the_owner_appoints_a_verified_customs_broker(cast, cashew_trade, exporter_actor):
    grant = appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS)
    grant.refresh_from_db()
    assert (grant.trade_id, grant.organisation_id, grant.scope) == (
        cashew_trade.pk,
        cast.broker_org.pk,
        "customs",
    )
    assert grant.granted_by == cast.exporter
    assert grant.is_active and grant.revoked_at is None


def test_a_member_who_may_change_appoints_too(cast, cashew_trade):
    grant = appoint(
        actor=actor_for(cast.colleague), trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS
    )
    assert grant.granted_by == cast.colleague


@pytest.mark.parametrize("who", ["viewer", "broker", "other", "forwarder", "stranger"])
def test_nobody_else_appoints(cast, cashew_trade, who):
    with pytest.raises(PermissionDenied):
        appoint(
            actor=actor_for(getattr(cast, who)),
            trade=cashew_trade,
            organisation=cast.broker_org,
            scope=CUSTOMS,
        )
    assert not TradeGrant.objects.exists()


def test_an_unverified_broker_is_refused(cast, cashew_trade, exporter_actor):
    pending = _broker("Transit Nouveau", verified=False)
    with pytest.raises(ValidationError) as exc:
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=pending, scope=CUSTOMS)
    assert "not verified" in messages_of(exc.value)["organisation"][0]
    assert not TradeGrant.objects.exists()


def test_a_rejected_broker_is_refused(cast, cashew_trade, exporter_actor):
    rejected = _broker("Transit Refusé")
    rejected.verification_status = VerificationStatus.REJECTED
    rejected.save()
    with pytest.raises(ValidationError):
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=rejected, scope=CUSTOMS)


@pytest.mark.parametrize("org", ["forwarder_org", "bank", "other_msme", "operator_org", "msme"])
def test_only_a_customs_broker_is_appointed_for_customs(cast, cashew_trade, exporter_actor, org):
    with pytest.raises(ValidationError) as exc:
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=getattr(cast, org), scope=CUSTOMS)
    assert "organisation" in messages_of(exc.value)
    assert not TradeGrant.objects.exists()


def test_a_provider_with_several_types_including_broker_is_appointed(cast, cashew_trade, exporter_actor):
    both = _broker("Sahel Logistique", types=("broker", "forwarder"))
    assert appoint(actor=exporter_actor, trade=cashew_trade, organisation=both, scope=CUSTOMS).is_active


def test_no_organisation_and_an_unknown_scope_are_refused(cast, cashew_trade, exporter_actor):
    with pytest.raises(ValidationError) as exc:
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=None, scope=CUSTOMS)
    assert "organisation" in messages_of(exc.value)
    with pytest.raises(ValidationError) as exc:
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope="carriage")
    assert "scope" in messages_of(exc.value)


def test_one_active_grant_per_trade_organisation_and_scope(cast, cashew_trade, exporter_actor, grant):
    with pytest.raises(ValidationError) as exc:
        appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS)
    assert "already appointed" in messages_of(exc.value)["organisation"][0]
    revoke_grant(actor=exporter_actor, grant=grant)
    again = appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS)
    assert again.pk != grant.pk
    assert TradeGrant.objects.filter(trade=cashew_trade).count() == 2
    assert TradeGrant.objects.active().get() == again


def test_appointing_is_audited_for_the_owner_and_the_broker(cast, cashew_trade, grant):
    events = AuditEvent.objects.filter(action="trade.grant_created", object_id=str(grant.pk))
    assert sorted(events.values_list("organisation_id", flat=True)) == sorted(
        [cast.msme.pk, cast.broker_org.pk]
    )
    event = events.get(organisation_id=cast.msme.pk)
    assert event.actor_id == cast.exporter.pk
    assert event.object_type == "trades.tradegrant"
    assert event.changes["trade"] == cashew_trade.reference
    assert event.changes["organisation"] == cast.broker_org.pk
    assert event.changes["scope"] == "customs"
    assert verify_chain().ok


# -- revoking ---------------------------------------------------------------------------------------


def test_the_owner_revokes_and_it_is_audited(cast, exporter_actor, grant):
    revoke_grant(actor=exporter_actor, grant=grant)
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == cast.exporter
    assert not grant.is_active
    events = AuditEvent.objects.filter(action="trade.grant_revoked", object_id=str(grant.pk))
    assert sorted(events.values_list("organisation_id", flat=True)) == sorted(
        [cast.msme.pk, cast.broker_org.pk]
    )


def test_revoking_twice_is_refused(exporter_actor, grant):
    revoke_grant(actor=exporter_actor, grant=grant)
    with pytest.raises(ValidationError):
        revoke_grant(actor=exporter_actor, grant=TradeGrant.objects.get(pk=grant.pk))
    assert AuditEvent.objects.filter(action="trade.grant_revoked").count() == 2  # one per organisation


@pytest.mark.parametrize("who", ["viewer", "broker", "other"])
def test_nobody_else_revokes(cast, grant, who):
    with pytest.raises(PermissionDenied):
        revoke_grant(actor=actor_for(getattr(cast, who)), grant=grant)
    grant.refresh_from_db()
    assert grant.is_active


# -- what the grant lets the broker see -------------------------------------------------------------


def test_the_broker_sees_only_the_granted_trade(
    cast, broker_actor, cashew_trade, second_trade, other_trade, grant
):
    assert list(Trade.objects.visible_to(broker_actor, VIEW)) == [cashew_trade]
    assert not Trade.objects.visible_to(broker_actor, CHANGE).exists()
    assert not Trade.objects.visible_to(broker_actor, ADMIN).exists()


def test_goods_and_steps_follow_the_grant_for_view_only(broker_actor, cashew_trade, second_trade, grant):
    items = GoodsItem.objects.visible_to(broker_actor, VIEW)
    assert set(items.values_list("trade_id", flat=True)) == {cashew_trade.pk}
    assert items.count() == cashew_trade.items.count() > 0
    steps = ChecklistStep.objects.visible_to(broker_actor, VIEW)
    assert set(steps.values_list("trade_id", flat=True)) == {cashew_trade.pk}
    assert not GoodsItem.objects.visible_to(broker_actor, CHANGE).exists()
    assert not ChecklistStep.objects.visible_to(broker_actor, CHANGE).exists()


def test_the_grant_scopes_with_memberships_read_or_not(cast, cashew_trade, grant):
    """organisation_scope is a subquery before the memberships are read, a list after: both work."""
    fresh = actor_for(cast.broker)
    assert list(Trade.objects.visible_to(fresh).values_list("pk", flat=True)) == [cashew_trade.pk]
    assert fresh.roles  # now read
    assert list(Trade.objects.visible_to(fresh).values_list("pk", flat=True)) == [cashew_trade.pk]


def test_the_owner_still_sees_all_its_trades(exporter_actor, cashew_trade, second_trade, grant):
    assert set(Trade.objects.visible_to(exporter_actor, VIEW)) == {cashew_trade, second_trade}
    assert set(Trade.objects.visible_to(exporter_actor, CHANGE)) == {cashew_trade, second_trade}


def test_a_broker_of_another_trade_does_not_see_this_one(cast, cashew_trade, other_trade, grant):
    other_broker = _broker("Kenya Clearing")
    user = accounts_services.sign_up(email="clear@ke.example", password=cast.password)
    Membership.objects.create(user=user, organisation=other_broker, role=Role.OWNER)
    appoint(actor=actor_for(cast.other), trade=other_trade, organisation=other_broker, scope=CUSTOMS)
    assert list(Trade.objects.visible_to(actor_for(user))) == [other_trade]
    assert list(Trade.objects.visible_to(actor_for(cast.broker))) == [cashew_trade]


def test_after_revoke_the_broker_sees_nothing(cast, exporter_actor, cashew_trade, grant):
    revoke_grant(actor=exporter_actor, grant=grant)
    broker = actor_for(cast.broker)
    assert not Trade.objects.visible_to(broker).exists()
    assert not GoodsItem.objects.visible_to(broker).exists()
    assert not ChecklistStep.objects.visible_to(broker).exists()
    assert grant_for(broker, cashew_trade, CUSTOMS) is None


def test_a_read_only_member_of_the_broker_sees_but_acts_under_no_grant(cast, cashew_trade, grant):
    Membership.objects.create(user=cast.viewer, organisation=cast.broker_org, role=Role.READ_ONLY)
    reader = actor_for(cast.viewer)  # also read-only in the MSME: sees its trades anyway
    assert grant_for(reader, cashew_trade, CUSTOMS) is None
    assert grant_for(reader, cashew_trade, CUSTOMS, action=VIEW) == grant


# -- grant_for and grants_of ------------------------------------------------------------------------


def test_grant_for_tells_a_service_whether_the_actor_acts_under_a_grant(
    cast, exporter_actor, broker_actor, cashew_trade, second_trade, grant
):
    found = grant_for(broker_actor, cashew_trade, CUSTOMS)
    assert found == grant and found.organisation == cast.broker_org
    assert grant_for(broker_actor, second_trade, CUSTOMS) is None
    assert grant_for(broker_actor, cashew_trade, "carriage") is None
    assert grant_for(exporter_actor, cashew_trade, CUSTOMS) is None  # the owner acts as owner
    assert grant_for(actor_for(cast.forwarder), cashew_trade, CUSTOMS) is None
    assert grant_for(actor_for(None), cashew_trade, CUSTOMS) is None


def test_the_owner_sees_every_grant_and_the_broker_its_own(
    cast, exporter_actor, broker_actor, cashew_trade, grant
):
    revoke_grant(actor=exporter_actor, grant=grant)
    active = appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope=CUSTOMS)
    second = _broker("Transit Deux")
    other_grant = appoint(actor=exporter_actor, trade=cashew_trade, organisation=second, scope=CUSTOMS)
    owner_view = grants_of(exporter_actor, cashew_trade)
    assert owner_view[-1].pk == grant.pk  # revoked ones last
    assert {g.pk for g in owner_view} == {grant.pk, active.pk, other_grant.pk}
    assert {g.pk for g in grants_of(actor_for(cast.viewer), cashew_trade)} == {g.pk for g in owner_view}
    assert other_grant.pk not in {g.pk for g in grants_of(broker_actor, cashew_trade)}
    assert grants_of(actor_for(cast.other), cashew_trade) == []


def test_the_directory_lists_verified_brokers_by_name(cast):
    _broker("Abidjan Douane Express")
    _broker("Pending Transit", verified=False)
    names = list(appointable(CUSTOMS).values_list("legal_name", flat=True))
    assert names == ["Abidjan Douane Express", "Transit Lagunaire"]
    assert list(appointable(CUSTOMS, "lagun").values_list("legal_name", flat=True)) == ["Transit Lagunaire"]
    assert not appointable("carriage").exists()


def test_the_broker_is_notified_where_notifications_exist(cast, grant):
    if not hasattr(accounts_services, "notify"):
        pytest.skip("ismit.accounts.services.notify is not there yet")
    from ismit.accounts.models import Notification

    notice = Notification.objects.get(organisation=cast.broker_org, kind="trade.grant_created")
    assert grant.trade.reference in notice.title
    assert notice.url.endswith(f"/trades/{grant.trade_id}/")


def test_the_grant_keeps_the_scoping_query_indexable(cast, cashew_trade, grant):
    """PostgreSQL checks an IN (subquery) under an OR row by row (a full scan of the trades); the scoping
    reads both sides as arrays computed once (= ANY(ARRAY(...))), which use the indexes. SQLite uses its
    multi-index OR with plain IN (subquery)."""
    from django.db import connection

    for actor in (actor_for(cast.broker), actor_for(cast.exporter)):
        sql = str(Trade.objects.visible_to(actor).query)
        if connection.vendor == "postgresql":
            assert sql.count("= ANY(ARRAY(SELECT") == 2, sql
            assert " IN (SELECT" not in sql.split("ANY(ARRAY(", 1)[0]
        else:
            assert sql.count(" IN (SELECT") >= 2, sql
        # no correlated subquery per row: the grant subquery does not refer to the outer trade
        assert '"trades_tradegrant"."trade_id" = "trades_trade"."id"' not in sql
