"""`ismit tracking poll | check-alerts | add-carrier`: the poller and the alert check by hand, and the
configuration of a carrier's DCSA endpoint (operators)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ismit.accounts.models import Organisation


class Command(BaseCommand):
    help = "Tracking: poll carriers' DCSA endpoints, check alerts, configure a carrier endpoint."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("poll", help="Pull new events from every active carrier endpoint.")
        sub.add_parser("check-alerts", help="Raise the alerts of silent shipments and missing documents.")
        add = sub.add_parser("add-carrier", help="Configure (or update) a carrier's DCSA endpoint.")
        add.add_argument("--organisation", type=int, required=True, help="id of the carrier's organisation")
        add.add_argument("--name", required=True)
        add.add_argument("--base-url", required=True, help="e.g. https://carrier.example/tnt/v3")
        add.add_argument("--token", required=True)
        add.add_argument("--page-size", type=int, default=100)

    def handle(self, *args, **options):
        from ismit.tracking import poller, services

        action = options["action"]
        if action == "poll":
            from ismit.tracking.models import CarrierEndpoint

            for endpoint in CarrierEndpoint.objects.filter(active=True):
                result = poller.poll_endpoint(endpoint)
                self.stdout.write(
                    f"{endpoint.name}: {result.stored} new event(s), {result.duplicates} duplicate(s), "
                    f"{result.pages} page(s), {len(result.errors)} error(s)"
                )
                for line in result.errors:
                    self.stdout.write(f"  {line}")
        elif action == "check-alerts":
            self.stdout.write(f"{services.check_alerts()} alert(s) raised")
        else:
            organisation = Organisation.objects.filter(pk=options["organisation"]).first()
            if organisation is None:
                raise CommandError("No such organisation.")
            endpoint = services.add_carrier_endpoint(
                organisation=organisation,
                name=options["name"],
                base_url=options["base_url"],
                token=options["token"],
                page_size=options["page_size"],
            )
            self.stdout.write(f"carrier endpoint: {endpoint.pk}")
