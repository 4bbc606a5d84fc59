"""The built-in UN/LOCODE set shipped in refdata/data/locode_builtin.csv."""

from __future__ import annotations

import csv

import pytest

from ismit.refdata import datafiles
from ismit.refdata.models import Location

from .conftest import shared_file

REQUIRED = {
    # ports
    "CIABJ", "FRMRS", "FRLEH", "NLRTM", "BEANR", "DEHAM", "GBFXT", "KEMBA", "BDCGP", "SNDKR", "GHTEM",
    "NGLOS", "MAPTM", "ESVLC", "ITGOA", "CNSHA", "SGSIN", "USNYC", "INNSA", "ZADUR",
    # cities and airports
    "FRPAR", "FRCDG", "GBLHR", "KENBO", "BDDAC", "SNDSS", "GHACC", "MACMN", "DEFRA", "NLAMS", "BEBRU",
    "ESMAD", "ITMXP", "CNPVG", "USJFK", "INDEL", "ZAJNB",
}  # fmt: skip


def shipped_rows() -> dict[str, list[str]]:
    with datafiles.LOCODE_BUILTIN_CSV.open(encoding="utf-8", newline="") as f:
        return {r[1] + r[2]: r for r in csv.reader(f) if r[2]}


def test_the_builtin_set_is_shipped_inside_the_package():
    assert datafiles.LOCODE_BUILTIN_CSV.parent.parent.name == "refdata"
    assert 150 <= len(shipped_rows()) <= 250


def test_the_builtin_set_holds_the_major_ports_and_airports():
    assert set(shipped_rows()) >= REQUIRED
    assert set(datafiles.BUILTIN_LOCODES) == set(shipped_rows())


def test_the_builtin_set_copies_the_official_rows():
    official = datafiles.official_locode_rows(shared_file("unlocode/code-list.csv"), set(shipped_rows()))

    assert shipped_rows() == official


@pytest.mark.django_db
def test_loading_the_builtin_set_gives_ports_and_airports_with_coordinates(builtin_locations):
    assert Location.objects.count() == len(datafiles.BUILTIN_LOCODES)
    abidjan = Location.objects.get(code="CIABJ")
    assert abidjan.is_port and abidjan.is_airport
    assert abidjan.latitude == pytest.approx(5.33333)
    assert Location.objects.get(code="FRCDG").is_airport
    assert Location.objects.get(code="KEMBA").is_port
