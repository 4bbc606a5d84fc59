"""Providers' standing: entry, suspension (with its effects on open business), reinstatement and exit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Membership, Notification, Role
from ismit.audit.models import AuditEvent
from ismit.marketplace import catalogue_queries as queries
from ismit.marketplace import catalogue_services as services
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.matching import match_offerings
from ismit.marketplace.models import ContractStatus, Provider, QuoteKind, QuoteStatus, ServiceOffering
from ismit.marketplace.tests.support import make_contract, make_firm_quote, make_offering, make_rfq

pytestmark = pytest.mark.django_db

CARGO = CargoSpec(origin_country="CI", destination_country="FR", mode="1", gross_mass_kg=1000)


def matched(org) -> bool:
    found = match_offerings(service_type="carriage", cargo=CARGO, on=timezone.localdate())
    return any(o.organisation_id == org.pk for o in found)


@pytest.fixture
def operator(cast):
    return actor_for(cast.operator)


@pytest.fixture
def business(cast):
    """The forwarder with a contract in progress, a submitted firm quote and an open invitation, each with the
    cast's MSME."""
    make_offering(cast.forwarder_org)
    contract = make_contract(cast.msme, provider=cast.forwarder_org)
    quote = make_firm_quote(cast.msme, provider=cast.forwarder_org)
    rfq = make_rfq(cast.msme, provider=cast.forwarder_org)
    return contract, quote, rfq


def test_operator_suspends_a_provider_with_a_reason(cast, operator, business):
    contract, quote, rfq = business
    assert matched(cast.forwarder_org)
    with pytest.raises(ValidationError):
        services.suspend_provider(actor=operator, organisation=cast.forwarder_org, reason="  ")
    change = services.suspend_provider(
        actor=operator, organisation=cast.forwarder_org, reason="Licence expired"
    )
    provider = Provider.objects.get(organisation=cast.forwarder_org)
    assert provider.status == "suspended" and provider.status_reason == "Licence expired"
    assert provider.status_changed_by == cast.operator
    # no new requests
    assert not matched(cast.forwarder_org)
    # open business withdrawn
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.WITHDRAWN
    invitation = rfq.invitations.get(provider=cast.forwarder_org)
    assert invitation.declined
    assert not rfq.quotes.filter(provider=cast.forwarder_org, status=QuoteStatus.SUBMITTED).exists()
    # the contract in progress stays in force
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    # the MSME is told, once, and may cancel; the provider is told too
    assert change.notified_organisations == (cast.msme.pk,)
    notices = Notification.objects.filter(organisation=cast.msme, kind="marketplace.provider_suspended")
    assert notices.count() == Membership.objects.filter(organisation=cast.msme).count()  # one per member
    assert all("Licence expired" in str(n.body) for n in notices)
    assert Notification.objects.filter(organisation=cast.forwarder_org, kind="marketplace.provider_suspended")
    event = AuditEvent.objects.get(action="marketplace.provider_suspended")
    assert event.changes["status"] == ["active", "suspended"] and event.changes["reason"] == "Licence expired"
    assert change.withdrawn_quotes >= 1 and change.declined_invitations >= 1


def test_only_operators_suspend_reinstate_or_record_an_exit(cast):
    make_offering(cast.forwarder_org)
    for user in (cast.forwarder, cast.exporter, cast.broker, cast.stranger):
        actor = actor_for(user)
        with pytest.raises(PermissionDenied):
            services.suspend_provider(actor=actor, organisation=cast.forwarder_org, reason="x")
        with pytest.raises(PermissionDenied):
            services.record_provider_exit(actor=actor, organisation=cast.forwarder_org, reason="x")
        with pytest.raises(PermissionDenied):
            services.reinstate_provider(actor=actor, organisation=cast.forwarder_org)
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "active"


def test_reinstated_provider_matches_again(cast, operator):
    make_offering(cast.forwarder_org)
    services.suspend_provider(
        actor=operator, organisation=cast.forwarder_org, reason="Complaints under review"
    )
    with pytest.raises(ValidationError):
        services.suspend_provider(actor=operator, organisation=cast.forwarder_org, reason="again")
    services.reinstate_provider(actor=operator, organisation=cast.forwarder_org, reason="Cleared")
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "active"
    assert matched(cast.forwarder_org)
    with pytest.raises(ValidationError):
        services.reinstate_provider(actor=operator, organisation=cast.forwarder_org)
    assert AuditEvent.objects.filter(action="marketplace.provider_reinstated").count() == 1


def test_exit_deactivates_offerings_and_tells_the_msmes(cast, operator, business):
    contract, quote, _rfq = business
    services.record_provider_exit(actor=operator, organisation=cast.forwarder_org, reason="Ceased trading")
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "left"
    assert not ServiceOffering.objects.filter(organisation=cast.forwarder_org, active=True).exists()
    notices = Notification.objects.filter(organisation=cast.msme, kind="marketplace.provider_left")
    assert notices.count() == Membership.objects.filter(organisation=cast.msme).count()
    quote.refresh_from_db()
    contract.refresh_from_db()
    assert quote.status == QuoteStatus.WITHDRAWN and contract.status == ContractStatus.ACTIVE
    # it cannot publish again until reinstated
    with pytest.raises(ValidationError):
        make_offering_via_service(cast)


def make_offering_via_service(cast):
    from ismit.marketplace.tests.test_catalogue_services import offering_data

    return services.create_offering(
        actor=actor_for(cast.forwarder), organisation=cast.forwarder_org, data=offering_data()
    )


def test_a_provider_leaves_by_itself_owners_only(cast, business):
    Membership.objects.create(user=cast.colleague, organisation=cast.forwarder_org, role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        services.leave_marketplace(actor=actor_for(cast.colleague), organisation=cast.forwarder_org)
    change = services.leave_marketplace(actor=actor_for(cast.forwarder), organisation=cast.forwarder_org)
    assert change.provider.status == "left" and change.deactivated_offerings >= 1
    assert AuditEvent.objects.filter(action="marketplace.provider_left", actor_id=cast.forwarder.pk).exists()
    with pytest.raises(ValidationError):
        services.leave_marketplace(actor=actor_for(cast.forwarder), organisation=cast.forwarder_org)


def test_operator_admits_a_verified_provider_before_its_first_offering(cast, operator):
    provider = services.admit_provider(actor=operator, organisation=cast.bank)
    assert provider.status == "active"
    with pytest.raises(ValidationError):
        services.admit_provider(actor=operator, organisation=cast.msme)
    with pytest.raises(PermissionDenied):
        services.admit_provider(actor=actor_for(cast.banker), organisation=cast.bank)


def test_a_suspended_provider_is_hidden_from_others_but_not_from_itself_or_operators(cast, operator):
    make_offering(cast.forwarder_org)
    services.suspend_provider(actor=operator, organisation=cast.forwarder_org, reason="Under review")
    for user in (cast.exporter, cast.broker):
        with pytest.raises(Http404):
            queries.get_provider_for(actor_for(user), cast.forwarder_org.pk)
        assert cast.forwarder_org.pk not in [
            p.organisation_id for p in queries.provider_directory(actor_for(user))
        ]
    assert queries.get_provider_for(actor_for(cast.forwarder), cast.forwarder_org.pk).status == "suspended"
    assert queries.get_provider_for(operator, cast.forwarder_org.pk).status == "suspended"


def test_every_submitted_quote_is_withdrawn_indicative_ones_too(cast, operator, business):
    """Every submitted quote of the provider goes, indicative ones included: none stays open to acceptance."""
    services.suspend_provider(actor=operator, organisation=cast.forwarder_org, reason="x")
    from ismit.marketplace.models import Quote

    assert not Quote.objects.filter(
        provider=cast.forwarder_org,
        status=QuoteStatus.SUBMITTED,
        kind__in=[QuoteKind.FIRM, QuoteKind.INDICATIVE],
    ).exists()
