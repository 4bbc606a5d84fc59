"""The French catalogue is complete: every message in the code and templates has a French translation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "ismit"
CATALOGUE = PACKAGE / "locale" / "fr" / "LC_MESSAGES"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    """The messages the code holds today, extracted afresh with Django's makemessages."""
    if shutil.which("xgettext") is None:
        pytest.fail("gettext tools are missing: apt-get install -y gettext")
    work = tmp_path_factory.mktemp("messages") / "ismit"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("locale", "__pycache__", "static"))
    (work / "locale").mkdir()
    # Without settings, makemessages writes into ./locale of the copy, never into the package.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-location", "--no-wrap", "-v0"],
        cwd=work,
        check=True,
        env=env,
    )
    return polib.pofile(str(work / "locale" / "fr" / "LC_MESSAGES" / "django.po"))


def test_every_message_has_a_french_translation(extracted):
    committed = polib.pofile(str(CATALOGUE / "django.po"))
    translated = {(e.msgctxt, e.msgid) for e in committed.translated_entries() if "fuzzy" not in e.flags}
    missing = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in translated]
    assert not missing, (
        f"{len(missing)} messages lack a French translation (run `make messages`): {missing[:20]}"
    )


def test_compiled_catalogue_matches_the_translations():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    stale = [e.msgid for e in po.translated_entries() if compiled.get((e.msgctxt, e.msgid)) != e.msgstr]
    assert not stale, f"django.mo is out of date (run `make messages`): {stale[:10]}"
