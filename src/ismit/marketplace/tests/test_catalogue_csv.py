"""Rate cards as CSV: export, import, all-or-nothing with row-level errors."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from ismit.accounts.actors import actor_for
from ismit.marketplace import ratecards
from ismit.marketplace.catalogue_services import OfferingData
from ismit.marketplace.models import ServiceOffering
from ismit.marketplace.tests.support import make_offering

pytestmark = pytest.mark.django_db

HEADER = ",".join(ratecards.COLUMNS)
SEA = "Sea ABJ-MRS,carriage,1,CIABJ>FRMRS SN>FR,EUR,2026-01-01,2026-12-31,20000,,no,no,18,Door to door"
AIR = "Air Abidjan-Paris,carriage,4,CIABJ>FRCDG,EUR,2026-01-01,2026-12-31,,,yes,no,2,"


def card(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def good_file() -> bytes:
    return card(
        f"{SEA},FRT,Ocean freight,kg,0.42,no",
        f"{SEA},MIN,Minimum charge,minimum,180,no",
        f"{SEA},BAF,Bunker surcharge,shipment,35,yes",
        f"{AIR},AFR,Air freight,kg,2.10,no",
        f"{AIR},SEC,Security,kg,0.15,yes",
    )


def test_import_creates_offerings_with_lanes_and_rate_cards(cast):
    result = ratecards.import_catalogue(
        actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=good_file()
    )
    assert result.rows == 5 and len(result.created) == 2 and not result.updated
    sea = ServiceOffering.objects.get(organisation=cast.forwarder_org, name="Sea ABJ-MRS")
    assert sea.modes == ["1"] and sea.max_mass_kg == Decimal("20000") and sea.transit_days == 18
    assert sea.terms == "Door to door"
    assert [str(lane) for lane in sea.lanes.order_by("id")] == ["CIABJ→FRMRS", "SN→FR"]
    assert [(r.code, r.amount, r.is_surcharge) for r in sea.rate_lines.order_by("id")] == [
        ("FRT", Decimal("0.42"), False),
        ("MIN", Decimal("180"), False),
        ("BAF", Decimal("35"), True),
    ]
    air = ServiceOffering.objects.get(organisation=cast.forwarder_org, name="Air Abidjan-Paris")
    assert air.dangerous_goods and air.modes == ["4"]


def test_export_then_import_gives_back_the_same_catalogue(cast):
    actor = actor_for(cast.forwarder)
    ratecards.import_catalogue(actor=actor, organisation=cast.forwarder_org, data=good_file())
    offerings = ServiceOffering.objects.filter(organisation=cast.forwarder_org).order_by("name")
    before = [OfferingData.of(o) for o in offerings]
    exported = ratecards.export_csv(offerings)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 5 and list(rows[0]) == ratecards.COLUMNS
    result = ratecards.import_catalogue(actor=actor, organisation=cast.forwarder_org, data=exported)
    assert len(result.updated) == 2 and not result.created
    after = [
        OfferingData.of(o)
        for o in ServiceOffering.objects.filter(organisation=cast.forwarder_org).order_by("name")
    ]
    assert after == before


def test_a_file_with_any_bad_row_saves_nothing_and_lists_every_error(cast):
    make_offering(cast.forwarder_org, name="Sea ABJ-MRS")
    bad = card(
        f"{SEA},FRT,Ocean freight,kg,abc,no",  # row 2: amount
        f"{SEA},MIN,Minimum charge,minimum,180,maybe",  # row 3: surcharge flag
        f"{AIR},AFR,Air freight,by the parsec,2.10,no",  # row 4: basis
        AIR.replace("EUR", "USD") + ",SEC,Security,kg,0.15,yes",  # row 5: differs from row 4
        ",carriage,4,CI>FR,EUR,2026-01-01,2026-12-31,,,no,no,,,X,x,kg,1,no",  # row 6: no offering name
        "Bad lanes,carriage,1,Abidjan-Marseille,EUR,2026-01-01,2026-12-31,,,no,no,,,FRT,x,kg,1,no",  # row 7
    )
    with pytest.raises(ratecards.RateCardError) as raised:
        ratecards.import_catalogue(actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=bad)
    found = {(e.row, e.column) for e in raised.value.errors}
    assert found == {
        (2, "amount"),
        (3, "surcharge"),
        (4, "basis"),
        (5, "currency"),
        (6, "offering"),
        (7, "lanes"),
    }
    # nothing saved: the existing offering is as it was, no other was made
    offering = ServiceOffering.objects.get(organisation=cast.forwarder_org)
    assert [r.code for r in offering.rate_lines.all()] == ["FRT", "MIN", "BAF"]
    assert offering.rate_lines.get(code="FRT").amount == Decimal("0.45")


def test_missing_columns_and_empty_files(cast):
    actor = actor_for(cast.forwarder)
    with pytest.raises(ratecards.RateCardError) as raised:
        ratecards.import_catalogue(
            actor=actor, organisation=cast.forwarder_org, data=b"offering,code\nx,FRT\n"
        )
    assert {e.column for e in raised.value.errors} >= {"amount", "basis", "lanes", "currency"}
    with pytest.raises(ratecards.RateCardError):
        ratecards.import_catalogue(actor=actor, organisation=cast.forwarder_org, data=b"")
    with pytest.raises(ratecards.RateCardError):
        ratecards.import_catalogue(actor=actor, organisation=cast.forwarder_org, data=card())
    with pytest.raises(ratecards.RateCardError):
        ratecards.import_catalogue(actor=actor, organisation=cast.forwarder_org, data=b"\xff\xfe\x00bad")


def test_a_service_the_provider_type_does_not_allow_is_a_row_error(cast):
    data = card(f"{SEA.replace('carriage', 'insurance')},INS,Premium,value_percent,0.3,no")
    with pytest.raises(ratecards.RateCardError) as raised:
        ratecards.import_catalogue(
            actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=data
        )
    assert [(e.row, e.column) for e in raised.value.errors] == [(2, "service_type")]
    assert not ServiceOffering.objects.exists()


def test_import_needs_the_right_to_change(cast):
    with pytest.raises(PermissionDenied):
        ratecards.import_catalogue(
            actor=actor_for(cast.exporter), organisation=cast.forwarder_org, data=good_file()
        )


def test_one_offering_file_replaces_that_offering(cast):
    offering = make_offering(cast.forwarder_org, name="Old name")
    one = card(f"{AIR},AFR,Air freight,kg,2.30,no")
    ratecards.import_offering_rates(actor=actor_for(cast.forwarder), offering=offering, data=one)
    offering.refresh_from_db()
    assert offering.name == "Air Abidjan-Paris"
    assert [(r.code, r.amount) for r in offering.rate_lines.all()] == [("AFR", Decimal("2.30"))]
    with pytest.raises(ratecards.RateCardError):
        ratecards.import_offering_rates(actor=actor_for(cast.forwarder), offering=offering, data=good_file())


def test_cells_that_a_spreadsheet_would_run_are_defused(cast):
    offering = make_offering(cast.forwarder_org, name="=HYPERLINK(1)")
    text = ratecards.export_csv([offering])
    assert "'=HYPERLINK(1)" in text
