"""Releasing consignments, planning a lane and week, and who sees what: an MSME sees its own consignment,
its load and share, never another MSME's; the forwarder sees what was released to it and its plans."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus
from ismit.audit.models import AuditEvent
from ismit.logistics import queries, services
from ismit.logistics.models import Assignment, Consignment, ConsignmentStatus, LoadPlan

from .support import MONDAY, make_consignment, owner_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_trade(cast, exporter_actor):
    """A second cashew export of another MSME on the same lane (CIABJ → FRMRS, sea)."""
    from conftest import _org, _person, cashew_trade_data
    from ismit.trades.services import create_trade

    owner = _person("owner@second.example")
    org = _org(owner, "Coop Cacao Sud", "msme", "CI", "San-Pédro")
    return create_trade(actor=actor_for(owner), organisation=org, data=cashew_trade_data())


@pytest.fixture
def other_forwarder(cast):
    from conftest import _org, _person

    person = _person("ops@other-forwarder.example")
    return _org(person, "Gulf Cargo", "provider", "CI", "Abidjan", provider_types=["forwarder"])


def plan(cast, **kwargs):
    return services.plan_consolidation(
        actor=actor_for(cast.forwarder),
        forwarder=cast.forwarder_org,
        mode="sea",
        origin="CIABJ",
        destination="FRMRS",
        week=MONDAY,
        **kwargs,
    )


def test_release_takes_the_lane_from_the_trade_and_is_audited(cast, cashew_trade):
    consignment = make_consignment(cashew_trade, cast.forwarder_org, category="food")
    assert (consignment.mode, consignment.origin, consignment.destination) == ("sea", "CIABJ", "FRMRS")
    assert consignment.mass_kg == Decimal("2400.0")
    assert consignment.status == ConsignmentStatus.RELEASED
    assert AuditEvent.objects.filter(
        action="logistics.consignment.released", object_id=str(consignment.pk)
    ).exists()


def test_packages_can_come_from_the_goods_items(cast, cashew_trade):
    packages = services.packages_from_goods(cashew_trade, length_cm=60, width_cm=40, height_cm=40)
    assert sum(p["count"] for p in packages) == sum(i.packages_count for i in cashew_trade.items.all())
    total = sum(p["count"] * p["mass_kg"] for p in packages)
    assert abs(total - float(sum(i.gross_mass_kg for i in cashew_trade.items.all()))) < 0.01
    consignment = make_consignment(cashew_trade, cast.forwarder_org, packages=packages)
    assert consignment.packages[0]["length_cm"] == 60


def test_release_needs_a_verified_forwarder_and_valid_packages(cast, cashew_trade, other_forwarder):
    with pytest.raises(ValidationError):
        make_consignment(cashew_trade, cast.other_msme)  # not a forwarder
    Organisation.objects.filter(pk=other_forwarder.pk).update(verification_status=VerificationStatus.PENDING)
    other_forwarder.refresh_from_db()
    with pytest.raises(ValidationError):
        make_consignment(cashew_trade, other_forwarder)
    bad = [{"count": 1, "length_cm": 100, "width_cm": 100, "height_cm": 100, "mass_kg": 0}]
    with pytest.raises(ValidationError) as raised:
        make_consignment(cashew_trade, cast.forwarder_org, packages=bad)
    assert "packages[0].mass_kg" in str(raised.value)


def test_a_read_only_member_cannot_release(cast, cashew_trade):
    with pytest.raises(PermissionDenied):
        services.release_consignment(
            actor=actor_for(cast.viewer),
            trade=cashew_trade,
            forwarder=cast.forwarder_org,
            ready_from=MONDAY,
            ready_to=MONDAY,
            packages=[{"count": 1, "length_cm": 50, "width_cm": 50, "height_cm": 50, "mass_kg": 10}],
        )


def test_other_msme_cannot_see_the_consignment_and_forwarder_sees_only_its_own(
    cast, cashew_trade, second_trade, other_forwarder
):
    mine = make_consignment(cashew_trade, cast.forwarder_org)
    theirs = make_consignment(second_trade, other_forwarder)
    other = actor_for(cast.other)
    assert not queries.consignments_visible_to(other).exists()
    with pytest.raises(Http404):
        queries.get_consignment_for(other, mine.pk)
    forwarder = actor_for(cast.forwarder)
    assert list(queries.consignments_visible_to(forwarder)) == [mine]
    with pytest.raises(Http404):
        queries.get_consignment_for(forwarder, theirs.pk)
    # the forwarder sees it but may not withdraw it
    with pytest.raises(PermissionDenied):
        services.withdraw_consignment(actor=forwarder, consignment=mine)
    with pytest.raises(Http404):
        queries.get_consignment_for(actor_for(cast.stranger), mine.pk)


def test_plan_assigns_each_msme_its_share_and_nothing_of_the_others(cast, cashew_trade, second_trade):
    mine = make_consignment(cashew_trade, cast.forwarder_org)
    theirs = make_consignment(second_trade, cast.forwarder_org, packages=[{**PALLET, "count": 12}])
    load_plan = plan(cast, currency="EUR")
    assert load_plan.summary["loads"] == 1
    load = load_plan.loads.get()
    shares = {a.consignment_id: a.share for a in load.assignments.all()}
    assert sum(shares.values()) == load.price
    assert shares[theirs.pk] == 2 * shares[mine.pk] or abs(
        shares[theirs.pk] - 2 * shares[mine.pk]
    ) <= Decimal("0.01")
    for c in (mine, theirs):
        c.refresh_from_db()
        assert c.status == ConsignmentStatus.PLANNED
    exporter = actor_for(cast.exporter)
    # the MSME sees its own assignment only, and no plan
    assert list(Assignment.objects.visible_to(exporter)) == [mine.assignment]
    assert queries.share_of(exporter, theirs) is None
    assert not LoadPlan.objects.visible_to(exporter).exists()
    with pytest.raises(Http404):
        queries.get_plan_for(exporter, load_plan.pk)
    # the forwarder sees the whole plan
    assert queries.get_plan_for(actor_for(cast.forwarder), load_plan.pk) == load_plan
    assert Assignment.objects.visible_to(actor_for(cast.forwarder)).count() == 2
    # the MSMEs were told
    from ismit.accounts.models import Notification

    assert Notification.objects.filter(organisation=cast.msme, kind="logistics.consignment.planned").exists()
    assert AuditEvent.objects.filter(action="logistics.plan.created", object_id=str(load_plan.pk)).exists()


PALLET = {"count": 6, "length_cm": 120, "width_cm": 80, "height_cm": 150, "mass_kg": 400, "stackable": True}


def test_withdrawn_consignments_are_not_planned_and_planned_ones_cannot_be_withdrawn(
    cast, cashew_trade, second_trade
):
    mine = make_consignment(cashew_trade, cast.forwarder_org)
    theirs = make_consignment(second_trade, cast.forwarder_org)
    services.withdraw_consignment(actor=actor_for(cast.exporter), consignment=mine)
    assert not queries.consignments_visible_to(actor_for(cast.forwarder)).filter(pk=mine.pk).exists()
    load_plan = plan(cast)
    assert [a.consignment_id for a in Assignment.objects.filter(load__plan=load_plan)] == [theirs.pk]
    mine.refresh_from_db()
    assert mine.status == ConsignmentStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        services.withdraw_consignment(actor=owner_actor(second_trade.organisation), consignment=theirs)


def test_only_the_forwarders_members_plan(cast, cashew_trade):
    make_consignment(cashew_trade, cast.forwarder_org)
    with pytest.raises(PermissionDenied):
        services.plan_consolidation(
            actor=actor_for(cast.exporter),
            forwarder=cast.forwarder_org,
            mode="sea",
            origin="CIABJ",
            destination="FRMRS",
            week=MONDAY,
        )
    assert not Consignment.objects.filter(status=ConsignmentStatus.PLANNED).exists()
    Membership.objects.create(user=cast.stranger, organisation=cast.forwarder_org, role=Role.READ_ONLY)
    with pytest.raises(PermissionDenied):
        services.plan_consolidation(
            actor=actor_for(cast.stranger),
            forwarder=cast.forwarder_org,
            mode="sea",
            origin="CIABJ",
            destination="FRMRS",
            week=MONDAY,
        )
