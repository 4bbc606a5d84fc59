"""`ismit consolidate` run as a real process: a good input gives a plan file; a bad one an error that
names the consignment and the field, a non-zero exit and no file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ismit.logistics import samples

from .test_optimiser import assert_plan_respects_every_rule

ISMIT = str(Path(sys.executable).parent / "ismit")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ISMIT, "consolidate", *args], capture_output=True, text=True, timeout=120)


def test_good_input_gives_a_plan_file(tmp_path):
    data = {"consignments": samples.consignments(120, 4, seed=5), "currency": "EUR"}
    source, target = tmp_path / "in.json", tmp_path / "plan.json"
    source.write_text(json.dumps(data))
    done = run("--input", str(source), "--out", str(target), "--time-limit", "20")
    assert done.returncode == 0, done.stderr
    plan = json.loads(target.read_text())
    assert plan["summary"]["consignments"] == 120
    assert plan["summary"]["currency"] == "EUR"
    assert "plan written to" in done.stdout
    assert_plan_respects_every_rule(data, plan)


def test_bad_input_names_consignment_and_field_and_writes_nothing(tmp_path):
    data = {"consignments": samples.consignments(20, 2, seed=1)}
    data["consignments"][16]["id"] = "C-17"
    data["consignments"][16]["packages"].append(
        {"count": 1, "length_cm": 50, "width_cm": 50, "height_cm": 50, "mass_kg": "heavy"}
    )
    position = len(data["consignments"][16]["packages"]) - 1
    source, target = tmp_path / "in.json", tmp_path / "plan.json"
    source.write_text(json.dumps(data))
    done = run("--input", str(source), "--out", str(target))
    assert done.returncode != 0
    assert f'consignment "C-17": packages[{position}].mass_kg must be a positive number' in done.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_input_that_is_not_json_is_refused(tmp_path):
    source, target = tmp_path / "in.json", tmp_path / "plan.json"
    source.write_text("{not json")
    done = run("--input", str(source), "--out", str(target))
    assert done.returncode != 0
    assert "not valid JSON" in done.stderr
    assert not target.exists()
