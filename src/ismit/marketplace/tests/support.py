"""Sample makers of the marketplace tests (each makes one object for an organisation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

# -- catalogue ---------------------------------------------------------------------------------------------


def make_provider(organisation, *, status: str = "active"):
    """The organisation's marketplace standing (a Provider row)."""
    from ismit.marketplace.models import Provider

    provider, _ = Provider.objects.get_or_create(organisation=organisation, defaults={"status": status})
    if provider.status != status:
        provider.status = status
        provider.save(update_fields=["status"])
    return provider


def make_offering(
    organisation,
    *,
    name: str = "Sea groupage Abidjan–France",
    service_type: str = "carriage",
    lanes: tuple[tuple[str, str, str, str], ...] = (("CI", "", "FR", ""),),
    rates: tuple[tuple[str, str, str, bool], ...] = (
        ("FRT", "kg", "0.45", False),
        ("MIN", "minimum", "150", False),
        ("BAF", "shipment", "35", True),
    ),
    currency: str = "EUR",
    modes: tuple[str, ...] = ("1",),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    provider: bool = True,
    **fields,
):
    """An offering of `organisation` (made a listed provider unless provider=False), with its lanes
    ((origin country, origin location, destination country, destination location)) and rate lines
    ((code, basis, amount, is surcharge))."""
    from ismit.marketplace.models import Lane, RateLine, ServiceOffering

    if provider:
        make_provider(organisation)
    today = timezone.localdate()
    offering = ServiceOffering.objects.create(
        organisation=organisation,
        name=name,
        service_type=service_type,
        modes=list(modes),
        currency_id=currency,
        valid_from=valid_from or today - dt.timedelta(days=30),
        valid_until=valid_until or today + dt.timedelta(days=335),
        **fields,
    )
    Lane.objects.bulk_create(
        Lane(
            offering=offering,
            origin_country=oc,
            origin_location=ol,
            destination_country=dc,
            destination_location=dl,
        )
        for oc, ol, dc, dl in lanes
    )
    RateLine.objects.bulk_create(
        RateLine(
            offering=offering,
            code=code,
            description=code,
            basis=basis,
            amount=Decimal(amount),
            is_surcharge=surcharge,
        )
        for code, basis, amount, surcharge in rates
    )
    return offering


def make_lane(organisation):
    """A lane of a new offering of `organisation`."""
    return make_offering(organisation).lanes.get()


def make_rate_line(organisation):
    """A rate line of a new offering of `organisation`."""
    return make_offering(organisation).rate_lines.first()


# -- requests for quotation, quotes, contracts ---------------------------------------------------------------


def _owner_actor(organisation):
    from ismit.accounts.actors import actor_for
    from ismit.accounts.models import Membership, Role

    membership = Membership.objects.filter(organisation=organisation, role=Role.OWNER).select_related("user")
    return actor_for(membership.first().user)


def make_trade(organisation):
    """A cashew export of `organisation` (its owner enters it)."""
    from ismit.trades.samples import cashew_export
    from ismit.trades.services import create_trade

    return create_trade(actor=_owner_actor(organisation), organisation=organisation, data=cashew_export())


def forwarder_for():
    """A verified forwarder with a carriage offering Abidjan–France (a new organisation each call)."""
    from ismit.accounts.models import Membership, Organisation, Role, User

    n = Organisation.objects.count() + 1
    user = User.objects.create_user(email=f"ops{n}@forwarder-{n}.example", password="x-sample-password-1")
    org = Organisation.objects.create(
        legal_name=f"Forwarder {n}",
        kind="provider",
        provider_types=["forwarder"],
        country="SN",
        city="Dakar",
        verification_status="verified",
    )
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    make_offering(org, transit_days=18)
    return org


def make_rfq(organisation, *, provider=None, services=("carriage",)):
    """An open RFQ of `organisation` (on a new trade of its own) with `provider` (default: a new forwarder)
    invited for carriage."""
    from ismit.marketplace.services import create_rfq

    provider = provider or forwarder_for()
    if not provider.offerings.exists():
        make_offering(provider)
    trade = make_trade(organisation)
    return create_rfq(
        actor=_owner_actor(organisation),
        trade=trade,
        services=list(services),
        cargo={"volume_m3": "30"},
        deadline=timezone.now() + dt.timedelta(days=3),
    )


def make_firm_quote(organisation, *, provider=None):
    """A firm quote on a new RFQ of `organisation` (the MSME), from `provider` (default: a new forwarder).
    The quote is the provider's: see quotes through either organisation."""
    from ismit.marketplace.services import submit_quote

    provider = provider or forwarder_for()
    rfq = make_rfq(organisation, provider=provider)
    invitation = rfq.invitations.get(provider=provider)
    return submit_quote(
        actor=_owner_actor(invitation.provider),
        rfq=rfq,
        service_type="carriage",
        lines=[
            {"code": "FRT", "description": "Ocean freight", "amount": "2100.00"},
            {"code": "BAF", "description": "Bunker surcharge", "amount": "180.00"},
            {"code": "THC", "description": "Terminal handling", "amount": "240.00"},
        ],
        currency="EUR",
        valid_until=timezone.localdate() + dt.timedelta(days=20),
        transit_days=18,
        terms="Door to door, customs not included",
    )


def make_invitation(organisation):
    """An invitation on a new RFQ of the MSME `organisation` (to a new forwarder)."""
    provider = forwarder_for()
    return make_rfq(organisation, provider=provider).invitations.get(provider=provider)


def make_contract(organisation, *, provider=None):
    """A contract of the MSME `organisation` with `provider` (default: a new forwarder), for carriage."""
    from ismit.marketplace.services import accept_quote

    quote = make_firm_quote(organisation, provider=provider)
    return accept_quote(actor=_owner_actor(organisation), quote=quote)


def make_contract_of_provider(provider_organisation, msme_organisation):
    """A contract in which `provider_organisation` is the provider (for a provider's isolation)."""
    if not provider_organisation.offerings.exists():
        make_offering(provider_organisation)
    return make_contract(msme_organisation, provider=provider_organisation)


def make_hidden_offering(organisation):
    """An inactive offering of `organisation`: only its members see it (others get 404 on every catalogue
    page and endpoint that names it, its lanes or its rate lines)."""
    return make_offering(organisation, name="Inactive offering", active=False)


def make_suspended_provider(organisation):
    """`organisation` as a suspended provider (with an offering): its profile and the operators' actions on
    it answer 404 to everybody but its members and operators."""
    make_offering(organisation, name="Offering of a suspended provider")
    return make_provider(organisation, status="suspended")
