"""`ismit consolidate --input CONSIGNMENTS.json --out PLAN.json [--time-limit S]`: the optimiser as a
batch tool for forwarders (formats in docs/consolidation.md). Needs no database."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ismit.logistics.optimiser import DEFAULT_TIME_LIMIT_S, InputError, optimise, parse_problem


class Command(BaseCommand):
    help = "Group consignments into containers or air ULDs; writes the load plan as JSON."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, help="consignments (JSON, see docs/consolidation.md)")
        parser.add_argument("--out", required=True, help="where to write the plan (JSON)")
        parser.add_argument(
            "--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, help="seconds of search"
        )

    def handle(self, *args, **options) -> None:
        source, target = Path(options["input"]), Path(options["out"])
        if options["time_limit"] <= 0:
            raise CommandError("--time-limit must be a positive number of seconds")
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror or exc}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{source} is not valid JSON: {exc}")
        try:
            problem = parse_problem(data)
        except InputError as exc:
            raise CommandError(f"{source}: {exc}")
        plan = optimise(problem, time_limit_s=options["time_limit"])
        # Written to a temporary file first, so a failure never leaves a partial plan.
        folder = target.parent if str(target.parent) else Path(".")
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, suffix=".tmp", delete=False, encoding="utf-8"
        ) as out:
            json.dump(plan, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(out.name, target)
        summary = plan["summary"]
        self.stdout.write(
            f"{summary['placed']} consignments in {summary['loads']} loads "
            f"(lower bound {summary['lower_bound']}), {summary['unplaced']} unplaced; "
            f"price {summary['price']} {summary['currency']}; plan written to {target}"
        )
