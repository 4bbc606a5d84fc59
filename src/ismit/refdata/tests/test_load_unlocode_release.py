"""Loading a UN/LOCODE release: the official CSV layout, zip archives, URLs, removals, encodings."""

from __future__ import annotations

import csv
import functools
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from ismit.refdata import services
from ismit.refdata.models import Location

# Two countries in the official layout: header rows, an alternative name, a removal, a reference.
SAMPLE_ROWS = [
    ["", "CI", "", ".CÔTE D'IVOIRE", "", "", "", "", "", "", "", ""],
    ["", "CI", "ABJ", "Abidjan", "Abidjan", "AB", "1--45---", "AI", "1701", "", "0520N 00401W", ""],
    ["", "CI", "SPY", "San-Pédro", "San-Pedro", "09", "1-34----", "AI", "1401", "", "0444N 00637W", ""],
    ["", "FR", "", ".FRANCE", "", "", "", "", "", "", "", ""],
    ["=", "FR", "", "Massilia = Marseille", "Massilia = Marseille", "", "", "", "", "", "", ""],
    ["", "FR", "MRS", "Marseille", "Marseille", "13", "12-45---", "AF", "1507", "", "4318N 00524E", ""],
    ["", "FR", "MRS", "Marseilles", "Marseilles", "13", "12-45---", "AF", "1507", "", "4318N 00524E", ""],
    ["", "FR", "LEH", "Le Havre", "Le Havre", "76", "12345---", "AF", "0501", "", "4930N 00006E", ""],
]


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def official_codes(path: Path) -> set[str]:
    """Codes that a release keeps: rows with a location code, less those marked for removal."""
    with path.open(encoding="utf-8", newline="") as f:
        return {r[1] + r[2] for r in csv.reader(f) if r[2] and r[0].upper() != "X"}


@pytest.mark.django_db
def test_the_full_2024_release_loads_once_and_twice_without_duplicates(unlocode_release):
    expected = official_codes(unlocode_release)

    first = services.load_unlocode(source=unlocode_release)
    assert first.loaded == len(expected) == Location.objects.count()
    assert first.seconds < 60

    abidjan = Location.objects.get(code="CIABJ")
    assert (abidjan.name, abidjan.country, abidjan.subdivision) == ("Abidjan", "CI", "AB")
    assert abidjan.latitude == pytest.approx(5 + 20 / 60, abs=1e-4)
    assert abidjan.longitude == pytest.approx(-(4 + 1 / 60), abs=1e-4)
    assert abidjan.is_port and abidjan.is_airport
    marseille = Location.objects.get(code="FRMRS")
    assert marseille.functions == "12-45---"
    assert marseille.is_port and marseille.has_function("2") and not marseille.has_function("3")
    assert Location.objects.get(code="BEBRU").name == "Brussel (Bruxelles)"  # first of two names

    second = services.load_unlocode(source=unlocode_release)
    assert second.loaded == first.loaded
    assert Location.objects.count() == len(expected)


@pytest.fixture
def no_locations(db) -> None:
    """Start from an empty table (the test database holds the built-in set)."""
    Location.objects.all().delete()


@pytest.mark.django_db
def test_header_rows_references_and_repeated_codes_are_skipped(tmp_path, no_locations):
    result = services.load_unlocode(source=write_rows(tmp_path / "part.csv", SAMPLE_ROWS))

    assert (result.loaded, result.skipped) == (4, 4)
    assert set(Location.objects.values_list("code", flat=True)) == {"CIABJ", "CISPY", "FRMRS", "FRLEH"}
    assert Location.objects.get(code="FRMRS").name == "Marseille"
    san_pedro = Location.objects.get(code="CISPY")
    assert san_pedro.name == "San-Pédro"
    assert (san_pedro.name_ascii, san_pedro.search_name) == ("San-Pedro", "san pedro")


@pytest.mark.django_db
def test_rows_marked_x_remove_the_location(tmp_path):
    services.load_unlocode(source=write_rows(tmp_path / "2023.csv", SAMPLE_ROWS))
    removal = ["X", "FR", "LEH", "Le Havre", "Le Havre", "76", "12345---", "XX", "2401", "", "", "Use FRXXX"]

    result = services.load_unlocode(source=write_rows(tmp_path / "2024.csv", [*SAMPLE_ROWS[:6], removal]))

    assert (result.removed, result.kept) == (1, 0)
    assert not Location.objects.filter(code="FRLEH").exists()
    assert Location.objects.filter(code="FRMRS").exists()


@pytest.mark.django_db
def test_a_zip_of_windows_1252_parts_loads_in_part_order(tmp_path):
    part1 = write_rows(tmp_path / "p1.csv", SAMPLE_ROWS[:3], encoding="cp1252")
    part2 = write_rows(tmp_path / "p2.csv", SAMPLE_ROWS[3:], encoding="cp1252")
    archive = tmp_path / "loc241csv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(part2, "2024-1 UNLOCODE CodeListPart2.csv")
        zf.write(part1, "2024-1 UNLOCODE CodeListPart1.csv")
        zf.writestr("2024-1 SubdivisionCodes.csv", '"CI","AB","Abidjan","District"\n')

    result = services.load_unlocode(source=archive)

    assert result.loaded == 4
    assert Location.objects.get(code="CISPY").name == "San-Pédro"


@pytest.mark.django_db
def test_a_release_can_be_downloaded_from_a_url(tmp_path):
    write_rows(tmp_path / "code-list.csv", SAMPLE_ROWS)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/code-list.csv"
        assert services.load_unlocode(source=url).loaded == 4
        with pytest.raises(services.RefdataSourceError, match="cannot download"):
            services.load_unlocode(source=url.replace("code-list", "missing"))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_unreadable_sources_are_reported_clearly(tmp_path):
    with pytest.raises(services.RefdataSourceError, match="no such file"):
        services.load_unlocode(source=tmp_path / "absent.csv")
    with pytest.raises(services.RefdataSourceError, match="only http"):
        services.load_unlocode(source="ftp://unece.org/loc.zip")
    not_locode = tmp_path / "hs.csv"
    not_locode.write_text("section,hscode,description\nI,01,Animals; live\n")
    with pytest.raises(services.RefdataSourceError, match="no UN/LOCODE entries"):
        services.load_unlocode(source=not_locode)


@pytest.mark.parametrize(
    ("value", "latitude", "longitude"),
    [("4230N 00131E", 42.5, 1.51667), ("0520N 00401W", 5.33333, -4.01667), ("3351S 15112E", -33.85, 151.2)],
)
def test_coordinates_become_decimal_degrees(value, latitude, longitude):
    assert services.parse_coordinates(value) == pytest.approx((latitude, longitude), abs=1e-5)


@pytest.mark.parametrize("value", ["", "2444N 05045"])  # the second is a malformed value of the 2024 release
def test_missing_or_malformed_coordinates_are_left_empty(value):
    assert services.parse_coordinates(value) == (None, None)


@pytest.mark.django_db
def test_a_place_still_used_by_a_trade_is_kept_when_a_release_removes_it(tmp_path, cashew_trade):
    removal = ["X", "FR", "MRS", "Marseille", "Marseille", "13", "12-45---", "XX", "2401", "", "", ""]

    result = services.load_unlocode(source=write_rows(tmp_path / "2024.csv", [*SAMPLE_ROWS[:3], removal]))

    assert (result.removed, result.kept) == (0, 1)
    assert Location.objects.filter(code="FRMRS").exists()
