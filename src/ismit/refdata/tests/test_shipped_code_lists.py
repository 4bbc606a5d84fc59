"""Rec 20 units and Rec 21 package types shipped in refdata/data/, against the official UNECE files."""

from __future__ import annotations

import csv

import pytest

from ismit.refdata import datafiles
from ismit.refdata.models import PackageType, TransportMode, UnitOfMeasure

from .conftest import shared_file


def shipped(path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


def test_shipped_units_are_exactly_the_active_rec20_codes_with_official_names_and_symbols():
    official = datafiles.official_units(shared_file("uncefact-codes/rec20-units-annex2-3.csv"))
    units = shipped(datafiles.UNITS_CSV)

    assert set(units) == set(official)
    for code, unit in units.items():
        assert (unit["name"], unit["symbol"]) == (official[code]["name"], official[code]["symbol"])


def test_every_active_annex_i_unit_is_shipped():
    with shared_file("uncefact-codes/rec20-units-annex1.csv").open(encoding="utf-8-sig", newline="") as f:
        annex_1 = {r["Common Code"] for r in csv.DictReader(f) if r["Status"] not in {"X", "D"}}

    assert annex_1 <= set(shipped(datafiles.UNITS_CSV))


def test_deleted_and_deprecated_units_are_not_shipped():
    units = shipped(datafiles.UNITS_CSV)

    assert "KTM" not in units  # X: deleted, use KMT
    assert "NPR" not in units  # D: deprecated


def test_shipped_package_types_are_exactly_the_active_rec21_codes_with_official_names():
    official = datafiles.official_package_types(shared_file("uncefact-codes/rec21-package-types.csv"))
    types = shipped(datafiles.PACKAGE_TYPES_CSV)

    assert {code: t["name"] for code, t in types.items()} == {c: t["name"] for c, t in official.items()}
    assert "SX" not in types  # deleted


def test_common_units_and_package_types_are_flagged():
    units = shipped(datafiles.UNITS_CSV)
    types = shipped(datafiles.PACKAGE_TYPES_CSV)

    assert {c for c, u in units.items() if u["common"] == "1"} == datafiles.COMMON_UNITS
    assert {"KGM", "TNE", "LTR", "MTQ", "H87", "C62", "PR", "DZN", "SET"} <= datafiles.COMMON_UNITS
    assert {c for c, t in types.items() if t["common"] == "1"} == datafiles.COMMON_PACKAGE_TYPES
    assert {"BG", "BX", "CT", "PK", "PX", "CR", "DR", "SA", "CS", "NE"} <= datafiles.COMMON_PACKAGE_TYPES


@pytest.mark.django_db
def test_units_and_package_types_load_with_their_common_flag(trade_terms):
    assert UnitOfMeasure.objects.get(code="KGM").symbol == "kg"
    assert UnitOfMeasure.objects.get(code="H87").common
    assert not UnitOfMeasure.objects.get(code="C81").common
    assert PackageType.objects.get(code="CT").common
    assert PackageType.objects.get(code="CT").name == "Carton"


@pytest.mark.django_db
def test_transport_modes_name_the_place_function_they_need(trade_terms):
    modes = {m.code: m for m in TransportMode.objects.all()}

    assert sorted(modes) == list("0123456789")
    assert (modes["1"].name, modes["1"].name_fr, modes["1"].locode_function) == (
        "Maritime transport",
        "Transport maritime",
        "1",
    )
    assert modes["4"].locode_function == "4"
    assert modes["8"].locode_function == "1"  # river and lake ports carry function 1 in UN/LOCODE
    assert modes["0"].locode_function == modes["9"].locode_function == ""
