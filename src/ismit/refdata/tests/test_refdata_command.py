"""The operators' command: `ismit refdata load` and `ismit refdata load-unlocode`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from ismit.audit.models import AuditEvent
from ismit.refdata.models import Country, Location


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("refdata", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_fills_every_list_with_the_builtin_places_and_prints_counts_and_time():
    output = run("load")

    assert "countries" in output and "249" in output
    assert "locations" in output and "247" in output
    assert "done in" in output
    assert Country.objects.count() == 249
    assert Location.objects.count() == 247


@pytest.mark.django_db
def test_load_unlocode_loads_a_release_file(tmp_path):
    release = tmp_path / "code-list.csv"
    release.write_text(',"SN","DKR","Dakar","Dakar","DK","1--45---","AI","0601",,"1440N 01726W",\n')

    output = run("load-unlocode", str(release))

    assert "locations 1 loaded" in output
    assert Location.objects.get(code="SNDKR").latitude == pytest.approx(14 + 40 / 60)


@pytest.mark.django_db
def test_missing_files_and_bad_urls_are_clear_command_errors(tmp_path):
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="no such file"):
        run("load-unlocode", str(tmp_path / "absent.csv"))
    with pytest.raises(CommandError, match="only http"):
        run("load", "--unlocode", "ftp://example.invalid/loc.zip")
    with pytest.raises(CommandError, match="cannot download"):
        run("load-unlocode", "http://127.0.0.1:9/loc.zip")
    assert AuditEvent.objects.count() == events  # nothing was loaded
