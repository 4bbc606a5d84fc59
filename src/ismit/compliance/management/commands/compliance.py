"""`ismit compliance load-starter`, `import-rules FILE`, `export-rules [--out FILE]`.

The rule base is loaded separately from the code lists: `ismit refdata load` first (rules name
countries, HS codes and currencies), then `ismit compliance load-starter` for the sample rules.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ismit.compliance import services
from ismit.lib.errors import error_dict
from ismit.refdata.models import Country


class Command(BaseCommand):
    help = "Maintain the requirement rules: load the starter set, import or export rules as YAML."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("load-starter", help="Load the sample rule set shipped with the product.")
        imports = actions.add_parser("import-rules", help="Add or update rules and groups from a YAML file.")
        imports.add_argument("file", metavar="FILE", help="YAML rule file ('-' for standard input)")
        exports = actions.add_parser("export-rules", help="Write every rule and group as YAML.")
        exports.add_argument("--out", metavar="FILE", help="Write to this file instead of standard output.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "export-rules":
            text = services.export_rules()
            if options.get("out"):
                Path(options["out"]).write_text(text, encoding="utf-8")
                self.stderr.write(f"rules written to {options['out']}")
            else:
                self.stdout.write(text, ending="")
            return
        if not Country.objects.exists():
            raise CommandError("load the reference data first: ismit refdata load")
        try:
            if action == "load-starter":
                report = services.load_starter_rules(actor=None)
            else:
                report = services.import_rules(
                    self._read(options["file"]), actor=None, source=options["file"]
                )
        except ValidationError as exc:
            lines = [
                f"{field}: {message}" for field, messages in error_dict(exc).items() for message in messages
            ]
            raise CommandError("nothing was imported:\n  " + "\n  ".join(lines))
        self.stdout.write(self.style.SUCCESS(report.summary()))

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        return path.read_text(encoding="utf-8")
