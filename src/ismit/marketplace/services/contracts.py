"""A quote accepted becomes a contract (price, SLA, data scope; the other quotes declined; the checklist
step booked); what the provider may read of the trade under it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.services import notify
from ismit.marketplace import scopes
from ismit.marketplace.models import (
    STEP_OF_SERVICE,
    Contract,
    ContractAccess,
    Quote,
    QuoteKind,
    QuoteStatus,
    Rfq,
    RfqStatus,
)
from ismit.marketplace.services.common import (
    DEFAULT_CLAIMS_RESPONSE_DAYS,
    DEFAULT_PICKUP_WITHIN_DAYS,
    STATUS_ON_ACCEPTANCE,
    create_with_reference,
    move_step,
    record_for_both,
    refresh_quality,
    require_change,
)
from ismit.trades.models import StepStatus

# -- acceptance and contracts ------------------------------------------------------------------------


def accept_quote(*, actor: Actor, quote: Quote) -> Contract:
    """Accept a firm quote: a contract with the provider (price, SLA, the service's data scope); the other
    quotes for the service are declined with notice; the RFQ is awarded once every service is; the
    service's checklist step is booked."""
    require_change(actor, quote.rfq.organisation_id, _("You may not accept quotes for this organisation."))
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        rfq = (
            Rfq.objects.select_for_update(of=("self",))
            .select_related("trade", "organisation")
            .get(pk=quote.rfq_id)
        )
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("provider", "offering")
            .get(pk=quote.pk)
        )
        if quote.kind != QuoteKind.FIRM:
            raise ValidationError(
                {"__all__": [_("An indicative quote must first be confirmed as firm by its provider.")]}
            )
        if quote.status != QuoteStatus.SUBMITTED:
            raise ValidationError({"__all__": [_("This quote is no longer open.")]})
        if quote.valid_until < today:
            raise ValidationError({"__all__": [_("This quote has expired.")]})
        if rfq.status == RfqStatus.CANCELLED:
            raise ValidationError({"__all__": [_("This request was cancelled.")]})
        if Contract.objects.filter(rfq=rfq, service_type=quote.service_type).exists():
            raise ValidationError({"__all__": [_("This service is already awarded.")]})
        offering = quote.offering
        sla = {
            "pickup_within_days": quote.sla.get("pickup_within_days", DEFAULT_PICKUP_WITHIN_DAYS),
            "transit_days": quote.transit_days
            if quote.transit_days is not None
            else getattr(offering, "transit_days", None),
            "claims_response_days": quote.sla.get("claims_response_days", DEFAULT_CLAIMS_RESPONSE_DAYS),
        }
        contract = create_with_reference(
            Contract,
            rfq.organisation_id,
            "SC",
            provider_id=quote.provider_id,
            trade_id=rfq.trade_id,
            rfq=rfq,
            quote=quote,
            service_type=quote.service_type,
            currency_id=quote.currency_id,
            price=quote.total,
            sla=sla,
            data_scope=scopes.scope_of(quote.service_type),
            accepted_by=actor.user,
            created_at=now,
        )
        Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.ACCEPTED, decided_at=now)
        others = list(
            Quote.objects.filter(rfq=rfq, service_type=quote.service_type, status=QuoteStatus.SUBMITTED)
            .exclude(pk=quote.pk)
            .select_related("provider")
        )
        Quote.objects.filter(pk__in=[q.pk for q in others]).update(
            status=QuoteStatus.DECLINED, decided_at=now
        )
        awarded = set(Contract.objects.filter(rfq=rfq).values_list("service_type", flat=True))
        if set(rfq.services) <= awarded:
            Rfq.objects.filter(pk=rfq.pk).update(status=RfqStatus.AWARDED)
        changes = {
            "rfq": rfq.reference,
            "contract": contract.reference,
            "service": quote.service_type,
            "price": str(quote.total),
            "currency": quote.currency_id,
            "sla": sla,
            "data_scope": contract.data_scope,
            "declined_quotes": [q.pk for q in others],
        }
        record_for_both(
            rfq.organisation_id,
            quote.provider_id,
            actor=actor,
            action="marketplace.quote_accepted",
            obj=contract,
            changes=changes,
        )
        step = STEP_OF_SERVICE.get(quote.service_type)
        if step:
            move_step(
                rfq.trade,
                step,
                STATUS_ON_ACCEPTANCE.get(quote.service_type, StepStatus.IN_PROGRESS),
                _("%(provider)s, contract %(reference)s")
                % {"provider": quote.provider.legal_name, "reference": contract.reference},
                actor,
                quote.provider,
            )
        notify(
            organisation_id=quote.provider_id,
            kind="marketplace.quote_accepted",
            title=format_lazy(
                gettext_lazy("Your quote on {reference} was accepted: contract {contract}"),
                reference=rfq.reference,
                contract=contract.reference,
            ),
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        for other in {q.provider_id: q for q in others if q.provider_id != quote.provider_id}.values():
            notify(
                organisation_id=other.provider_id,
                kind="marketplace.quote_declined",
                title=format_lazy(
                    gettext_lazy("Your quote on {reference} was not chosen"), reference=rfq.reference
                ),
                url=reverse("marketplace:inbox"),
            )
        for provider_id in {quote.provider_id, *(q.provider_id for q in others)}:
            refresh_quality(provider_id)
    return contract


def read_shared_data(*, actor: Actor, contract: Contract, channel: str) -> dict[str, Any]:
    """The trade's data the contract shares. A read by the provider's side is logged (ContractAccess and
    an audit event in both organisations' logs); the MSME reads it unlogged (it is its own data)."""
    view = scopes.shared_view(contract)
    if actor.can("view", contract.organisation_id):
        return view
    fields = list(contract.data_scope)
    with transaction.atomic():
        access = ContractAccess.objects.create(
            contract=contract, user=actor.user, channel=channel[:8], fields=fields
        )
        record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.shared_data_read",
            obj=access,
            changes={"contract": contract.reference, "channel": channel, "fields": fields},
        )
    return view
