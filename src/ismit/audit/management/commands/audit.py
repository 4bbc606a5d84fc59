"""`ismit audit verify`: link the events still waiting, then check the hash chain of the audit log."""

from django.core.management.base import BaseCommand, CommandError

from ismit.audit.services import link_events, verify_chain


class Command(BaseCommand):
    help = (
        "Audit log tools. `verify` links the events written since the last link, then walks the hash chain "
        "and reports the first broken link. `link` only links."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "link"])

    def handle(self, *args, **options):
        linked = link_events()
        if options["action"] == "link":
            self.stdout.write(f"{linked} events linked")
            return
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit log broken at event #{report.broken_seq}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit log intact: {report.checked} events verified"))
