"""Providers publish and change their catalogue: offerings, lanes, rate lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role
from ismit.audit.models import AuditEvent
from ismit.marketplace import catalogue_services as services
from ismit.marketplace.models import Provider, ServiceOffering

pytestmark = pytest.mark.django_db


def offering_data(**overrides) -> services.OfferingData:
    today = timezone.localdate()
    values = dict(
        name="Sea groupage Abidjan–Marseille",
        service_type="carriage",
        currency="EUR",
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
        modes=["1"],
        transit_days=18,
        lanes=[services.LaneData("CI", "FR", "CIABJ", "FRMRS"), services.LaneData("SN", "FR")],
        rate_lines=[
            services.RateLineData("FRT", "Ocean freight", "kg", "0.42"),
            services.RateLineData("MIN", "Minimum", "minimum", "180"),
            services.RateLineData("BAF", "Bunker surcharge", "shipment", "35", True),
        ],
    )
    values.update(overrides)
    return services.OfferingData(**values)


def test_a_verified_forwarder_publishes_an_offering_and_becomes_a_provider(cast):
    actor = actor_for(cast.forwarder)
    assert not Provider.objects.filter(organisation=cast.forwarder_org).exists()
    offering = services.create_offering(actor=actor, organisation=cast.forwarder_org, data=offering_data())
    assert offering.organisation == cast.forwarder_org
    assert offering.currency_id == "EUR" and offering.modes == ["1"] and offering.transit_days == 18
    assert [str(lane) for lane in offering.lanes.order_by("id")] == ["CIABJ→FRMRS", "SN→FR"]
    assert [(r.code, r.basis, r.amount, r.is_surcharge) for r in offering.rate_lines.order_by("id")] == [
        ("FRT", "kg", Decimal("0.42"), False),
        ("MIN", "minimum", Decimal("180"), False),
        ("BAF", "shipment", Decimal("35"), True),
    ]
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "active"
    actions = list(
        AuditEvent.objects.filter(organisation_id=cast.forwarder_org.pk).values_list("action", flat=True)
    )
    assert "marketplace.provider_joined" in actions and "marketplace.offering_created" in actions


def test_every_problem_is_reported_by_field(cast):
    data = offering_data(
        name="",
        service_type="teleport",
        currency="XXZ",
        valid_until=timezone.localdate() - dt.timedelta(days=1),
        modes=["X"],
        max_mass_kg="-3",
        lanes=[services.LaneData("ZZ", "FR"), services.LaneData("CI", "FR", "FRMRS", "")],
        rate_lines=[
            services.RateLineData("", "", "kg", "abc"),
            services.RateLineData("MIN", "", "minimum", "10", True),
            services.RateLineData("INS", "", "value_percent", "120"),
            services.RateLineData("X", "", "per_parsec", "1"),
        ],
    )
    with pytest.raises(ValidationError) as raised:
        services.create_offering(actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=data)
    assert set(raised.value.message_dict) == {
        "name",
        "service_type",
        "currency",
        "valid_until",
        "modes",
        "max_mass_kg",
        "lanes[0].origin_country",
        "lanes[1].origin_location",
        "rate_lines[0].code",
        "rate_lines[0].amount",
        "rate_lines[1].is_surcharge",
        "rate_lines[2].amount",
        "rate_lines[3].basis",
    }
    assert not ServiceOffering.objects.exists()


def test_an_offering_needs_a_lane_and_a_rate(cast):
    with pytest.raises(ValidationError) as raised:
        services.create_offering(
            actor=actor_for(cast.forwarder),
            organisation=cast.forwarder_org,
            data=offering_data(lanes=[], rate_lines=[]),
        )
    assert set(raised.value.message_dict) == {"lanes", "rate_lines"}


def test_the_provider_type_must_allow_the_service(cast):
    with pytest.raises(ValidationError) as raised:
        services.create_offering(
            actor=actor_for(cast.forwarder),
            organisation=cast.forwarder_org,
            data=offering_data(service_type="insurance"),
        )
    assert "service_type" in raised.value.message_dict
    # an MSME cannot publish at all
    with pytest.raises(ValidationError):
        services.create_offering(actor=actor_for(cast.exporter), organisation=cast.msme, data=offering_data())


def test_an_unverified_provider_cannot_publish(cast):
    org = Organisation.objects.create(
        legal_name="New Freight", kind="provider", country="CI", city="Abidjan", provider_types=["forwarder"]
    )
    Membership.objects.create(user=cast.forwarder, organisation=org, role=Role.OWNER)
    with pytest.raises(ValidationError):
        services.create_offering(actor=actor_for(cast.forwarder), organisation=org, data=offering_data())
    assert not Provider.objects.filter(organisation=org).exists()


def test_a_suspended_provider_cannot_publish(cast):
    Provider.objects.create(organisation=cast.forwarder_org, status="suspended")
    with pytest.raises(ValidationError):
        services.create_offering(
            actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=offering_data()
        )


def test_only_members_with_change_rights_change_the_catalogue(cast):
    offering = services.create_offering(
        actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=offering_data()
    )
    Membership.objects.create(user=cast.viewer, organisation=cast.forwarder_org, role=Role.READ_ONLY)
    for user in (cast.viewer, cast.exporter, cast.broker, cast.operator):
        with pytest.raises(PermissionDenied):
            services.update_offering(actor=actor_for(user), offering=offering, data=offering_data(name="x"))
        with pytest.raises(PermissionDenied):
            services.deactivate_offering(actor=actor_for(user), offering=offering)
        with pytest.raises(PermissionDenied):
            services.create_offering(
                actor=actor_for(user), organisation=cast.forwarder_org, data=offering_data()
            )
    offering.refresh_from_db()
    assert offering.name == "Sea groupage Abidjan–Marseille" and offering.active


def test_update_replaces_fields_lanes_and_rates_and_is_audited(cast):
    actor = actor_for(cast.forwarder)
    offering = services.create_offering(actor=actor, organisation=cast.forwarder_org, data=offering_data())
    services.update_offering(
        actor=actor,
        offering=offering,
        data=offering_data(
            name="Air Abidjan–Paris",
            modes=["4"],
            lanes=[services.LaneData("CI", "FR", "CIABJ", "FRCDG")],
            rate_lines=[services.RateLineData("AFR", "Air freight", "kg", "2.10")],
        ),
    )
    offering.refresh_from_db()
    assert offering.name == "Air Abidjan–Paris" and offering.modes == ["4"]
    assert [str(lane) for lane in offering.lanes.all()] == ["CIABJ→FRCDG"]
    assert [r.code for r in offering.rate_lines.all()] == ["AFR"]
    event = AuditEvent.objects.get(action="marketplace.offering_updated")
    assert event.changes["name"] == "Air Abidjan–Paris"


def test_deactivate_and_activate(cast):
    actor = actor_for(cast.forwarder)
    offering = services.create_offering(actor=actor, organisation=cast.forwarder_org, data=offering_data())
    services.deactivate_offering(actor=actor, offering=offering)
    offering.refresh_from_db()
    assert not offering.active
    services.set_offering_active(actor=actor, offering=offering, active=True)
    offering.refresh_from_db()
    assert offering.active
    assert AuditEvent.objects.filter(action="marketplace.offering_deactivated").count() == 1


def test_lanes_and_rate_lines_one_by_one(cast):
    actor = actor_for(cast.forwarder)
    offering = services.create_offering(actor=actor, organisation=cast.forwarder_org, data=offering_data())
    lane = services.add_lane(actor=actor, offering=offering, data=services.LaneData("GH", "FR", "GHTEM", ""))
    assert str(lane) == "GHTEM→FR"
    with pytest.raises(ValidationError):
        services.add_lane(actor=actor, offering=offering, data=services.LaneData("GH", "FR", "FRMRS", ""))
    services.delete_lane(actor=actor, lane=lane)
    line = services.add_rate_line(
        actor=actor,
        offering=offering,
        data=services.RateLineData("THC", "Handling", "container_20", "150", True),
    )
    services.update_rate_line(
        actor=actor,
        rate_line=line,
        data=services.RateLineData("THC", "Handling", "container_20", "165", True),
    )
    line.refresh_from_db()
    assert line.amount == Decimal("165")
    services.delete_rate_line(actor=actor, rate_line=line)
    assert offering.rate_lines.count() == 3 and offering.lanes.count() == 2
    only = services.create_offering(
        actor=actor,
        organisation=cast.forwarder_org,
        data=offering_data(
            name="one", lanes=[services.LaneData("CI", "FR")], rate_lines=[offering_data().rate_lines[0]]
        ),
    )
    with pytest.raises(ValidationError):
        services.delete_lane(actor=actor, lane=only.lanes.get())
    with pytest.raises(ValidationError):
        services.delete_rate_line(actor=actor, rate_line=only.rate_lines.get())
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "marketplace.lane_added",
        "marketplace.lane_deleted",
        "marketplace.rate_line_added",
        "marketplace.rate_line_updated",
        "marketplace.rate_line_deleted",
    } <= actions
