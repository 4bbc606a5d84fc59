"""`ismit customs …`: the single windows the platform sends to, from the command line.

    ismit customs add-window --country CI --procedure export --connector wco-xml \
        --base-url http://127.0.0.1:8100 --client-id ismit (--secret S | --secret-env NSW_SECRET) [--name N]
    ismit customs list-windows
    ismit customs poll          read every window's notifications now (the periodic job does it too)
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ismit.customs import services, tasks
from ismit.customs.models import Channel, Procedure, SingleWindow
from ismit.lib.errors import error_dict


class Command(BaseCommand):
    help = "Configure and list single windows, poll them for answers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser(
            "add-window", help="add (or change) the single window of a country and procedure"
        )
        add.add_argument("--country", required=True, help="ISO 3166 alpha-2")
        add.add_argument("--procedure", required=True, choices=Procedure.values)
        add.add_argument("--connector", required=True, choices=Channel.values)
        add.add_argument("--base-url", required=True)
        add.add_argument("--client-id", required=True)
        add.add_argument("--secret", default="", help="the shared secret (stored encrypted)")
        add.add_argument("--secret-env", default="", help="or: the environment variable that holds it")
        add.add_argument("--name", default="")
        add.add_argument("--timeout", type=float, default=20.0, help="seconds (default 20)")
        sub.add_parser("list-windows", help="the configured single windows and their callback URLs")
        sub.add_parser("poll", help="read every window's notifications now")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "add-window":
            try:
                window = services.add_window(
                    name=options["name"],
                    country=options["country"],
                    procedure=options["procedure"],
                    connector=options["connector"],
                    base_url=options["base_url"],
                    client_id=options["client_id"],
                    secret=options["secret"],
                    secret_env=options["secret_env"],
                    timeout=options["timeout"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error_dict(exc).items()))
            self.stdout.write(f"single window {window.pk}: {window}")
            self.stdout.write(f"callback URL: {settings.SITE_URL}{window.callback_path}")
        elif action == "list-windows":
            for window in SingleWindow.objects.order_by("pk"):
                state = "active" if window.active else "inactive"
                self.stdout.write(
                    f"{window.pk}\t{window.country}\t{window.procedure}\t{window.connector}\t{window.base_url}\t"
                    f"{window.client_id}\t{state}\t{settings.SITE_URL}{window.callback_path}"
                )
        elif action == "poll":
            read = tasks.poll_all()
            self.stdout.write(f"{read} notifications read")
