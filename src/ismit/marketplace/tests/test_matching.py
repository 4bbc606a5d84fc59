"""Matching a request to the offerings that cover it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ismit.accounts.models import Membership, Organisation, Role
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.matching import match_offerings
from ismit.marketplace.tests.support import make_offering, make_provider

pytestmark = pytest.mark.django_db


def cargo(**fields) -> CargoSpec:
    values = dict(
        origin_country="CI",
        destination_country="FR",
        origin_location="CIABJ",
        destination_location="FRMRS",
        mode="1",
        gross_mass_kg=Decimal("3450"),
        volume_m3=Decimal("8.2"),
    )
    values.update(fields)
    return CargoSpec(**values)


def match(spec: CargoSpec | None = None, service: str = "carriage", on: dt.date | None = None):
    return [
        o.name
        for o in match_offerings(service_type=service, cargo=spec or cargo(), on=on or timezone.localdate())
    ]


def forwarder(cast, name: str, *, verified: bool = True) -> Organisation:
    org = Organisation.objects.create(
        legal_name=name,
        kind="provider",
        country="CI",
        city="Abidjan",
        provider_types=["forwarder"],
        verification_status="verified" if verified else "pending",
    )
    Membership.objects.create(user=cast.forwarder, organisation=org, role=Role.OWNER)
    return org


def test_an_offering_covering_the_countries_matches(cast):
    make_offering(cast.forwarder_org, name="CI-FR sea")
    assert match() == ["CI-FR sea"]


def test_lanes_by_location_match_only_that_place(cast):
    make_offering(cast.forwarder_org, name="ABJ-MRS", lanes=(("CI", "CIABJ", "FR", "FRMRS"),))
    make_offering(cast.forwarder_org, name="SPY-MRS", lanes=(("CI", "CISPY", "FR", "FRMRS"),))
    make_offering(cast.forwarder_org, name="ABJ-LEH", lanes=(("CI", "CIABJ", "FR", "FRLEH"),))
    make_offering(cast.forwarder_org, name="ABJ-anywhere in FR", lanes=(("CI", "CIABJ", "FR", ""),))
    assert match() == ["ABJ-MRS", "ABJ-anywhere in FR"]
    # a request that names only countries is covered by every lane between them
    assert sorted(match(cargo(origin_location="", destination_location=""))) == [
        "ABJ-LEH",
        "ABJ-MRS",
        "ABJ-anywhere in FR",
        "SPY-MRS",
    ]


def test_other_countries_and_the_reverse_direction_do_not_match(cast):
    make_offering(cast.forwarder_org, name="FR-CI", lanes=(("FR", "", "CI", ""),))
    make_offering(cast.forwarder_org, name="CI-BE", lanes=(("CI", "", "BE", ""),))
    make_offering(cast.forwarder_org, name="SN-FR", lanes=(("SN", "", "FR", ""),))
    make_offering(cast.forwarder_org, name="two lanes", lanes=(("SN", "", "FR", ""), ("CI", "", "FR", "")))
    assert match() == ["two lanes"]


def test_the_service_type_must_be_the_one_asked(cast):
    make_offering(cast.forwarder_org, name="carriage")
    make_offering(cast.broker_org, name="brokerage", service_type="customs_brokerage", modes=())
    assert match() == ["carriage"]
    assert match(service="customs_brokerage") == ["brokerage"]


def test_modes_must_include_the_cargos_mode_unless_empty(cast):
    make_offering(cast.forwarder_org, name="sea", modes=("1",))
    make_offering(cast.forwarder_org, name="air", modes=("4",))
    make_offering(cast.forwarder_org, name="sea and road", modes=("1", "3"))
    make_offering(cast.forwarder_org, name="any mode", modes=())
    assert match() == ["sea", "sea and road", "any mode"]
    assert match(cargo(mode="4")) == ["air", "any mode"]
    assert match(cargo(mode="")) == ["sea", "air", "sea and road", "any mode"]


def test_mass_and_volume_limits(cast):
    make_offering(cast.forwarder_org, name="up to 3 t", max_mass_kg=Decimal("3000"))
    make_offering(cast.forwarder_org, name="up to 3450 kg", max_mass_kg=Decimal("3450"))
    make_offering(cast.forwarder_org, name="up to 8 m3", max_volume_m3=Decimal("8"))
    make_offering(cast.forwarder_org, name="no limits")
    assert match() == ["up to 3450 kg", "no limits"]


def test_dangerous_goods_and_temperature_control_need_an_offering_that_accepts_them(cast):
    make_offering(cast.forwarder_org, name="plain")
    make_offering(cast.forwarder_org, name="DG", dangerous_goods=True)
    make_offering(cast.forwarder_org, name="reefer", temperature_control=True)
    make_offering(cast.forwarder_org, name="DG reefer", dangerous_goods=True, temperature_control=True)
    assert match() == ["plain", "DG", "reefer", "DG reefer"]
    assert match(cargo(dangerous_goods=True)) == ["DG", "DG reefer"]
    assert match(cargo(temperature_control=True)) == ["reefer", "DG reefer"]
    assert match(cargo(dangerous_goods=True, temperature_control=True)) == ["DG reefer"]


def test_validity_dates_and_inactive_offerings(cast):
    today = timezone.localdate()
    make_offering(cast.forwarder_org, name="valid", valid_from=today, valid_until=today)
    make_offering(cast.forwarder_org, name="expired", valid_until=today - dt.timedelta(days=1))
    make_offering(cast.forwarder_org, name="not yet", valid_from=today + dt.timedelta(days=1))
    make_offering(cast.forwarder_org, name="inactive", active=False)
    assert match() == ["valid"]
    assert match(on=today + dt.timedelta(days=1)) == ["not yet"]


def test_suspended_left_and_unverified_providers_never_match(cast):
    active = forwarder(cast, "Active Freight")
    make_offering(active, name="active")
    for status in ("suspended", "left"):
        org = forwarder(cast, f"{status} Freight")
        make_offering(org, name=status)
        make_provider(org, status=status)
    make_offering(forwarder(cast, "Pending Freight", verified=False), name="unverified")
    make_offering(forwarder(cast, "No standing"), name="no provider row", provider=False)
    assert match() == ["active"]


def test_results_are_ordered_by_provider_then_offering_and_carry_their_rate_lines(cast):
    second = make_offering(cast.forwarder_org, name="B")
    first = make_offering(cast.broker_org, name="A")
    third = make_offering(cast.forwarder_org, name="C")
    with CaptureQueriesContext(connection) as queries:
        offerings = match_offerings(service_type="carriage", cargo=cargo(), on=timezone.localdate())
        codes = [[line.code for line in o.rate_lines.all()] for o in offerings]
        names = [o.organisation.legal_name for o in offerings]
    made = [second, first, third]
    assert [o.id for o in offerings] == [o.id for o in sorted(made, key=lambda o: (o.organisation_id, o.id))]
    assert codes == [["FRT", "MIN", "BAF"]] * 3
    assert len(names) == 3
    assert len(queries) == 2  # the offerings, then their rate lines
