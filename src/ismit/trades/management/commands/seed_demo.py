"""`ismit seed_demo`: demo organisations, users and one trade part-way through its checklist.

Idempotent: running it again changes nothing that exists. Uses the same services as the pages and the API.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ismit.accounts import services as accounts
from ismit.accounts.actors import actor_for
from ismit.accounts.models import Organisation, User
from ismit.refdata.models import Incoterm
from ismit.trades import services as trades
from ismit.trades.models import Trade
from ismit.trades.samples import cashew_export

PASSWORD = "ismit-demo"
DOMAIN = "demo.ismit.example"

# (login, full name, language, organisation, kind, provider types, country, city, identifiers)
PEOPLE = [
    ("operator", "Platform Operator", "en", "ISMIT Demo Operator", "operator", [], "CI", "Abidjan", {}),
    (
        "msme1",
        "Awa Koné",
        "fr",
        "Anacarde Abidjan SARL",
        "msme",
        [],
        "CI",
        "Abidjan",
        {"business": "CI-ABJ-2019-B-04411"},
    ),
    (
        "msme2",
        "Wanjiru Kamau",
        "en",
        "Rift Valley Roses Ltd",
        "msme",
        [],
        "KE",
        "Nairobi",
        {"vat": "P051365947M"},
    ),
    (
        "forwarder",
        "Moussa Diop",
        "fr",
        "Sahel Freight Forwarding",
        "provider",
        ["forwarder", "carrier"],
        "SN",
        "Dakar",
        {},
    ),
    (
        "broker",
        "Koffi Yao",
        "fr",
        "Transit Lagunaire Customs Brokers",
        "provider",
        ["broker"],
        "CI",
        "Abidjan",
        {},
    ),
    (
        "bank",
        "Claire Martin",
        "fr",
        "Banque Atlantique Démo",
        "provider",
        ["bank"],
        "FR",
        "Paris",
        {"vat": "FR44732829320"},
    ),
    (
        "insurer",
        "Paul Durand",
        "fr",
        "Assurances Maritimes Démo",
        "provider",
        ["insurer"],
        "FR",
        "Marseille",
        {"vat": "FR96552100554"},
    ),
]

DEMO_REFERENCE = "DEMO-EXP-0001"


class Command(BaseCommand):
    help = "Seed the demo organisations, users and trade (idempotent) and print the logins."

    def handle(self, *args, **options):
        if not Incoterm.objects.filter(code="CIF").exists():
            raise CommandError("Reference data is missing: run `ismit refdata load` first.")
        # The demo people do not need the verification e-mails of their own seeding.
        backend, settings.EMAIL_BACKEND = (
            settings.EMAIL_BACKEND,
            "django.core.mail.backends.dummy.EmailBackend",
        )
        try:
            with transaction.atomic():
                users = {row[0]: self._person(*row) for row in PEOPLE}
                self._demo_trade(users["msme1"])
        finally:
            settings.EMAIL_BACKEND = backend
        self.stdout.write(f"\nDemo logins (password: {PASSWORD})")
        for login, _name, _lang, org, kind, *_ in PEOPLE:
            self.stdout.write(f"  {login + '@' + DOMAIN:<32} {kind:<9} {org}")
        self.stdout.write(f"  demo trade: {DEMO_REFERENCE} (msme1)\n")

    def _person(self, login, full_name, language, org_name, kind, types, country, city, identifiers) -> User:
        email = f"{login}@{DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=PASSWORD,
                full_name=full_name,
                language=language,
                is_staff=kind == "operator",
                is_superuser=kind == "operator",
            )
        org = Organisation.objects.filter(legal_name=org_name).first()
        if org is None:
            org = accounts.create_organisation(
                by=user,
                legal_name=org_name,
                kind=kind,
                country=country,
                city=city,
                provider_types=types,
                identifiers=identifiers,
                email=email,
            )
            operator = User.objects.get(email=f"operator@{DOMAIN}")
            verified_by = actor_for(operator)
            if kind == "msme" and login == "msme2":
                return user  # left pending, so an operator can try the verification workflow
            accounts.verify_organisation(
                actor=verified_by, organisation=org, reason="Demo organisation, verified at seeding."
            )
        return user

    def _demo_trade(self, user: User) -> None:
        org = Organisation.objects.get(legal_name="Anacarde Abidjan SARL")
        if Trade.objects.filter(organisation=org, reference=DEMO_REFERENCE).exists():
            return
        actor = actor_for(user)
        today = dt.date.today()
        data = cashew_export(
            seller_name=org.legal_name,
            reference=DEMO_REFERENCE,
            invoice_date=today,
            planned_departure=today + dt.timedelta(days=21),
        )
        trade = trades.create_trade(actor=actor, organisation=org, data=data)
        steps = {s.code: s for s in trade.steps.all()}
        trades.set_step_status(actor=actor, step=steps["contract"], status="done", note="PO 4471 signed")
        trades.set_step_status(actor=actor, step=steps["proforma_invoice"], status="done")
        trades.set_step_status(
            actor=actor, step=steps["lc_opened"], status="done", note="L/C 0098-2026 confirmed"
        )
        trades.set_step_status(
            actor=actor, step=steps["goods_ready"], status="in_progress", note="Packing of 750 bags under way"
        )
