"""Tenant isolation on the pages: a member of organisation A gets 404 on every page that names one of
organisation B's objects, by GET and by POST, and B's data is unchanged afterwards.

The URL patterns are enumerated from the resolver: a new page that takes an id fails the coverage test
until its parameter is given a sample below.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from ismit.accounts.actors import actor_for
from ismit.accounts.models import ApiToken, Membership, Organisation, VerificationEvidence
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.customs.models import CustomsQuery, Declaration
from ismit.customs.tests.support import seed_query
from ismit.documents.models import IssuedDocument
from ismit.documents.services import issue_documents
from ismit.finance.models import FxReport, Payment, VatClaim
from ismit.finance.services import PaymentData, record_payment
from ismit.logistics.tests.support import make_consignment, make_plan
from ismit.marketplace.tests.support import (
    make_contract,
    make_firm_quote,
    make_hidden_offering,
    make_invitation,
    make_rfq,
    make_suspended_provider,
    make_trade,
)
from ismit.outbox.services import enqueue
from ismit.tracking import services as tracking
from ismit.tracking.tests.support import make_shipment
from ismit.trades import bulk
from ismit.trades.models import ChecklistStep, ColumnMapping, GoodsItem, Trade, TradeGrant
from ismit.trades.services import appoint
from tests.isolation_rows import app_rows

# Pages whose parameters are not organisation data. callback: a window id; shared: the token of a share
# link is the credential (a read-only page for whoever holds it).
EXEMPT = {"accounts:password_reset_confirm", "refdata:suggest", "customs:callback", "tracking:shared"}

# For each page with parameters: how to fill them with one of B's objects.
SAMPLES = {
    "accounts:organisation": lambda b: {"pk": b.org.pk},
    "accounts:organisation_edit": lambda b: {"pk": b.org.pk},
    "accounts:evidence": lambda b: {"pk": b.org.pk},
    "accounts:members": lambda b: {"pk": b.org.pk},
    "accounts:organisation_audit": lambda b: {"pk": b.org.pk},
    "accounts:evidence_download": lambda b: {"pk": b.evidence.pk},
    "accounts:member_role": lambda b: {"pk": b.membership.pk},
    "accounts:member_remove": lambda b: {"pk": b.membership.pk},
    "accounts:verification_review": lambda b: {"pk": b.org.pk},
    "accounts:verify": lambda b: {"pk": b.org.pk},
    "accounts:reject": lambda b: {"pk": b.org.pk},
    "accounts:token_revoke": lambda b: {"pk": b.token.pk},
    "trades:detail": lambda b: {"pk": b.trade.pk},
    "trades:edit": lambda b: {"pk": b.trade.pk},
    "trades:duplicate": lambda b: {"pk": b.trade.pk},
    "trades:delete": lambda b: {"pk": b.trade.pk},
    "trades:step": lambda b: {"pk": b.trade.pk, "code": "contract"},
    "trades:bulk_mapping_delete": lambda b: {"pk": b.mapping.pk},
    "trades:bulk_mapping": lambda b: {"token": b.staged},
    "compliance:requirements": lambda b: {"pk": b.trade.pk},
    "documents:list": lambda b: {"pk": b.trade.pk},
    "documents:download": lambda b: {"pk": b.trade.pk, "doc_id": b.document.pk},
    "documents:signature": lambda b: {"pk": b.trade.pk, "doc_id": b.document.pk},
    "trades:grant_create": lambda b: {"pk": b.trade.pk},
    "trades:grant_brokers": lambda b: {"pk": b.trade.pk},
    "trades:grant_revoke": lambda b: {"pk": b.trade.pk, "grant_id": b.grant.pk},
    "customs:trade": lambda b: {"pk": b.trade.pk},
    "customs:answer": lambda b: {"pk": b.trade.pk, "query_id": b.query.pk},
    "customs:message": lambda b: {"pk": b.trade.pk, "message_id": b.message.pk},
    "finance:trade": lambda b: {"pk": b.trade.pk},
    "finance:payment_add": lambda b: {"pk": b.trade.pk},
    "finance:payment_delete": lambda b: {"pk": b.trade.pk, "payment_id": b.payment.pk},
    "finance:fx_submit": lambda b: {"pk": b.trade.pk},
    "finance:vat_submit": lambda b: {"pk": b.trade.pk},
    "outbox:detail": lambda b: {"pk": b.outbox_message.pk},
    "outbox:replay": lambda b: {"pk": b.outbox_message.pk},
    "catalogue:edit": lambda b: {"pk": b.offering.pk},
    "catalogue:toggle": lambda b: {"pk": b.offering.pk},
    "catalogue:price": lambda b: {"pk": b.offering.pk},
    "catalogue:offering_csv": lambda b: {"pk": b.offering.pk},
    "catalogue:provider": lambda b: {"org_id": b.provider.organisation_id},
    "catalogue:provider_standing": lambda b: {"org_id": b.provider.organisation_id},
    "marketplace:trade_services": lambda b: {"pk": b.trade.pk},
    "marketplace:rfq": lambda b: {"pk": b.rfq.pk},
    "marketplace:quote_submit": lambda b: {"pk": b.rfq.pk},
    "marketplace:quote_accept": lambda b: {"pk": b.quote.pk},
    "marketplace:quote_confirm": lambda b: {"pk": b.quote.pk},
    "marketplace:invitation_decline": lambda b: {"pk": b.invitation.pk},
    "marketplace:contract": lambda b: {"pk": b.contract.pk},
    "marketplace:milestone_add": lambda b: {"pk": b.contract.pk},
    "marketplace:invoice_add": lambda b: {"pk": b.contract.pk},
    "marketplace:rating_add": lambda b: {"pk": b.contract.pk},
    "marketplace:claim_add": lambda b: {"pk": b.contract.pk},
    "logistics:trade": lambda b: {"pk": b.trade.pk},
    "logistics:withdraw": lambda b: {"pk": b.consignment.pk},
    "logistics:plan": lambda b: {"pk": b.plan.pk},
    "logistics:manifest": lambda b: {"pk": b.plan.pk},
    "tracking:detail": lambda b: {"pk": b.shipment.pk},
    "tracking:share_link_create": lambda b: {"pk": b.shipment.pk},
    "tracking:share_link_revoke": lambda b: {"pk": b.shipment.pk, "link_id": b.share_link.pk},
    "tracking:access_grant": lambda b: {"pk": b.shipment.pk},
    "tracking:access_revoke": lambda b: {"pk": b.shipment.pk, "access_id": b.shipment_access.pk},
    "tracking:webhook_delete": lambda b: {"webhook_id": b.webhook.pk},
}

POST_BODY = {
    "status": "done",
    "note": "taken over",
    "role": "read_only",
    "reason": "taken over",
    "legal_name": "Taken Over Ltd",
    "description": "forged",
    "reference": "TAKEN",
}


def _patterns(resolver: URLResolver | None = None, namespace: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in ("admin", "api", "dcsa"):
                # the admin is Django's own (staff only); the APIs (/api/v1, /dcsa/tnt/v3) have their own
                # isolation test
                continue
            yield from _patterns(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name and entry.pattern.converters:
            yield f"{namespace}{entry.name}"


PAGES = sorted(set(_patterns()) - EXEMPT)


def test_every_page_with_a_parameter_is_covered():
    missing = [name for name in PAGES if name not in SAMPLES]
    assert not missing, f"add these pages to SAMPLES in the page isolation test: {missing}"
    assert len(PAGES) >= 15


class SideB:
    def __init__(self, cast, other_trade):
        self.org = cast.other_msme
        self.trade = other_trade
        self.membership = Membership.objects.get(organisation=self.org, user=cast.other)
        self.evidence = VerificationEvidence.objects.create(
            organisation=self.org,
            description="Registration extract",
            file=SimpleUploadedFile("extract.pdf", b"%PDF-1.4 extract"),
            uploaded_by=cast.other,
        )
        self.token, _key = create_api_token(user=cast.other, name="b")
        self.mapping = ColumnMapping.objects.create(
            organisation=self.org, name="B layout", mapping={"description": "Goods"}
        )
        csv = bulk.template_csv() + "\nB-1,export\n"
        upload = SimpleUploadedFile("b.csv", csv.encode(), content_type="text/csv")
        self.staged = bulk.stage_upload(actor=actor_for(cast.other), organisation=self.org, file=upload)
        self.document = issue_documents(
            actor=actor_for(cast.other), trade=self.trade, kinds=["trade_dataset"]
        )[0]
        self.grant = appoint(
            actor=actor_for(cast.other), trade=self.trade, organisation=cast.broker_org, scope="customs"
        )
        self.declaration, self.query, self.message = seed_query(actor_for(cast.other), self.trade)
        self.payment = record_payment(
            actor=actor_for(cast.other),
            trade=self.trade,
            data=PaymentData(amount="100.00", currency="EUR", received_on="2026-01-05", bank_reference="B-1"),
        )
        with transaction.atomic():
            self.outbox_message = enqueue(
                topic="customs.declaration",
                payload=b"<B/>",
                idempotency_key="b-1",
                organisation_id=self.org.pk,
            )
        # Marketplace, logistics and tracking: B's catalogue, provider standing and load plan are those of
        # Sahel Freight, a forwarder A's owner is not a member of.
        self.forwarder = cast.forwarder_org
        self.offering = make_hidden_offering(self.forwarder)
        self.provider = make_suspended_provider(self.forwarder)
        self.rfq = make_rfq(self.org)
        self.quote = make_firm_quote(self.org)
        self.invitation = make_invitation(self.org)
        self.contract = make_contract(self.org)
        self.consignment = make_consignment(make_trade(self.org), self.forwarder)
        self.plan = make_plan(make_trade(self.org), self.forwarder)
        owner = actor_for(cast.other)
        self.shipment = make_shipment(self.org)
        self.shipment_access = tracking.grant_access(
            actor=owner, shipment=self.shipment, organisation=cast.broker_org
        )
        self.share_link, _token = tracking.create_share_link(actor=owner, shipment=self.shipment)
        self.webhook = tracking.create_webhook(
            actor=owner,
            organisation=self.org,
            url="https://b.example/hooks",
            secret="a-secret-of-24-chars!",
            kinds=[],
        )

    def snapshot(self) -> dict:
        return {
            "org": Organisation.objects.filter(pk=self.org.pk).values().get(),
            "trades": list(Trade.objects.filter(organisation=self.org).values()),
            "items": list(GoodsItem.objects.filter(trade__organisation=self.org).values()),
            "steps": list(ChecklistStep.objects.filter(trade__organisation=self.org).values()),
            "members": list(Membership.objects.filter(organisation=self.org).values()),
            "evidence": list(VerificationEvidence.objects.filter(organisation=self.org).values()),
            "token": ApiToken.objects.filter(pk=self.token.pk).values().get(),
            "mappings": list(ColumnMapping.objects.filter(organisation=self.org).values()),
            "audit": AuditEvent.objects.filter(organisation_id=self.org.pk).count(),
            "documents": list(IssuedDocument.objects.filter(organisation=self.org).values()),
            "payments": list(Payment.objects.filter(trade__organisation=self.org).values()),
            "grants": list(TradeGrant.objects.filter(trade__organisation=self.org).values()),
            "declarations": list(Declaration.objects.filter(organisation=self.org).values()),
            "queries": list(CustomsQuery.objects.filter(declaration__organisation=self.org).values()),
            "fx_reports": list(FxReport.objects.filter(trade__organisation=self.org).values()),
            "vat_claims": list(VatClaim.objects.filter(trade__organisation=self.org).values()),
            **self.app_rows(),
        }

    def app_rows(self) -> dict:
        return app_rows(self.org.pk, self.forwarder.pk)


@pytest.fixture
def side_b(cast, other_trade, cashew_trade):
    return SideB(cast, other_trade)


@pytest.mark.parametrize("name", PAGES)
def test_a_member_of_another_organisation_gets_404_and_changes_nothing(client, cast, side_b, name):
    from django.urls import reverse

    url = reverse(name, kwargs=SAMPLES[name](side_b))
    client.force_login(cast.exporter)
    before = side_b.snapshot()
    got = client.get(url)
    assert got.status_code in (404, 405), f"GET {url} answered {got.status_code}"
    posted = client.post(url, {**POST_BODY, "file": io.BytesIO(b"x")})
    assert posted.status_code in (404, 405), f"POST {url} answered {posted.status_code}"
    # 405 only means the page does not take that method; the other one must reach the lookup.
    assert 404 in (got.status_code, posted.status_code)
    assert side_b.snapshot() == before
