"""JSON API of the marketplace app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

Requests for quotation, quotes and contracts:
- POST/GET /trades/{trade_id}/rfqs: request quotes for services of a trade (the trade's owner only);
- GET /marketplace/rfqs/{id}?sort=price|transit|quality: the RFQ and, for its MSME, the comparison of
  every quote; for an invited provider, the cargo summary with its own invitations and quotes;
- POST /marketplace/rfqs/{id}/quotes (provider): a firm quote; POST /marketplace/quotes/{id}/confirm
  (provider): confirm an indicative quote as firm; POST /marketplace/invitations/{id}/decline;
- POST /marketplace/quotes/{id}/accept (MSME): the contract;
- GET /marketplace/inbox (provider): the invitations received;
- GET /marketplace/contracts, GET /marketplace/contracts/{id}, GET …/shared-data (logged for the provider),
  POST …/milestones and …/invoices (provider), POST …/rating and …/claims (MSME).

What an actor may not see is 404; what it sees but may not change is 403. Creating writes honour
Idempotency-Key.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of
from ismit.lib.api import PagePagination
from ismit.lib.idempotency import idempotent
from ismit.lib.scoping import VIEW
from ismit.marketplace import queries, services
from ismit.marketplace.models import Contract, Quote, RfqInvitation

router = Router(tags=["marketplace"])


# -- schemas ----------------------------------------------------------------------------------------------


class CargoIn(Schema):
    volume_m3: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=3)
    containers: dict[str, int] = Field(default_factory=dict, description='{"20": n, "40": n, "40HC": n}')
    dangerous_goods: bool = False
    temperature_control: bool = False


class RfqCreateIn(Schema):
    services: list[str] = Field(
        description="carriage, customs_brokerage, warehousing, insurance, trade_finance", min_length=1
    )
    deadline: dt.datetime = Field(description="Quotes due by (ISO 8601 with a time zone)")
    cargo: CargoIn | None = Field(None, description="What the trade does not say: volume, containers …")
    notes: str = Field("", max_length=2000)
    currency: str | None = Field(None, max_length=3, description="Quotes compared in (default: the trade's)")


class LineIn(Schema):
    code: str = Field(max_length=12, description="FRT, BAF, THC, DOC, INS …")
    description: str = Field(max_length=120)
    amount: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    basis: str = Field("shipment", max_length=16)
    quantity: Decimal | None = None
    rate: Decimal | None = None


class QuoteIn(Schema):
    service_type: str
    lines: list[LineIn] = Field(min_length=1, description="Every charge, itemised: the total is their sum")
    currency: str = Field(max_length=3)
    valid_until: dt.date
    transit_days: int | None = Field(None, ge=0)
    terms: str = Field("", max_length=4000)
    pickup_within_days: int | None = Field(None, ge=0)
    claims_response_days: int | None = Field(None, ge=1)


class ConfirmIn(Schema):
    valid_until: dt.date | None = None


class DeclineIn(Schema):
    reason: str = Field("", max_length=300)


class QuoteOut(Schema):
    id: int
    rfq_id: int
    provider_id: int
    provider: str
    service_type: str
    kind: str
    status: str
    currency: str
    lines: list[dict[str, Any]]
    total: Decimal
    transit_days: int | None
    valid_until: dt.date
    terms: str
    sla: dict[str, Any]
    created_at: dt.datetime

    @staticmethod
    def resolve_provider(obj: Quote) -> str:
        return obj.provider.legal_name

    @staticmethod
    def resolve_currency(obj: Quote) -> str:
        return obj.currency_id


class ComparedOut(Schema):
    quote: QuoteOut
    firm: bool
    total: Decimal
    currency: str
    converted: Decimal | None = Field(description="The total in the RFQ's currency (null: no rate known)")
    rate: Decimal | None = Field(description="Units of the RFQ's currency per unit of the quote's")
    rate_date: dt.date | None
    transit_days: int | None
    valid_until: dt.date
    quality_score: Decimal | None
    status: str


class ServiceComparisonOut(Schema):
    service_type: str
    contract_id: int | None
    quotes: list[ComparedOut]


class InvitationOut(Schema):
    id: int
    rfq_id: int
    rfq_reference: str
    provider_id: int
    service_type: str
    invited_at: dt.datetime
    responded_at: dt.datetime | None
    declined: bool
    deadline: dt.datetime
    rfq_status: str
    cargo: dict[str, Any]

    @staticmethod
    def resolve_rfq_reference(obj: RfqInvitation) -> str:
        return obj.rfq.reference

    @staticmethod
    def resolve_deadline(obj: RfqInvitation) -> dt.datetime:
        return obj.rfq.deadline

    @staticmethod
    def resolve_rfq_status(obj: RfqInvitation) -> str:
        return obj.rfq.status

    @staticmethod
    def resolve_cargo(obj: RfqInvitation) -> dict:
        return obj.rfq.cargo


class RfqListOut(Schema):
    id: int
    reference: str
    status: str
    services: list[str]
    currency: str
    deadline: dt.datetime
    created_at: dt.datetime

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj["currency"] if isinstance(obj, dict) else obj.currency_id


class RfqOut(RfqListOut):
    trade_id: int | None = Field(description="For the MSME only; a provider never reaches the trade")
    organisation: str
    cargo: dict[str, Any]
    notes: str
    sort: str
    invitations: list[InvitationOut]
    comparison: list[ServiceComparisonOut]


class ContractOut(Schema):
    id: int
    reference: str
    organisation_id: int
    organisation: str
    provider_id: int
    provider: str
    rfq_id: int
    quote_id: int
    service_type: str
    currency: str
    price: Decimal
    sla: dict[str, Any]
    data_scope: list[str]
    status: str
    created_at: dt.datetime
    completed_at: dt.datetime | None

    # The detail answer is a dict made from this schema's own output: its values pass through as they are.
    @staticmethod
    def resolve_organisation(obj: Contract | dict) -> str:
        return obj["organisation"] if isinstance(obj, dict) else obj.organisation.legal_name

    @staticmethod
    def resolve_provider(obj: Contract | dict) -> str:
        return obj["provider"] if isinstance(obj, dict) else obj.provider.legal_name

    @staticmethod
    def resolve_currency(obj: Contract | dict) -> str:
        return obj["currency"] if isinstance(obj, dict) else obj.currency_id


class MilestoneIn(Schema):
    code: str = Field(description="picked_up, departed, arrived, delivered, cleared, insured, completed")
    at: dt.datetime | None = None
    note: str = Field("", max_length=300)


class MilestoneOut(Schema):
    id: int
    contract_id: int
    code: str
    at: dt.datetime
    note: str


class InvoiceIn(Schema):
    number: str = Field(max_length=40)
    issued_on: dt.date
    currency: str | None = Field(None, max_length=3, description="The contract's currency")
    lines: list[LineIn] = Field(min_length=1)


class LineDifferenceOut(Schema):
    code: str
    description: str
    status: str = Field(description="same, changed, added (not quoted), missing (quoted, not invoiced)")
    quoted: Decimal | None
    invoiced: Decimal | None
    difference: Decimal


class InvoiceOut(Schema):
    id: int
    contract_id: int
    number: str
    issued_on: dt.date
    currency: str
    lines: list[dict[str, Any]]
    total: Decimal
    variance: Decimal = Field(description="The invoice total less the accepted quote's")
    against_quote: list[LineDifferenceOut]


class RatingIn(Schema):
    stars: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class RatingOut(Schema):
    contract_id: int
    stars: int
    comment: str
    created_at: dt.datetime


class ClaimIn(Schema):
    reason: str = Field(max_length=4000)
    amount: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)


class ClaimOut(Schema):
    id: int
    contract_id: int
    reason: str
    amount: Decimal | None
    status: str
    opened_at: dt.datetime


class AccessOut(Schema):
    at: dt.datetime
    user: str | None
    channel: str
    fields: list[str]


class ContractDetailOut(ContractOut):
    milestones: list[MilestoneOut]
    invoices: list[InvoiceOut]
    rating: RatingOut | None
    claims: list[ClaimOut]
    accesses: list[AccessOut] | None = Field(description="Who read the shared data (for the MSME only)")


class SharedDataOut(Schema):
    contract_id: int
    reference: str
    service_type: str
    data_scope: list[str]
    data: dict[str, Any]


# -- answers ----------------------------------------------------------------------------------------------


def _invoice_out(invoice, quote: Quote) -> dict:
    return {
        "id": invoice.pk,
        "contract_id": invoice.contract_id,
        "number": invoice.number,
        "issued_on": invoice.issued_on,
        "currency": invoice.currency_id,
        "lines": invoice.lines,
        "total": invoice.total,
        "variance": invoice.variance,
        "against_quote": [d.__dict__ for d in queries.invoice_against_quote(invoice, quote)],
    }


def _rfq_out(actor, rfq, sort: str) -> dict:
    is_msme = queries.is_msme_of(actor, rfq)
    invitations = queries.invitations_of(actor, rfq)
    if not is_msme:
        services.note_invitations_viewed(invitations)
    comparison = queries.compare_quotes(rfq, sort, quotes=queries.quotes_of(actor, rfq))
    return {
        "id": rfq.pk,
        "reference": rfq.reference,
        "status": rfq.status,
        "services": rfq.services,
        "currency": rfq.currency_id,
        "deadline": rfq.deadline,
        "created_at": rfq.created_at,
        "trade_id": rfq.trade_id if is_msme else None,
        "organisation": rfq.organisation.legal_name,
        "cargo": rfq.cargo,
        "notes": rfq.notes,
        "sort": sort if sort in queries.SORTS else queries.DEFAULT_SORT,
        "invitations": invitations,
        "comparison": [
            {
                "service_type": s.service_type,
                "contract_id": s.contract.pk if s.contract else None,
                "quotes": [row.__dict__ for row in s.quotes],
            }
            for s in comparison
        ],
    }


# -- RFQs -------------------------------------------------------------------------------------------------


@router.post("/trades/{int:trade_id}/rfqs", response={201: RfqOut})
@idempotent
def create_rfq(request, trade_id: int, payload: RfqCreateIn):
    """Request quotes for services of the trade: every listed provider whose catalogue covers the cargo is
    invited, with an indicative quote from its rate card. 403 for an unverified organisation."""
    actor = actor_of(request)
    trade = queries.get_services_trade_for(actor, trade_id)
    cargo = payload.cargo.dict() if payload.cargo else None
    rfq = services.create_rfq(
        actor=actor,
        trade=trade,
        services=payload.services,
        cargo=cargo,
        deadline=payload.deadline,
        notes=payload.notes,
        currency=payload.currency,
    )
    return _rfq_out(actor, queries.get_rfq_for(actor, rfq.pk), queries.DEFAULT_SORT)


@router.get("/trades/{int:trade_id}/rfqs", response=list[RfqListOut])
@paginate(PagePagination)
def list_rfqs(request, trade_id: int):
    """The trade's requests for quotation, newest first (the trade's owner only)."""
    actor = actor_of(request)
    trade = queries.get_services_trade_for(actor, trade_id)
    return queries.rfqs_of_trade(actor, trade)


@router.get("/marketplace/rfqs/{int:rfq_id}", response=RfqOut)
def get_rfq(request, rfq_id: int, sort: str = queries.DEFAULT_SORT):
    """The RFQ with the comparison of its quotes per service, ordered by `sort` only (price: the total in
    the RFQ's currency; transit: days; quality: the provider's score), ties by quote id."""
    actor = actor_of(request)
    return _rfq_out(actor, queries.get_rfq_for(actor, rfq_id), sort)


@router.post("/marketplace/rfqs/{int:rfq_id}/quotes", response={201: QuoteOut})
@idempotent
def submit_quote(request, rfq_id: int, payload: QuoteIn):
    """A firm quote from an invited provider, before the deadline (replaces its previous firm quote)."""
    actor = actor_of(request)
    rfq = queries.get_rfq_for(actor, rfq_id)
    data = payload.dict()
    data["lines"] = [dict(line) for line in data["lines"]]
    quote = services.submit_quote(actor=actor, rfq=rfq, **data)
    return queries.get_quote_for(actor, quote.pk)


@router.post("/marketplace/quotes/{int:quote_id}/confirm", response={201: QuoteOut})
@idempotent
def confirm_quote(request, quote_id: int, payload: ConfirmIn | None = None):
    """The provider confirms its indicative quote as firm (a firm quote with the same lines)."""
    actor = actor_of(request)
    quote = queries.get_quote_for(actor, quote_id)
    valid_until = payload.valid_until if payload else None
    firm = services.confirm_quote(actor=actor, quote=quote, valid_until=valid_until)
    return queries.get_quote_for(actor, firm.pk)


@router.post("/marketplace/quotes/{int:quote_id}/accept", response={201: ContractOut})
@idempotent
def accept_quote(request, quote_id: int):
    """The MSME accepts a firm quote: the contract (the other quotes for the service are declined)."""
    actor = actor_of(request)
    contract = services.accept_quote(actor=actor, quote=queries.get_quote_for(actor, quote_id))
    return queries.get_contract_for(actor, contract.pk)


@router.post("/marketplace/invitations/{int:invitation_id}/decline", response=InvitationOut)
def decline_invitation(request, invitation_id: int, payload: DeclineIn | None = None):
    """The provider will not quote for this service."""
    actor = actor_of(request)
    invitation = queries.get_invitation_for(actor, invitation_id)
    services.decline_invitation(actor=actor, invitation=invitation, reason=payload.reason if payload else "")
    return queries.get_invitation_for(actor, invitation_id)


@router.get("/marketplace/inbox", response=list[InvitationOut])
@paginate(PagePagination)
def inbox(request):
    """The invitations the actor's organisations received as providers, newest first."""
    return queries.inbox_of(actor_of(request))


# -- contracts --------------------------------------------------------------------------------------------


@router.get("/marketplace/contracts", response=list[ContractOut])
@paginate(PagePagination)
def list_contracts(request):
    """The contracts the actor's organisations are party to (as MSME or provider), newest first."""
    return queries.contracts_visible_to(actor_of(request))


@router.get("/marketplace/contracts/{int:contract_id}", response=ContractDetailOut)
def get_contract(request, contract_id: int):
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    out = ContractOut.from_orm(contract).dict()
    out.update(
        milestones=list(contract.milestones.all()),
        invoices=[_invoice_out(i, contract.quote) for i in queries.invoices_of(contract)],
        rating=queries.rating_of(contract),
        claims=list(contract.claims.all()),
        accesses=[
            {"at": a.at, "user": a.user.email if a.user else None, "channel": a.channel, "fields": a.fields}
            for a in queries.accesses_of(contract)
        ]
        if queries.is_msme_of(actor, contract, VIEW)
        else None,
    )
    return out


@router.get("/marketplace/contracts/{int:contract_id}/shared-data", response=SharedDataOut)
def shared_data(request, contract_id: int):
    """The trade's data this contract shares, and nothing else. Each read by the provider is logged (the
    MSME sees the log on the contract)."""
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    data = services.read_shared_data(actor=actor, contract=contract, channel="api")
    return {
        "contract_id": contract.pk,
        "reference": contract.reference,
        "service_type": contract.service_type,
        "data_scope": contract.data_scope,
        "data": data,
    }


@router.post("/marketplace/contracts/{int:contract_id}/milestones", response={201: MilestoneOut})
@idempotent
def record_milestone(request, contract_id: int, payload: MilestoneIn):
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    return services.record_milestone(actor=actor, contract=contract, **payload.dict())


@router.post("/marketplace/contracts/{int:contract_id}/invoices", response={201: InvoiceOut})
@idempotent
def raise_invoice(request, contract_id: int, payload: InvoiceIn):
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    data = payload.dict()
    data["lines"] = [dict(line) for line in data["lines"]]
    invoice = services.raise_invoice(actor=actor, contract=contract, **data)
    return _invoice_out(invoice, contract.quote)


@router.post("/marketplace/contracts/{int:contract_id}/rating", response={201: RatingOut})
@idempotent
def rate_contract(request, contract_id: int, payload: RatingIn):
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    return services.rate_contract(actor=actor, contract=contract, **payload.dict())


@router.post("/marketplace/contracts/{int:contract_id}/claims", response={201: ClaimOut})
@idempotent
def open_claim(request, contract_id: int, payload: ClaimIn):
    actor = actor_of(request)
    contract = queries.get_contract_for(actor, contract_id)
    return services.open_claim(actor=actor, contract=contract, **payload.dict())
