"""Code lists read by validation are kept a while in each process (ismit.refdata.lookup)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ismit.refdata import lookup
from ismit.refdata.models import Country, HSCode, Location

pytestmark = pytest.mark.django_db


def test_codes_found_are_not_asked_again_and_the_others_are(settings):
    settings.CODE_LIST_CACHE_S = 300
    first = lookup.resolve({Country: ["CI", "FR"], HSCode: ["080132"], Location: ["CIABJ", "ZZZZZ"]})
    assert set(first[Country]) == {"CI", "FR"} and set(first[Location]) == {"CIABJ"}
    with CaptureQueriesContext(connection) as kept:
        again = lookup.resolve({Country: ["CI", "FR"], HSCode: ["080132"], Location: ["CIABJ"]})
    assert len(kept) == 0
    assert again[Location]["CIABJ"].name == first[Location]["CIABJ"].name
    with CaptureQueriesContext(connection) as missing:
        lookup.resolve({Country: ["CI"], Location: ["ZZZZZ"]})  # not found before: asked again
    (query,) = missing.captured_queries
    assert "ZZZZZ" in query["sql"] and Country._meta.db_table not in query["sql"]


def test_a_kept_code_is_read_again_once_its_time_is_up_and_every_time_with_the_cache_off(
    settings, monkeypatch
):
    settings.CODE_LIST_CACHE_S = 300
    lookup.resolve({Country: ["CI"]})
    Country.objects.filter(code="CI").update(name="Ivory Coast (renamed)")
    assert lookup.resolve({Country: ["CI"]})[Country]["CI"].name != "Ivory Coast (renamed)"  # kept
    later = time.monotonic() + 301
    monkeypatch.setattr(lookup.time, "monotonic", lambda: later)  # the clock, five minutes on
    assert lookup.resolve({Country: ["CI"]})[Country]["CI"].name == "Ivory Coast (renamed)"
    Country.objects.filter(code="CI").update(name="Côte d'Ivoire")
    settings.CODE_LIST_CACHE_S = 0
    assert lookup.resolve({Country: ["CI"]})[Country]["CI"].name == "Côte d'Ivoire"
