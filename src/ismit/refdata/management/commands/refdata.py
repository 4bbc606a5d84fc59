"""`ismit refdata load [--unlocode PATH_OR_URL]`, `ismit refdata load-unlocode PATH_OR_URL`.

`ismit refdata build-data` regenerates the files shipped in refdata/data/ from official UNECE files
(maintainers only).
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ismit.refdata import datafiles, services


class Command(BaseCommand):
    help = "Load the reference code lists (countries, currencies, HS, UN/LOCODE, Incoterms, Rec 19/20/21)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help="Load every code list (UN/LOCODE: the built-in set).")
        load.add_argument(
            "--unlocode",
            metavar="PATH_OR_URL",
            help="Load this UN/LOCODE release instead of the built-in set.",
        )
        unlocode = actions.add_parser(
            "load-unlocode", help="Load a UN/LOCODE release: official CSV, zip of CSV parts, or their URL."
        )
        unlocode.add_argument("source", metavar="PATH_OR_URL")
        build = actions.add_parser("build-data", help="Regenerate refdata/data/ from official UNECE files.")
        build.add_argument("--unlocode", type=Path, required=True, help="UN/LOCODE code list, UTF-8 CSV")
        build.add_argument("--rec20", type=Path, required=True, help="Rec 20 Annexes II and III, CSV")
        build.add_argument("--rec21", type=Path, required=True, help="Rec 21 package types, CSV")

    def handle(self, *args, action: str, **options) -> None:
        started = time.monotonic()
        try:
            if action == "load":
                counts = services.load_all(unlocode_path=options["unlocode"])
                for name, count in counts.items():
                    self.stdout.write(f"{name:16} {count:>8,}")
            elif action == "load-unlocode":
                result = services.load_unlocode(source=options["source"])
                self.stdout.write(
                    f"locations {result.loaded:,} loaded, {result.removed:,} removed"
                    f" ({result.kept:,} marked for removal but in use), {result.skipped:,} rows skipped"
                )
            else:
                self._build_data(options)
        except (services.RefdataSourceError, ValueError, OSError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"done in {time.monotonic() - started:.1f} s"))

    def _build_data(self, options: dict) -> None:
        for path in (options["unlocode"], options["rec20"], options["rec21"]):
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        n = datafiles.build_locode_builtin(code_list=options["unlocode"])
        self.stdout.write(f"{datafiles.LOCODE_BUILTIN_CSV.name}: {n} locations")
        n = datafiles.build_units_csv(annex_2_3=options["rec20"])
        self.stdout.write(f"{datafiles.UNITS_CSV.name}: {n} units")
        n = datafiles.build_package_types_csv(rec21=options["rec21"])
        self.stdout.write(f"{datafiles.PACKAGE_TYPES_CSV.name}: {n} package types")
