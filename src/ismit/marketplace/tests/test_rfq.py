"""Requests for quotation: matching and invitations, indicative and firm quotes, the comparison, closing."""

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
from ismit.marketplace.models import Provider, Quote, QuoteKind, QuoteStatus, Rfq, RfqInvitation, RfqStatus
from ismit.marketplace.tests.support import forwarder_for, make_offering, make_provider

pytestmark = pytest.mark.django_db

LINES = [
    {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
    {"code": "BAF", "description": "Bunker surcharge", "amount": "180.50"},
]


@pytest.fixture
def forwarder(cast):
    make_offering(cast.forwarder_org, transit_days=21)
    return actor_for(cast.forwarder)


def deadline(days: int = 3) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def request_carriage(cast, trade, **overrides) -> Rfq:
    values = dict(
        actor=actor_for(cast.exporter),
        trade=trade,
        services=["carriage"],
        cargo={"volume_m3": "32.5", "containers": {"20": 1}},
        deadline=deadline(),
        notes="Bags on pallets",
    )
    values.update(overrides)
    return services.create_rfq(**values)


def firm(forwarder, rfq, **overrides) -> Quote:
    values = dict(
        actor=forwarder,
        rfq=rfq,
        service_type="carriage",
        lines=LINES,
        currency="EUR",
        valid_until=timezone.localdate() + dt.timedelta(days=30),
        transit_days=20,
        terms="Door to door",
    )
    values.update(overrides)
    return services.submit_quote(**values)


# -- the request --------------------------------------------------------------------------------------------


def test_the_cargo_comes_from_the_trade(cashew_trade):
    cargo = queries.cargo_from_trade(cashew_trade)
    assert (cargo.origin_country, cargo.origin_location) == ("CI", "CIABJ")
    assert (cargo.destination_country, cargo.destination_location) == ("FR", "FRMRS")
    assert cargo.mode == "1" and cargo.incoterm == "CIF"
    assert cargo.gross_mass_kg == Decimal("20570") and cargo.packages == 812
    assert cargo.goods_value == Decimal("100250.00") and cargo.value_currency == "EUR"
    assert cargo.ready_date == cashew_trade.planned_departure
    assert cargo.description.startswith("Cashew kernels W320, shelled (HS 0801.32)")


def test_a_request_invites_each_matching_provider_once_with_its_cheapest_offering(
    cast, cashew_trade, forwarder
):
    cheaper = make_offering(cast.forwarder_org, name="Cheaper", rates=(("FRT", "kg", "0.30", False),))
    other = forwarder_for()
    rfq = request_carriage(cast, cashew_trade)

    invitations = {i.provider_id: i for i in rfq.invitations.all()}
    assert set(invitations) == {cast.forwarder_org.pk, other.pk}
    assert invitations[cast.forwarder_org.pk].offering_id == cheaper.pk
    quotes = {q.provider_id: q for q in rfq.quotes.all()}
    ours = quotes[cast.forwarder_org.pk]
    assert ours.kind == QuoteKind.INDICATIVE and ours.status == QuoteStatus.SUBMITTED
    assert ours.total == sum(Decimal(line["amount"]) for line in ours.lines)
    assert ours.total == Decimal("6171.00")  # 20,570 kg at 0.30
    # The MSME's additions are in the cargo summary the providers see.
    assert rfq.cargo["volume_m3"] == "32.5" and rfq.cargo["containers"] == {"20": 1}
    assert rfq.reference.startswith(f"RFQ-{timezone.localdate().year}-")
    # Each invited provider is told, in its members' language; the request is in both audit logs.
    assert Notification.objects.filter(
        organisation=cast.forwarder_org, kind="marketplace.rfq_invitation"
    ).exists()
    assert (
        AuditEvent.objects.filter(action="marketplace.rfq_created", organisation_id=cast.msme.pk).count() == 1
    )
    assert AuditEvent.objects.filter(
        action="marketplace.rfq_invitation", organisation_id=cast.forwarder_org.pk
    ).exists()


def test_no_invitation_to_a_suspended_or_unverified_provider_nor_outside_the_lane(
    cast, cashew_trade, forwarder
):
    suspended = forwarder_for()
    make_provider(suspended, status="suspended")
    unverified = forwarder_for()
    unverified.verification_status = "pending"
    unverified.save()
    elsewhere = forwarder_for()
    elsewhere.offerings.update(active=False)
    make_offering(elsewhere, lanes=(("KE", "", "NL", ""),))

    rfq = request_carriage(cast, cashew_trade)
    assert list(rfq.invitations.values_list("provider_id", flat=True)) == [cast.forwarder_org.pk]


def test_an_unverified_msme_cannot_send_a_request(cast, cashew_trade, forwarder):
    cast.msme.verification_status = "pending"
    cast.msme.save()
    with pytest.raises(PermissionDenied):
        request_carriage(cast, cashew_trade)
    assert not Rfq.objects.exists()


def test_a_read_only_member_cannot_send_a_request(cast, cashew_trade, forwarder):
    with pytest.raises(PermissionDenied):
        request_carriage(cast, cashew_trade, actor=actor_for(cast.viewer))


def test_a_request_is_checked_field_by_field(cast, cashew_trade, forwarder):
    with pytest.raises(ValidationError) as raised:
        request_carriage(
            cast,
            cashew_trade,
            services=["carriage", "teleportation"],
            deadline=timezone.now() - dt.timedelta(hours=1),
            cargo={"volume_m3": "-1", "containers": {"45": 2}},
            currency="XXZ",
        )
    assert set(raised.value.message_dict) == {
        "services",
        "deadline",
        "cargo.volume_m3",
        "cargo.containers",
        "currency",
    }


# -- firm quotes ------------------------------------------------------------------------------------------


def test_a_firm_quote_is_all_in_and_replaces_the_providers_previous_one(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    first = firm(forwarder, rfq)
    assert first.kind == QuoteKind.FIRM and first.total == Decimal("2280.50")
    assert [line["code"] for line in first.lines] == ["FRT", "BAF"]
    second = firm(forwarder, rfq, lines=[*LINES, {"code": "thc", "description": "Handling", "amount": "99"}])
    first.refresh_from_db()
    assert first.status == QuoteStatus.WITHDRAWN
    assert second.total == Decimal("2379.50") and second.lines[2]["code"] == "THC"
    invitation = RfqInvitation.objects.get(rfq=rfq, provider=cast.forwarder_org)
    assert invitation.responded_at is not None
    # The indicative quote stays, marked as such; one firm quote of the provider is submitted.
    submitted = Quote.objects.filter(rfq=rfq, provider=cast.forwarder_org, status=QuoteStatus.SUBMITTED)
    assert sorted(submitted.values_list("kind", flat=True)) == ["firm", "indicative"]
    assert Notification.objects.filter(organisation=cast.msme, kind="marketplace.quote_submitted").exists()


def test_no_firm_quote_after_the_deadline(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    Rfq.objects.filter(pk=rfq.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    rfq.refresh_from_db()
    with pytest.raises(ValidationError):
        firm(forwarder, rfq)


def test_a_provider_that_was_not_invited_cannot_quote(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    with pytest.raises(PermissionDenied):
        firm(actor_for(cast.broker), rfq)
    with pytest.raises(PermissionDenied):
        firm(forwarder, rfq, service_type="insurance")


def test_a_firm_quote_itemises_every_charge(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    with pytest.raises(ValidationError) as raised:
        firm(
            forwarder, rfq, lines=[{"code": "", "description": "", "amount": "abc"}], valid_until="2001-01-01"
        )
    assert {"lines[0].code", "lines[0].description", "lines[0].amount", "valid_until"} <= set(
        raised.value.message_dict
    )
    with pytest.raises(ValidationError):
        firm(forwarder, rfq, lines=[])


def test_declining_withdraws_the_providers_quotes(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    invitation = RfqInvitation.objects.get(rfq=rfq, provider=cast.forwarder_org)
    services.decline_invitation(actor=forwarder, invitation=invitation, reason="No space that week")
    invitation.refresh_from_db()
    assert invitation.declined and invitation.responded_at
    assert not Quote.objects.filter(
        rfq=rfq, provider=cast.forwarder_org, status=QuoteStatus.SUBMITTED
    ).exists()
    with pytest.raises(ValidationError):
        firm(forwarder, rfq)
    with pytest.raises(PermissionDenied):
        services.decline_invitation(actor=actor_for(cast.exporter), invitation=invitation)


# -- comparison -------------------------------------------------------------------------------------------


def test_quotes_are_compared_in_the_msmes_currency_with_the_rate_and_its_date(cast, cashew_trade, forwarder):
    rfq = request_carriage(cast, cashew_trade)
    in_usd = firm(
        forwarder, rfq, lines=[{"code": "FRT", "description": "Freight", "amount": "1122.50"}], currency="USD"
    )
    [carriage] = queries.compare_quotes(rfq, "price")
    row = next(r for r in carriage.quotes if r.quote.pk == in_usd.pk)
    assert row.currency == "USD" and row.total == Decimal("1122.50")
    assert row.converted == Decimal("1000.00") and row.rate is not None and row.rate_date is not None
    assert row.firm is True
    indicative = next(r for r in carriage.quotes if r.quote.kind == "indicative")
    assert indicative.firm is False and indicative.rate == Decimal(1)


def test_the_comparison_is_ordered_by_the_chosen_criterion_only_ties_by_quote_id(
    cast, cashew_trade, forwarder
):
    others = [forwarder_for() for _ in range(2)]
    rfq = request_carriage(cast, cashew_trade)
    Quote.objects.filter(rfq=rfq).delete()  # firm quotes only, to know every value
    a = firm(forwarder, rfq, lines=[{"code": "FRT", "description": "F", "amount": "900"}], transit_days=30)
    b = firm(
        actor_for(others[0].memberships.get().user),
        rfq,
        lines=[{"code": "FRT", "description": "F", "amount": "1200"}],
        transit_days=12,
    )
    c = firm(
        actor_for(others[1].memberships.get().user),
        rfq,
        lines=[{"code": "FRT", "description": "F", "amount": "900"}],
        transit_days=12,
    )
    Provider.objects.filter(organisation=cast.forwarder_org).update(quality_score=Decimal("60"))
    Provider.objects.filter(organisation=others[0]).update(quality_score=Decimal("90"))
    Provider.objects.filter(organisation=others[1]).update(quality_score=None)

    def order(sort):
        return [row.quote.pk for row in queries.compare_quotes(rfq, sort)[0].quotes]

    assert order("price") == [a.pk, c.pk, b.pk]  # a and c tie at 900: by quote id
    assert order("transit") == [b.pk, c.pk, a.pk]
    assert order("quality") == [b.pk, a.pk, c.pk]  # no score yet: last
    assert order("anything else") == order("price")


# -- closing ------------------------------------------------------------------------------------------------


def test_requests_past_their_deadline_are_closed_by_the_periodic_task(cast, cashew_trade, forwarder):
    from ismit.marketplace.tasks import close_expired_rfqs_task

    due = request_carriage(cast, cashew_trade)
    later = request_carriage(cast, cashew_trade, deadline=deadline(5))
    Rfq.objects.filter(pk=due.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    assert close_expired_rfqs_task() == 1
    assert Rfq.objects.get(pk=due.pk).status == RfqStatus.CLOSED
    assert Rfq.objects.get(pk=later.pk).status == RfqStatus.OPEN
    assert close_expired_rfqs_task() == 0
    assert AuditEvent.objects.filter(action="marketplace.rfq_closed").count() == 1
