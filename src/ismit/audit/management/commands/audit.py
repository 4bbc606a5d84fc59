"""`ismit audit verify`: check the hash chain of the audit log."""

from django.core.management.base import BaseCommand, CommandError

from ismit.audit.services import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `verify` walks the hash chain and reports the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit log broken at event #{report.broken_seq}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit log intact: {report.checked} events verified"))
