"""Acceptance and contracts: the contract made, the others declined, the checklist booked; milestones,
invoices against the quote, ratings and claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Notification
from ismit.audit.models import AuditEvent
from ismit.marketplace import queries, services
from ismit.marketplace.models import (
    Contract,
    ContractStatus,
    Provider,
    Quote,
    QuoteStatus,
    Rfq,
    RfqStatus,
)
from ismit.marketplace.tests.support import forwarder_for, make_offering
from ismit.trades.models import ChecklistStep

pytestmark = pytest.mark.django_db

LINES = [
    {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
    {"code": "BAF", "description": "Bunker surcharge", "amount": "180.00"},
    {"code": "THC", "description": "Terminal handling", "amount": "240.00"},
]


@pytest.fixture
def forwarder(cast):
    make_offering(cast.forwarder_org, transit_days=21)
    return actor_for(cast.forwarder)


@pytest.fixture
def exporter(cast):
    return actor_for(cast.exporter)


@pytest.fixture
def rfq(cast, cashew_trade, forwarder, exporter):
    forwarder_for()  # a second provider, invited too
    return services.create_rfq(
        actor=exporter,
        trade=cashew_trade,
        services=["carriage"],
        cargo={"volume_m3": "30"},
        deadline=timezone.now() + dt.timedelta(days=2),
    )


@pytest.fixture
def quote(rfq, forwarder) -> Quote:
    return services.submit_quote(
        actor=forwarder,
        rfq=rfq,
        service_type="carriage",
        lines=LINES,
        currency="EUR",
        valid_until=timezone.localdate() + dt.timedelta(days=15),
        transit_days=19,
        pickup_within_days=3,
        terms="Door to door",
    )


@pytest.fixture
def contract(quote, exporter) -> Contract:
    return services.accept_quote(actor=exporter, quote=quote)


def step(trade, code) -> ChecklistStep:
    return ChecklistStep.objects.get(trade=trade, code=code)


def test_accepting_a_firm_quote_makes_the_contract(cast, cashew_trade, rfq, quote, exporter):
    contract = services.accept_quote(actor=exporter, quote=quote)
    assert (contract.organisation_id, contract.provider_id, contract.trade_id) == (
        cast.msme.pk,
        cast.forwarder_org.pk,
        cashew_trade.pk,
    )
    assert contract.price == Decimal("2520.00") and contract.currency_id == "EUR"
    assert contract.sla == {"pickup_within_days": 3, "transit_days": 19, "claims_response_days": 14}
    assert "parties" in contract.data_scope and "values" not in contract.data_scope
    assert contract.reference.startswith("SC-")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    # Every other quote of the service is declined, its provider told; the RFQ is awarded.
    others = Quote.objects.filter(rfq=rfq).exclude(pk=quote.pk)
    assert others.exists() and set(others.values_list("status", flat=True)) == {QuoteStatus.DECLINED}
    declined_providers = set(
        others.exclude(provider=cast.forwarder_org).values_list("provider_id", flat=True)
    )
    for provider_id in declined_providers:
        assert Notification.objects.filter(
            organisation_id=provider_id, kind="marketplace.quote_declined"
        ).exists()
    assert Notification.objects.filter(
        organisation=cast.forwarder_org, kind="marketplace.quote_accepted"
    ).exists()
    assert Rfq.objects.get(pk=rfq.pk).status == RfqStatus.AWARDED
    # The checklist shows the booked step, done by the provider.
    booked = step(cashew_trade, "carriage_booked")
    assert booked.status == "done" and booked.acting_organisation_id == cast.forwarder_org.pk
    assert contract.reference in booked.note
    assert AuditEvent.objects.filter(
        action="marketplace.quote_accepted", organisation_id=cast.msme.pk
    ).exists()
    assert AuditEvent.objects.filter(
        action="marketplace.quote_accepted", organisation_id=cast.forwarder_org.pk
    ).exists()


def test_an_indicative_quote_must_be_confirmed_before_acceptance(cast, rfq, forwarder, exporter):
    indicative = Quote.objects.get(rfq=rfq, provider=cast.forwarder_org, kind="indicative")
    with pytest.raises(ValidationError):
        services.accept_quote(actor=exporter, quote=indicative)
    confirmed = services.confirm_quote(actor=forwarder, quote=indicative)
    assert (
        confirmed.kind == "firm"
        and confirmed.total == indicative.total
        and confirmed.lines == indicative.lines
    )
    contract = services.accept_quote(actor=exporter, quote=confirmed)
    assert contract.price == indicative.total


def test_one_contract_per_service_and_only_the_msme_accepts(cast, rfq, quote, exporter, forwarder):
    with pytest.raises(PermissionDenied):
        services.accept_quote(actor=forwarder, quote=quote)
    with pytest.raises(PermissionDenied):
        services.accept_quote(actor=actor_for(cast.viewer), quote=quote)
    services.accept_quote(actor=exporter, quote=quote)
    other = Quote.objects.filter(rfq=rfq).exclude(pk=quote.pk).first()
    Quote.objects.filter(pk=other.pk).update(status="submitted", kind="firm")
    other.refresh_from_db()
    with pytest.raises(ValidationError):
        services.accept_quote(actor=exporter, quote=other)
    assert Contract.objects.count() == 1


def test_an_expired_quote_cannot_be_accepted(quote, exporter):
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.accept_quote(actor=exporter, quote=quote)


# -- milestones ---------------------------------------------------------------------------------------------


def test_milestones_move_the_checklist_and_completion_completes_the_contract(
    cast, cashew_trade, contract, forwarder
):
    services.record_milestone(actor=forwarder, contract=contract, code="picked_up", note="Loaded at Zone 4")
    assert step(cashew_trade, "handover_to_carrier").status == "done"
    services.record_milestone(actor=forwarder, contract=contract, code="departed")
    assert step(cashew_trade, "departed").status == "done"
    services.record_milestone(actor=forwarder, contract=contract, code="completed")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED and contract.completed_at is not None
    assert list(contract.milestones.values_list("code", flat=True)) == ["picked_up", "departed", "completed"]
    with pytest.raises(ValidationError):  # nothing more on a completed contract
        services.record_milestone(actor=forwarder, contract=contract, code="arrived")
    assert Notification.objects.filter(user=cast.exporter, kind="marketplace.milestone").count() == 3


def test_only_the_provider_records_milestones_and_with_a_known_code(cast, contract, forwarder, exporter):
    with pytest.raises(PermissionDenied):
        services.record_milestone(actor=exporter, contract=contract, code="departed")
    with pytest.raises(ValidationError) as raised:
        services.record_milestone(
            actor=forwarder, contract=contract, code="teleported", at=timezone.now() + dt.timedelta(days=1)
        )
    assert set(raised.value.message_dict) == {"code", "at"}


# -- invoices ---------------------------------------------------------------------------------------------


def test_an_invoice_is_compared_with_the_quote_line_by_line(contract, forwarder):
    invoice = services.raise_invoice(
        actor=forwarder,
        contract=contract,
        number="SF-2026-118",
        issued_on=timezone.localdate(),
        lines=[
            {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
            {"code": "BAF", "description": "Bunker surcharge", "amount": "210.00"},
            {"code": "CON", "description": "Congestion surcharge", "amount": "75.00"},
        ],
    )
    assert invoice.total == Decimal("2385.00") and invoice.variance == Decimal("-135.00")
    diff = {d.code: d for d in queries.invoice_against_quote(invoice, contract.quote)}
    assert (diff["FRT"].status, diff["FRT"].difference) == ("same", Decimal("0"))
    assert (diff["BAF"].status, diff["BAF"].difference) == ("changed", Decimal("30.00"))
    assert (diff["CON"].status, diff["CON"].quoted, diff["CON"].difference) == (
        "added",
        None,
        Decimal("75.00"),
    )
    assert (diff["THC"].status, diff["THC"].invoiced, diff["THC"].difference) == (
        "missing",
        None,
        Decimal("-240.00"),
    )
    assert sum(d.difference for d in diff.values()) == invoice.variance


def test_an_invoice_is_in_the_contracts_currency_with_a_number_used_once(contract, forwarder, exporter):
    values = dict(contract=contract, number="SF-1", issued_on=timezone.localdate(), lines=LINES)
    with pytest.raises(ValidationError) as raised:
        services.raise_invoice(actor=forwarder, currency="USD", **values)
    assert "currency" in raised.value.message_dict
    services.raise_invoice(actor=forwarder, **values)
    with pytest.raises(ValidationError):
        services.raise_invoice(actor=forwarder, **values)
    with pytest.raises(PermissionDenied):
        services.raise_invoice(actor=exporter, **{**values, "number": "SF-2"})


# -- ratings and claims, and the provider's quality ------------------------------------------------------


def test_a_completed_contract_is_rated_once(cast, contract, forwarder, exporter):
    with pytest.raises(ValidationError):  # not completed yet
        services.rate_contract(actor=exporter, contract=contract, stars=5)
    services.record_milestone(actor=forwarder, contract=contract, code="completed")
    contract.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.rate_contract(actor=forwarder, contract=contract, stars=5)
    with pytest.raises(ValidationError):
        services.rate_contract(actor=exporter, contract=contract, stars=6)
    rating = services.rate_contract(actor=exporter, contract=contract, stars=4, comment="On time")
    assert rating.stars == 4
    with pytest.raises(ValidationError):
        services.rate_contract(actor=exporter, contract=contract, stars=5)


def test_the_msme_opens_claims(cast, contract, forwarder, exporter):
    claim = services.open_claim(actor=exporter, contract=contract, reason="Two bags wet", amount="310.40")
    assert claim.amount == Decimal("310.40") and claim.status == "open"
    assert Notification.objects.filter(organisation=cast.forwarder_org, kind="marketplace.claim").exists()
    with pytest.raises(PermissionDenied):
        services.open_claim(actor=forwarder, contract=contract, reason="x")
    with pytest.raises(ValidationError):
        services.open_claim(actor=exporter, contract=contract, reason=" ")


def test_each_event_recomputes_the_providers_quality_after_commit(
    cast, contract, forwarder, exporter, django_capture_on_commit_callbacks
):
    Provider.objects.filter(organisation=cast.forwarder_org).update(kpis_at=None, kpis={})
    with django_capture_on_commit_callbacks(execute=True):
        services.record_milestone(actor=forwarder, contract=contract, code="completed")
    provider = Provider.objects.get(organisation=cast.forwarder_org)
    assert provider.kpis_at is not None
    first = provider.kpis_at
    contract.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.rate_contract(actor=exporter, contract=contract, stars=2)
    assert Provider.objects.get(organisation=cast.forwarder_org).kpis_at > first
