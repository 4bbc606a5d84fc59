"""Providers' KPIs and quality score."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from ismit.marketplace import quality
from ismit.marketplace.models import (
    Claim,
    Contract,
    Milestone,
    ProviderInvoice,
    Quote,
    Rating,
    Rfq,
    RfqInvitation,
)

NOW = timezone.now()


@pytest.fixture
def record(cast, cashew_trade):
    """record(...) writes one contract of the forwarder with the MSME, with what happened on it."""
    counter = iter(range(1, 1000))

    def make(
        *,
        created_days_ago: float = 20,
        sla: dict | None = None,
        picked_up_days: float | None = None,
        delivered_days: float | None = None,
        status: str = "active",
        invoice_total: str | None = None,
        stars: int | None = None,
        claim: str | None = None,
        quote_status: str = "accepted",
        responded_hours: float | None = 2,
    ):
        n = next(counter)
        created = NOW - dt.timedelta(days=created_days_ago)
        rfq = Rfq.objects.create(
            organisation=cast.msme,
            trade=cashew_trade,
            reference=f"RFQ-{n}",
            services=["carriage"],
            currency_id="EUR",
            deadline=created - dt.timedelta(days=1),
        )
        RfqInvitation.objects.create(
            rfq=rfq,
            provider=cast.forwarder_org,
            service_type="carriage",
            invited_at=created - dt.timedelta(days=3),
            responded_at=(
                created - dt.timedelta(days=3) + dt.timedelta(hours=responded_hours)
                if responded_hours is not None
                else None
            ),
        )
        quote = Quote.objects.create(
            rfq=rfq,
            provider=cast.forwarder_org,
            service_type="carriage",
            kind="firm",
            status=quote_status,
            currency_id="EUR",
            total=Decimal("1000.00"),
            valid_until=created.date(),
        )
        if quote_status != "accepted":
            return None
        contract = Contract.objects.create(
            organisation=cast.msme,
            provider=cast.forwarder_org,
            trade=cashew_trade,
            rfq=rfq,
            quote=quote,
            reference=f"CTR-{n}",
            service_type="carriage",
            currency_id="EUR",
            price=Decimal("1000.00"),
            sla=sla if sla is not None else {"pickup_within_days": 3, "transit_days": 10},
            status=status,
            created_at=created,
        )
        for code, days in (("picked_up", picked_up_days), ("delivered", delivered_days)):
            if days is not None:
                Milestone.objects.create(contract=contract, code=code, at=created + dt.timedelta(days=days))
        if invoice_total is not None:
            total = Decimal(invoice_total)
            ProviderInvoice.objects.create(
                contract=contract,
                number=f"INV-{n}",
                issued_on=created.date(),
                currency_id="EUR",
                total=total,
                variance=total - contract.price,
            )
        if stars is not None:
            Rating.objects.create(contract=contract, stars=stars)
        if claim is not None:
            Claim.objects.create(contract=contract, reason="damaged", status=claim)
        return contract

    return make


@pytest.mark.django_db
def test_a_provider_without_a_record_scores_the_neutral_50_and_gets_a_provider_row(cast):
    provider = quality.refresh_provider(cast.forwarder_org.id)
    assert provider.organisation_id == cast.forwarder_org.id
    assert provider.quality_score == Decimal("50.00")
    assert provider.kpis["contracts"] == 0
    assert provider.kpis["mean_rating"] is None
    assert provider.kpis_at is not None


@pytest.mark.django_db
def test_on_time_against_the_sla(cast, record):
    record(picked_up_days=2, delivered_days=11)  # pick-up on time, delivery 9 days after: on time
    record(picked_up_days=4, delivered_days=16)  # both late
    record(created_days_ago=10)  # no pick-up 10 days in: late
    record(created_days_ago=1)  # not due yet: not counted
    kpis = quality.refresh_provider(cast.forwarder_org.id).kpis
    assert kpis["on_time_observations"] == 5
    assert kpis["on_time_rate"] == 0.4


@pytest.mark.django_db
def test_acceptance_response_claims_invoices_and_ratings(cast, record):
    record(invoice_total="1000.00", stars=5, responded_hours=1)
    record(invoice_total="1050.00", stars=3, claim="open", responded_hours=5)
    record(invoice_total="1200.00", claim="rejected", responded_hours=9)
    record(quote_status="declined", responded_hours=None)  # unanswered past the deadline
    kpis = quality.refresh_provider(cast.forwarder_org.id).kpis
    assert kpis["quote_acceptance_rate"] == 0.75
    assert kpis["firm_quotes_decided"] == 4
    assert kpis["median_response_hours"] == 5.0
    assert kpis["invitations_unanswered"] == 1
    assert kpis["contracts"] == 3
    assert kpis["claims"] == 1
    assert kpis["claims_per_contract"] == pytest.approx(0.3333, abs=1e-4)
    assert kpis["invoices_above_quote_share"] == pytest.approx(0.6667, abs=1e-4)
    assert kpis["mean_overcharge_pct"] == 12.5
    assert kpis["mean_rating"] == 4.0
    assert kpis["ratings"] == 2


@pytest.mark.django_db
def test_good_record_raises_the_score_and_bad_record_lowers_it(cast, record):
    for _ in range(3):
        record(picked_up_days=1, delivered_days=8, status="completed", invoice_total="1000.00", stars=5)
    good = quality.refresh_provider(cast.forwarder_org.id).quality_score
    assert good > Decimal(50)
    for _ in range(6):
        record(
            picked_up_days=6,
            delivered_days=30,
            invoice_total="1300.00",
            stars=1,
            claim="open",
            responded_hours=80,
        )
    bad = quality.refresh_provider(cast.forwarder_org.id).quality_score
    assert bad < Decimal(50) < good


def test_score_formula_with_known_numbers():
    # on time 4 of 5 → (4 + 2.5) / 10 = 0.65; nothing else observed (0.5 each)
    score = quality.score_from({"on_time": (4.0, 5)})
    assert score == Decimal("54.50")  # 30 × 0.65 + 70 × 0.5


@given(
    st.dictionaries(
        st.sampled_from(list(quality.WEIGHTS)),
        st.integers(0, 500).flatmap(lambda n: st.tuples(st.floats(0, n, allow_nan=False), st.just(n))),
    )
)
def test_score_stays_between_0_and_100(components):
    assert Decimal(0) <= quality.score_from(components) <= Decimal(100)


@given(st.integers(0, 200))
def test_more_perfect_observations_never_lower_a_component(n):
    assert quality.score_from({"rating": (float(n + 1), n + 1)}) >= quality.score_from(
        {"rating": (float(n), n)}
    )
