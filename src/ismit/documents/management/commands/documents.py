"""`ismit documents …`: a trade's documents and the signing keys, from the command line.

    ismit documents export REF --out DIR [--org ID] [--lang fr] [--user EMAIL]
    ismit documents coverage REF [--org ID]
    ismit documents verify FILE [--signature FILE] | --sha256 HEX
    ismit documents rotate-key ORG_ID
    ismit documents revoke-key KEY_FINGERPRINT_OR_ID --reason TEXT
    ismit documents ca > ismit-ca.pem

The command line is the operator's: key management runs as the platform itself (audited as "system").
Issuing runs as a member of the trade's organisation (--user, else the person who created the trade).
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Organisation, Role, User
from ismit.documents import keys, queries, services, verification
from ismit.documents.coverage import coverage
from ismit.documents.data import document_data
from ismit.documents.models import SigningKey, kind_label
from ismit.lib.errors import error_dict
from ismit.trades.models import Trade


class Command(BaseCommand):
    help = "Export a trade's signed documents, report its single entry ratio, verify a file, manage keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write every current document of a trade into a folder")
        export.add_argument("reference")
        export.add_argument("--out", required=True, type=Path)
        export.add_argument("--org", type=int, help="the organisation's id, when several use the reference")
        export.add_argument("--lang", default="en", choices=services.LANGUAGES)
        export.add_argument("--user", help="issue as this member (default: the trade's creator)")
        report = sub.add_parser("coverage", help="the single entry ratio of a trade")
        report.add_argument("reference")
        report.add_argument("--org", type=int)
        check = sub.add_parser("verify", help="verify a document, as the public page does")
        check.add_argument("file", nargs="?", type=Path)
        check.add_argument("--signature", type=Path)
        check.add_argument("--sha256")
        rotate = sub.add_parser("rotate-key", help="give an organisation a new signing key")
        rotate.add_argument("organisation", type=int)
        revoke = sub.add_parser("revoke-key", help="revoke a signing key: what it signed reads as revoked")
        revoke.add_argument("key", help="the key's id or certificate fingerprint")
        revoke.add_argument("--reason", required=True)
        sub.add_parser("ca", help="print the platform CA's certificate (PEM)")

    def handle(self, *args, **options):
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"_{action}")(options)
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in error_dict(exc).values() for m in ms))
        except PermissionDenied as exc:
            raise CommandError(str(exc))

    # -- trades -------------------------------------------------------------------------------------

    def _trade(self, reference: str, organisation_id: int | None) -> Trade:
        trades = Trade.objects.select_related("organisation").filter(reference=reference)
        if organisation_id is not None:
            trades = trades.filter(organisation_id=organisation_id)
        found = list(trades[:2])
        if not found:
            raise CommandError(
                f"no trade {reference!r}" + (f" in organisation {organisation_id}" if organisation_id else "")
            )
        if len(found) > 1:
            raise CommandError(f"several organisations have a trade {reference!r}: choose one with --org")
        return found[0]

    def _issuer(self, trade: Trade, email: str | None):
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"no user {email!r}")
        else:
            user = trade.created_by or (
                User.objects.filter(
                    memberships__organisation_id=trade.organisation_id, memberships__role=Role.OWNER
                ).first()
            )
            if user is None:
                raise CommandError("the trade has no creator: name a member with --user")
        if not Membership.objects.filter(user=user, organisation_id=trade.organisation_id).exists():
            raise CommandError(f"{user.email} is not a member of {trade.organisation.legal_name}")
        return actor_for(user, trade.organisation_id)

    def _export(self, options):
        trade = self._trade(options["reference"], options["org"])
        documents = queries.current_documents(trade)
        if not documents:
            actor = self._issuer(trade, options["user"])
            self.stderr.write(f"No document issued yet: issuing them as {actor.user.email}…")
            services.issue_documents(actor=actor, trade=trade, language=options["lang"])
            documents = queries.current_documents(trade)
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        for document in documents:
            (out / document.filename).write_bytes(queries.read_content(document))
            written = [document.filename]
            signature = queries.read_signature(document)
            if signature is not None:
                (out / document.signature_filename).write_bytes(signature)
                written.append(document.signature_filename)
            self.stdout.write(f"{', '.join(written):<55} v{document.version}  {kind_label(document.kind)}")
        self.stdout.write(self.style.SUCCESS(f"{len(documents)} documents of {trade.reference} in {out}"))

    def _coverage(self, options):
        trade = self._trade(options["reference"], options["org"])
        report = coverage(document_data(trade))
        self.stdout.write(f"{'document':<45} {'format':<6} {'fields':>6} {'values':>7}")
        for row in report.rows:
            self.stdout.write(f"{row.kind:<45} {row.format:<6} {row.fields:>6} {row.occurrences:>7}")
        self.stdout.write(f"{'carried by all documents':<59} {report.carried:>7}")
        self.stdout.write(f"{'typed by the MSME':<59} {report.typed:>7}")
        self.stdout.write(self.style.SUCCESS(f"single entry ratio: {report.ratio}"))

    def _verify(self, options):
        if options["file"] is None and not options["sha256"]:
            raise CommandError("give a FILE or --sha256")
        data = options["file"].read_bytes() if options["file"] else None
        signature = options["signature"].read_bytes() if options["signature"] else None
        result = verification.verify(data=data, sha256=options["sha256"], signature=signature, channel="cli")
        self.stdout.write(f"{result.label}: {result.explanation}")
        for label, value in (
            ("issued by", result.issuer),
            ("issued at", result.issued_at),
            ("reference", result.reference),
            ("document", f"{result.kind}.{result.format} v{result.version}" if result.kind else ""),
            ("sha256", result.sha256),
        ):
            if value:
                self.stdout.write(f"  {label:<10} {value}")
        if result.status not in (verification.VALID, verification.SUPERSEDED):
            raise CommandError(f"not valid: {result.status}")

    # -- keys ---------------------------------------------------------------------------------------

    def _rotate_key(self, options):
        organisation = Organisation.objects.filter(pk=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"no organisation {options['organisation']}")
        key = services.rotate_key(actor=None, organisation=organisation)
        self.stdout.write(self.style.SUCCESS(f"{organisation.legal_name}: new signing key {key.fingerprint}"))

    def _revoke_key(self, options):
        ident = options["key"].strip().lower()
        if len(ident) == 64:
            key = SigningKey.objects.filter(fingerprint=ident).first()
        else:
            key = SigningKey.objects.filter(pk=int(ident)).first() if ident.isdigit() else None
        if key is None:
            raise CommandError(f"no signing key {options['key']!r}")
        key = services.revoke_key(actor=None, key=key, reason=options["reason"])
        count = key.documents.count()
        self.stdout.write(
            self.style.SUCCESS(f"revoked {key.fingerprint} ({key.subject_name}): {count} documents")
        )

    def _ca(self, options):
        self.stdout.write(keys.ca_bundle_pem().decode(), ending="")
