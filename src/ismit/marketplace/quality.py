"""Measured service quality of providers: KPIs from the record, and a score from 0 to 100.

The formula (also in docs/marketplace.md, "Quality score and ranking", and on every provider's profile):

Five components, each a number from 0 to 1 measured over a number of observations n:

=================  ======  ===========================================================================
component          weight  one observation scores
=================  ======  ===========================================================================
on_time            30      a pick-up or a delivery against the contract's SLA: 1 on time, 0 late (a
                           milestone still missing after its due time counts as late)
rating             25      a rating of a completed contract: (stars − 1) / 4
invoice_accuracy   20      an invoice: 1 when not above the accepted quote, else 1 − overcharge % / 10
                           (0 from 10 % over)
response           15      an invitation: 1 when answered within 4 hours, 0 after 72 hours, linear
                           between; an invitation left unanswered past the RFQ's deadline scores 0
claims             10      a contract: 1 without a claim, 0 with one (claims rejected as unfounded do
                           not count)
=================  ======  ===========================================================================

Each component's mean is shrunk toward a neutral 0.5 with a prior worth K = 5 observations:
``shrunk = (sum of scores + 0.5 × K) / (n + K)``, so that a provider with no record scores 50, and a few
good or bad observations move it only part of the way. ``score = Σ weight × shrunk`` (0–100, two decimals).
The quote acceptance rate is measured and shown, but not scored: it reflects the MSMEs' choices (mostly
price) rather than the provider's service.
"""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from ismit.marketplace.models import (
    Claim,
    ClaimStatus,
    Contract,
    ContractStatus,
    Milestone,
    Provider,
    ProviderInvoice,
    Quote,
    QuoteKind,
    QuoteStatus,
    Rating,
    RfqInvitation,
)

WEIGHTS: dict[str, int] = {
    "on_time": 30,
    "rating": 25,
    "invoice_accuracy": 20,
    "response": 15,
    "claims": 10,
}
PRIOR = 0.5  # the neutral value a component starts from
PRIOR_WEIGHT = 5  # how many observations the prior is worth
FAST_RESPONSE_H = 4.0
SLOW_RESPONSE_H = 72.0
OVERCHARGE_ZERO_PCT = 10.0  # an invoice this much above its quote scores 0


def _shrunk(total: float, n: int) -> float:
    return (total + PRIOR * PRIOR_WEIGHT) / (n + PRIOR_WEIGHT)


def score_from(components: dict[str, tuple[float, int]]) -> Decimal:
    """The score (0–100) from {component: (sum of observation scores, number of observations)}."""
    score = sum(weight * _shrunk(*components.get(name, (0.0, 0))) for name, weight in WEIGHTS.items())
    return Decimal(str(score)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _response_score(hours: float) -> float:
    if hours <= FAST_RESPONSE_H:
        return 1.0
    if hours >= SLOW_RESPONSE_H:
        return 0.0
    return (SLOW_RESPONSE_H - hours) / (SLOW_RESPONSE_H - FAST_RESPONSE_H)


def _on_time(contracts: list[Contract], milestones: dict[int, dict[str, dt.datetime]], now: dt.datetime):
    """(on time, observations): pick-up within sla.pickup_within_days of the contract; delivery within
    sla.transit_days of the pick-up (of the contract when no pick-up was recorded)."""
    on_time = observed = 0
    for contract in contracts:
        sla = contract.sla or {}
        done = milestones.get(contract.id, {})
        closed = contract.status != ContractStatus.ACTIVE
        picked_up = done.get("picked_up")
        pickup_days = sla.get("pickup_within_days")
        if pickup_days is not None:
            due = contract.created_at + dt.timedelta(days=int(pickup_days))
            if picked_up is not None:
                observed += 1
                on_time += picked_up <= due
            elif now > due and not closed:
                observed += 1  # late and still not picked up
        transit_days = sla.get("transit_days")
        delivered = done.get("delivered")
        if transit_days is not None:
            start = picked_up or contract.created_at
            due = start + dt.timedelta(days=int(transit_days))
            if delivered is not None:
                observed += 1
                on_time += delivered <= due
            elif picked_up is not None and now > due and not closed:
                observed += 1
    return on_time, observed


@transaction.atomic
def refresh_provider(organisation_id: int) -> Provider:
    """Recompute the provider's KPIs and quality score from its record (invitations answered and how fast,
    quotes accepted, milestones against the SLA, invoices against quotes, claims, ratings) and save them
    on its Provider row (created if missing). Called by services after every event that changes a KPI."""
    now = timezone.now()
    provider, _ = Provider.objects.select_for_update().get_or_create(organisation_id=organisation_id)

    # Response: invitations answered (and how fast), or left unanswered past the deadline.
    response_total, response_n, hours = 0.0, 0, []
    invitations = RfqInvitation.objects.filter(provider_id=organisation_id).values_list(
        "invited_at", "responded_at", "rfq__deadline"
    )
    unanswered = 0
    for invited_at, responded_at, deadline in invitations:
        if responded_at is not None:
            h = max((responded_at - invited_at).total_seconds() / 3600, 0.0)
            hours.append(h)
            response_total += _response_score(h)
            response_n += 1
        elif deadline is not None and deadline < now:
            unanswered += 1
            response_n += 1

    # Quote acceptance: accepted / firm quotes decided.
    decided = list(
        Quote.objects.filter(
            provider_id=organisation_id,
            kind=QuoteKind.FIRM,
            status__in=(QuoteStatus.ACCEPTED, QuoteStatus.DECLINED),
        ).values_list("status", flat=True)
    )
    accepted = sum(1 for status in decided if status == QuoteStatus.ACCEPTED)

    # On time against the SLA.
    contracts = list(
        Contract.objects.filter(provider_id=organisation_id).exclude(status=ContractStatus.CANCELLED)
    )
    milestones: dict[int, dict[str, dt.datetime]] = {}
    for contract_id, code, at in Milestone.objects.filter(
        contract__provider_id=organisation_id, code__in=("picked_up", "delivered")
    ).values_list("contract_id", "code", "at"):
        first = milestones.setdefault(contract_id, {})
        if code not in first or at < first[code]:
            first[code] = at
    on_time, on_time_n = _on_time(contracts, milestones, now)

    # Claims per contract (claims rejected as unfounded do not count).
    claimed = list(
        Claim.objects.filter(contract__provider_id=organisation_id)
        .exclude(status=ClaimStatus.REJECTED)
        .values_list("contract_id", flat=True)
    )
    claim_count = len(claimed)
    claimed_contracts = set(claimed)
    claims_total = sum(1 for c in contracts if c.id not in claimed_contracts)

    # Invoices against the accepted quote.
    invoice_total, invoices_n, above, overcharges = 0.0, 0, 0, []
    for variance, price in ProviderInvoice.objects.filter(contract__provider_id=organisation_id).values_list(
        "variance", "contract__price"
    ):
        invoices_n += 1
        if variance > 0 and price:
            pct = float(variance / price * 100)
            above += 1
            overcharges.append(pct)
            invoice_total += max(0.0, 1 - pct / OVERCHARGE_ZERO_PCT)
        else:
            invoice_total += 1.0

    # Ratings.
    stars = list(Rating.objects.filter(contract__provider_id=organisation_id).values_list("stars", flat=True))

    components = {
        "on_time": (float(on_time), on_time_n),
        "rating": (sum((s - 1) / 4 for s in stars), len(stars)),
        "invoice_accuracy": (invoice_total, invoices_n),
        "response": (response_total, response_n),
        "claims": (float(claims_total), len(contracts)),
    }
    provider.kpis = {
        "on_time_rate": _ratio(on_time, on_time_n),
        "on_time_observations": on_time_n,
        "quote_acceptance_rate": _ratio(accepted, len(decided)),
        "firm_quotes_decided": len(decided),
        "median_response_hours": round(statistics.median(hours), 1) if hours else None,
        "invitations_answered": len(hours),
        "invitations_unanswered": unanswered,
        "contracts": len(contracts),
        "claims": claim_count,
        "claims_per_contract": _ratio(claim_count, len(contracts)),
        "invoices": invoices_n,
        "invoices_above_quote_share": _ratio(above, invoices_n),
        "mean_overcharge_pct": round(statistics.fmean(overcharges), 2) if overcharges else None,
        "mean_rating": round(statistics.fmean(stars), 2) if stars else None,
        "ratings": len(stars),
        "components": {
            name: {"observations": n, "mean": _ratio_f(total, n), "shrunk": round(_shrunk(total, n), 4)}
            for name, (total, n) in components.items()
        },
    }
    provider.quality_score = score_from(components)
    provider.kpis_at = now
    provider.save(update_fields=["kpis", "quality_score", "kpis_at"])
    return provider


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _ratio_f(total: float, n: int) -> float | None:
    return round(total / n, 4) if n else None
