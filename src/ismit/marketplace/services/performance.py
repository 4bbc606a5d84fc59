"""What happens under a contract: milestones, invoices, ratings and claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.services import notify
from ismit.lib.errors import FieldErrors
from ismit.marketplace.models import (
    STEP_OF_SERVICE,
    Claim,
    Contract,
    ContractStatus,
    Milestone,
    ProviderInvoice,
    Rating,
)
from ismit.marketplace.services.common import (
    CENT,
    MILESTONE_LABELS,
    MILESTONE_STEPS,
    move_step,
    read_date,
    read_datetime,
    read_decimal,
    read_int,
    read_lines,
    record_for_both,
    refresh_quality,
    require_change,
)
from ismit.trades.models import StepStatus

# -- milestones, invoices, ratings, claims -------------------------------------------------------------


def _require_provider(actor: Actor, contract: Contract) -> None:
    require_change(actor, contract.provider_id, _("Only the provider under this contract may do this."))


def _require_active(contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise ValidationError({"__all__": [_("This contract is no longer in progress.")]})


def record_milestone(
    *, actor: Actor, contract: Contract, code: str, at: dt.datetime | str | None = None, note: str = ""
) -> Milestone:
    """The provider records a service milestone; some move the trade's checklist, "completed" completes
    the contract (and its service's step)."""
    _require_provider(actor, contract)
    errors = FieldErrors()
    if code not in MILESTONE_STEPS:
        errors.add("code", _("Choose a milestone: %(codes)s") % {"codes": ", ".join(MILESTONE_STEPS)})
    now = timezone.now()
    when = now if at in (None, "") else read_datetime(at, "at", errors)
    if when is not None and when > now + dt.timedelta(minutes=5):
        errors.add("at", _("A milestone cannot be dated in the future."))
    note = (note or "").strip()
    if len(note) > 300:
        errors.add("note", _("Use at most 300 characters."))
    errors.raise_if_any()
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("trade", "provider")
            .get(pk=contract.pk)
        )
        _require_active(contract)
        milestone = Milestone.objects.create(
            contract=contract, code=code, at=when, note=note, recorded_by=actor.user, created_at=now
        )
        label = str(MILESTONE_LABELS[code])
        target = MILESTONE_STEPS[code]
        if target is not None:
            move_step(
                contract.trade,
                target[0],
                target[1],
                f"{label} · {contract.reference}",
                actor,
                contract.provider,
            )
        else:
            contract.status = ContractStatus.COMPLETED
            contract.completed_at = when
            contract.save(update_fields=["status", "completed_at"])
            step = STEP_OF_SERVICE.get(contract.service_type)
            if step:
                move_step(
                    contract.trade,
                    step,
                    StepStatus.DONE,
                    f"{label} · {contract.reference}",
                    actor,
                    contract.provider,
                )
        changes = {"contract": contract.reference, "code": code, "at": when.isoformat(), "note": note}
        record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.milestone_recorded",
            obj=milestone,
            changes=changes,
        )
        notify(
            organisation_id=contract.organisation_id,
            kind="marketplace.milestone",
            title=format_lazy(
                gettext_lazy("{contract}: {milestone}"),
                contract=contract.reference,
                milestone=MILESTONE_LABELS[code],
            ),
            body=note,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        refresh_quality(contract.provider_id)
    return milestone


def raise_invoice(
    *,
    actor: Actor,
    contract: Contract,
    number: str,
    issued_on: dt.date | str | None,
    lines: list[dict],
    currency: str | None = None,
) -> ProviderInvoice:
    """The provider invoices the contract, itemised like its quote and in the contract's currency; the
    variance is the invoice total less the accepted quote's."""
    _require_provider(actor, contract)
    errors = FieldErrors()
    number = (number or "").strip()
    if not number or len(number) > 40:
        errors.add("number", _("Enter the invoice number (at most 40 characters)."))
    issued = read_date(issued_on, "issued_on", errors)
    if issued is not None and issued > timezone.localdate():
        errors.add("issued_on", _("An invoice cannot be dated in the future."))
    if currency and str(currency).strip().upper() != contract.currency_id:
        errors.add(
            "currency", _("Invoice in the contract's currency, %(ccy)s.") % {"ccy": contract.currency_id}
        )
    priced, total = read_lines(lines, errors)
    errors.raise_if_any()
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",)).select_related("quote").get(pk=contract.pk)
        )
        if contract.status == ContractStatus.CANCELLED:
            raise ValidationError({"__all__": [_("This contract was cancelled.")]})
        if ProviderInvoice.objects.filter(contract=contract, number=number).exists():
            raise ValidationError({"number": [_("This invoice number is already used on this contract.")]})
        invoice = ProviderInvoice.objects.create(
            contract=contract,
            number=number,
            issued_on=issued,
            currency_id=contract.currency_id,
            lines=priced,
            total=total,
            variance=total - contract.quote.total,
        )
        changes = {
            "contract": contract.reference,
            "number": number,
            "total": str(total),
            "variance": str(invoice.variance),
        }
        record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.invoice_raised",
            obj=invoice,
            changes=changes,
        )
        notify(
            organisation_id=contract.organisation_id,
            kind="marketplace.invoice",
            title=format_lazy(
                gettext_lazy("Invoice {number} on {contract}: {total} {currency}"),
                number=number,
                contract=contract.reference,
                total=total,
                currency=contract.currency_id,
            ),
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        refresh_quality(contract.provider_id)
    return invoice


def rate_contract(*, actor: Actor, contract: Contract, stars: int | str, comment: str = "") -> Rating:
    """The MSME rates a completed contract, once (1 to 5 stars)."""
    require_change(actor, contract.organisation_id, _("Only the MSME under this contract may rate it."))
    errors = FieldErrors()
    value = read_int(stars, "stars", errors, required=True, minimum=1)
    if value is not None and value > 5:
        errors.add("stars", _("Rate from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors.add("comment", _("Use at most 2000 characters."))
    errors.raise_if_any()
    if contract.status != ContractStatus.COMPLETED:
        raise ValidationError({"__all__": [_("A contract is rated once it is completed.")]})
    already = _("This contract is already rated.")
    with transaction.atomic():
        if Rating.objects.filter(contract=contract).exists():
            raise ValidationError({"__all__": [already]})
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    contract=contract, stars=value, comment=comment, rated_by=actor.user
                )
        except IntegrityError:
            raise ValidationError({"__all__": [already]})
        record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.contract_rated",
            obj=rating,
            changes={"contract": contract.reference, "stars": value},
        )
        notify(
            organisation_id=contract.provider_id,
            kind="marketplace.rating",
            title=format_lazy(
                gettext_lazy("{contract} rated {stars}/5"), contract=contract.reference, stars=value
            ),
            body=comment,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        refresh_quality(contract.provider_id)
    return rating


def open_claim(
    *, actor: Actor, contract: Contract, reason: str, amount: Decimal | str | None = None
) -> Claim:
    """The MSME opens a claim against a contract (loss, damage, delay, overcharge)."""
    require_change(actor, contract.organisation_id, _("Only the MSME under this contract may open a claim."))
    errors = FieldErrors()
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", _("Say what the claim is about."))
    elif len(reason) > 4000:
        errors.add("reason", _("Use at most 4000 characters."))
    value = read_decimal(amount, "amount", errors, required=False)
    errors.raise_if_any()
    if contract.status == ContractStatus.CANCELLED:
        raise ValidationError({"__all__": [_("This contract was cancelled.")]})
    with transaction.atomic():
        claim = Claim.objects.create(
            contract=contract, reason=reason, amount=value.quantize(CENT) if value is not None else None
        )
        record_for_both(
            contract.organisation_id,
            contract.provider_id,
            actor=actor,
            action="marketplace.claim_opened",
            obj=claim,
            changes={"contract": contract.reference, "reason": reason, "amount": str(value or "")},
        )
        notify(
            organisation_id=contract.provider_id,
            kind="marketplace.claim",
            title=format_lazy(gettext_lazy("Claim on {contract}"), contract=contract.reference),
            body=reason,
            url=reverse("marketplace:contract", args=[contract.pk]),
        )
        refresh_quality(contract.provider_id)
    return claim
