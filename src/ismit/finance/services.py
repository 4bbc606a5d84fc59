"""Writes of the finance app: payments received, and the FX settlement report and VAT refund claim filed
from them through the outbox, with the single window's answers moving the trade's financial steps."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ismit.accounts import services as accounts_services
from ismit.accounts.actors import Actor
from ismit.audit.services import record_event
from ismit.finance import crosscheck as cc
from ismit.finance import customs_link, payloads, queries
from ismit.finance.kinds import FX_KIND, VAT_KIND, Kind
from ismit.finance.models import FINAL, IN_FLIGHT, Filing, FilingStatus, Payment, VatClaim
from ismit.lib.errors import FieldErrors
from ismit.lib.numbers import typed_decimal
from ismit.lib.scoping import CHANGE
from ismit.outbox.services import enqueue
from ismit.refdata.models import Currency
from ismit.trades.models import ChecklistStep, Direction, PaymentTerms, StepStatus, Trade
from ismit.trades.services import set_step_status

logger = logging.getLogger("ismit.finance")

MAX_AMOUNT = Decimal(10) ** 14
ANSWER_STATUSES = {
    "received": FilingStatus.RECEIVED,
    "accepted": FilingStatus.ACCEPTED,
    "rejected": FilingStatus.REJECTED,
    "query": FilingStatus.QUERY,
}


class CrossCheckFailed(ValidationError):
    """The filing was not made: the declaration, the invoice and the payments do not agree.

    A ValidationError (422 in the API) whose messages, by field, state both values and their sources; the
    mismatches themselves are in `mismatches`.
    """

    def __init__(self, mismatches: list[cc.Mismatch]):
        self.mismatches = mismatches
        errors: dict[str, list[str]] = {}
        for mismatch in mismatches:
            errors.setdefault(mismatch.field, []).append(mismatch.text)
        super().__init__(errors)


def _require_change(actor: Actor, trade: Trade) -> None:
    if not actor.can(CHANGE, trade.organisation_id):
        raise PermissionDenied(_("You may not change this trade's finance."))


def _in_language(text: str, **values) -> str:
    """`text` (marked with gettext_noop) translated when it is read, so each member reads it in their own
    language; `values` may be lazy too."""
    return lazy(lambda: _(text) % {name: str(value) for name, value in values.items()}, str)()


def _notify(trade: Trade, *, kind: str, title, body="") -> None:
    """Tell the trade's organisation (in-app and e-mail) where the accounts app can; else nothing."""
    notify = getattr(accounts_services, "notify", None)
    if notify is None:
        return
    notify(
        organisation_id=trade.organisation_id,
        kind=kind,
        title=title,
        body=body,
        url=reverse("finance:trade", args=[trade.pk]),
    )


def _move_step(trade: Trade, code: str, status: str, note: str, actor: Actor | None) -> None:
    step = ChecklistStep.objects.filter(trade_id=trade.pk, code=code).first()
    if step is None or step.status == StepStatus.NOT_NEEDED:
        return
    if step.status == status and step.note == note[:300]:
        return
    set_step_status(actor=actor, step=step, status=status, note=note, acting_organisation=trade.organisation)


# -- payments ---------------------------------------------------------------------------------------------


@dataclass
class PaymentData:
    amount: Decimal | str | None = None
    currency: str = ""
    received_on: dt.date | str | None = None
    bank_reference: str = ""
    payer: str = ""


def _amount(value, path: str, errors: FieldErrors) -> Decimal | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    number = typed_decimal(value)
    if number is None:
        errors.add(path, _("Enter a number."))
        return None
    if number <= 0:
        errors.add(path, _("Enter a number greater than zero."))
        return None
    if number >= MAX_AMOUNT:
        errors.add(path, _("This number is too large."))
        return None
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _date(value, path: str, errors: FieldErrors) -> dt.date | None:
    if value is None or value == "":
        errors.add(path, _("This field is required."))
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = parse_date(str(value))
        except ValueError:
            value = None
        if value is None:
            errors.add(path, _("Enter a date as YYYY-MM-DD."))
            return None
    return value


def _check_payment(trade: Trade, data: PaymentData) -> dict:
    errors = FieldErrors()
    amount = _amount(data.amount, "amount", errors)
    code = (data.currency or "").strip().upper()
    currency = Currency.objects.filter(code=code).first() if code else None
    if currency is None:
        errors.add("currency", _("Choose an ISO 4217 currency."))
    received_on = _date(data.received_on, "received_on", errors)
    if received_on and received_on > timezone.localdate():
        errors.add("received_on", _("A payment received cannot be dated in the future."))
    reference = (data.bank_reference or "").strip()
    if not reference:
        errors.add("bank_reference", _("Enter the bank's reference of the payment."))
    elif len(reference) > 35:
        errors.add("bank_reference", _("Use at most 35 characters."))
    elif Payment.objects.filter(trade_id=trade.pk, bank_reference=reference).exists():
        errors.add("bank_reference", _("A payment with this bank reference is already recorded."))
    payer = (data.payer or "").strip()
    if len(payer) > 200:
        errors.add("payer", _("Use at most 200 characters."))
    errors.raise_if_any()
    return dict(
        amount=amount, currency=currency, received_on=received_on, bank_reference=reference, payer=payer
    )


def _sync_payment_step(actor: Actor, trade: Trade) -> None:
    """The checklist's "payment received" (or "advance payment received") step follows the payments."""
    invoice = queries.invoice_of(trade)
    paid = cc.payments_total(queries.received_of(queries.payments_of(trade)), invoice.currency)
    code = "advance_payment" if trade.payment_terms == PaymentTerms.ADVANCE else "payment_received"
    if paid <= 0:
        status, note = StepStatus.TODO, ""
    elif paid >= invoice.total or cc.within_tolerance(paid, invoice.total, queries.rules()):
        status, note = StepStatus.DONE, _("%(paid)s received") % {"paid": cc.money(paid, invoice.currency)}
    else:
        status = StepStatus.IN_PROGRESS
        note = _("%(paid)s received of %(total)s") % {
            "paid": cc.money(paid, invoice.currency),
            "total": cc.money(invoice.total, invoice.currency),
        }
    _move_step(trade, code, status, note, actor)


def record_payment(*, actor: Actor, trade: Trade, data: PaymentData) -> Payment:
    """Record a payment received on the trade, as the bank's advice shows it."""
    _require_change(actor, trade)
    with transaction.atomic():
        trade = Trade.objects.select_for_update().select_related("organisation").get(pk=trade.pk)
        fields = _check_payment(trade, data)
        try:
            with transaction.atomic():
                payment = Payment.objects.create(trade=trade, recorded_by=actor.user, **fields)
        except IntegrityError:
            raise ValidationError(
                {"bank_reference": [_("A payment with this bank reference is already recorded.")]}
            )
        record_event(
            actor=actor,
            organisation_id=trade.organisation_id,
            action="finance.payment_recorded",
            obj=payment,
            changes={
                "trade": trade.reference,
                "amount": str(payment.amount),
                "currency": payment.currency_id,
                "received_on": payment.received_on.isoformat(),
                "bank_reference": payment.bank_reference,
                "payer": payment.payer,
            },
        )
        _sync_payment_step(actor, trade)
    return payment


def _reported_in(kind: Kind, trade: Trade, bank_reference: str) -> bool:
    filing = kind.model.objects.filter(trade_id=trade.pk).first()
    if filing is None or filing.status not in IN_FLIGHT | {FilingStatus.ACCEPTED}:
        return False
    return any(p.get("bank_reference") == bank_reference for p in (filing.payload or {}).get("payments", []))


def delete_payment(*, actor: Actor, payment: Payment) -> None:
    """Delete a payment recorded by mistake (not one reported in a filing on its way or accepted)."""
    trade = payment.trade
    _require_change(actor, trade)
    with transaction.atomic():
        trade = Trade.objects.select_for_update().select_related("organisation").get(pk=trade.pk)
        for kind in (FX_KIND, VAT_KIND):
            if _reported_in(kind, trade, payment.bank_reference):
                raise ValidationError(
                    {
                        "__all__": [
                            _(
                                "This payment is reported in the %(filing)s, which the single window holds: "
                                "it cannot be deleted."
                            )
                            % {"filing": kind.label}
                        ]
                    }
                )
        record_event(
            actor=actor,
            organisation_id=trade.organisation_id,
            action="finance.payment_deleted",
            obj=payment,
            changes={
                "trade": trade.reference,
                "amount": str(payment.amount),
                "currency": payment.currency_id,
                "received_on": payment.received_on.isoformat(),
                "bank_reference": payment.bank_reference,
            },
        )
        payment.delete()
        _sync_payment_step(actor, trade)


# -- the VAT claim's own data -------------------------------------------------------------------------------

_UNSET = object()


def _check_claim_fields(vat_amount, vat_rate, input_invoices, errors: FieldErrors) -> dict:
    fields: dict = {}
    if vat_amount is not _UNSET:
        fields["vat_amount"] = None if vat_amount in (None, "") else _amount(vat_amount, "vat_amount", errors)
    if vat_rate is not _UNSET:
        if vat_rate in (None, ""):
            fields["vat_rate"] = None
        else:
            rate = _amount(vat_rate, "vat_rate", errors)
            if rate is not None and rate > 100:
                errors.add("vat_rate", _("Enter a percentage between 0 and 100."))
            fields["vat_rate"] = rate
    if input_invoices is not _UNSET:
        fields["input_invoices"] = (input_invoices or "").strip()
    return fields


def _editable(filing: Filing) -> None:
    if filing.status in IN_FLIGHT:
        raise ValidationError(
            {"__all__": [_("It has been sent: wait for the single window's answer before changing it.")]}
        )
    if filing.status == FilingStatus.ACCEPTED:
        raise ValidationError({"__all__": [_("It has been accepted by the single window.")]})


def save_vat_claim(
    *, actor: Actor, trade: Trade, vat_amount=None, vat_rate=None, input_invoices: str = ""
) -> VatClaim:
    """Keep what the MSME entered on the VAT claim (the input VAT and the invoices it comes from)."""
    _require_change(actor, trade)
    errors = FieldErrors()
    fields = _check_claim_fields(vat_amount, vat_rate, input_invoices, errors)
    errors.raise_if_any()
    with transaction.atomic():
        trade = Trade.objects.select_for_update().get(pk=trade.pk)
        claim, _created = VatClaim.objects.select_for_update().get_or_create(trade=trade)
        _editable(claim)
        changes = {
            name: [str(getattr(claim, name) or ""), str(value or "")]
            for name, value in fields.items()
            if getattr(claim, name) != value
        }
        for name, value in fields.items():
            setattr(claim, name, value)
        claim.updated_at = timezone.now()
        claim.save()
        if changes:
            record_event(
                actor=actor,
                organisation_id=trade.organisation_id,
                action="finance.vat_claim_saved",
                obj=claim,
                changes={"trade": trade.reference, **changes},
            )
    return claim


def _check_vat(claim: VatClaim, data: queries.CheckInput) -> None:
    """The VAT claim's own figures, against the export value and the window's rules."""
    errors = FieldErrors()
    net = data.declaration.invoice_amount if data.declaration and data.declaration.invoice_amount else None
    net = net if net is not None else data.invoice.total
    currency = data.invoice.currency
    if claim.vat_amount is None:
        errors.add(
            "vat_amount",
            _("Enter the input VAT to refund: the VAT you paid on the purchases for these goods."),
        )
    else:
        if claim.vat_rate is not None:
            expected = (net * claim.vat_rate / 100).quantize(cc.CENT, rounding=ROUND_HALF_UP)
            if abs(expected - claim.vat_amount) > cc.CENT:
                errors.add(
                    "vat_amount",
                    _(
                        "With a rate of %(rate)s %%, the VAT is %(expected)s (of the export value %(net)s), "
                        "not %(amount)s. Leave the rate empty to claim the VAT of your purchase invoices."
                    )
                    % {
                        "rate": cc.number(claim.vat_rate),
                        "expected": cc.money(expected, currency),
                        "net": cc.money(net, currency),
                        "amount": cc.money(claim.vat_amount, currency),
                    },
                )
        highest = Decimal(str(queries.max_vat_rate()))
        if claim.vat_amount > net * highest / 100:
            errors.add(
                "vat_amount",
                _("The VAT to refund cannot exceed %(pct)s %% of the export value (%(net)s).")
                % {"pct": cc.number(highest), "net": cc.money(net, currency)},
            )
    if not claim.input_invoices:
        errors.add("input_invoices", _("List the purchase invoices on which this VAT was paid."))
    errors.raise_if_any()


# -- filing -----------------------------------------------------------------------------------------------


def _new_reference(kind: Kind, trade: Trade, filing: Filing) -> str:
    """The filing's reference with the single window; a new one for each new conversation after the first."""
    if filing.pk is None:
        return f"{kind.prefix}-{trade.pk}"
    conversations = (
        kind.version_model.objects.filter(filing=filing)
        .exclude(conversation_id="")
        .values_list("conversation_id", flat=True)
        .distinct()
        .count()
    )
    return f"{kind.prefix}-{trade.pk}" + (f"-{conversations + 1}" if conversations else "")


def _build(kind: Kind, filing: Filing, data: queries.CheckInput, reference: str) -> dict:
    common = dict(
        reference=reference,
        exporter=data.exporter,
        invoice=data.invoice,
        declaration=data.declaration,
        payments=data.payments,
        rules=data.rules,
        explanation=filing.explanation,
    )
    if kind is FX_KIND:
        return payloads.fx_report(**common)
    return payloads.vat_claim(**common, vat_amount=filing.vat_amount, vat_rate=filing.vat_rate)


def _submit(
    kind: Kind,
    *,
    actor: Actor,
    trade: Trade,
    explanation: str | None,
    prepare: Callable[[Filing], None] | None = None,
) -> Filing:
    _require_change(actor, trade)
    if trade.direction != Direction.EXPORT:
        raise ValidationError(
            {"__all__": [_("FX settlement reports and VAT refund claims are filed for exports.")]}
        )
    if not trade.organisation.can_submit_to_third_parties:
        raise PermissionDenied(_("Your organisation must be verified before it files with the authorities."))
    with transaction.atomic():
        trade = (
            Trade.objects.select_for_update()
            .select_related("organisation", "place_of_loading")
            .get(pk=trade.pk)
        )
        filing, _created = kind.model.objects.select_for_update().get_or_create(trade=trade)
        _editable(filing)
        if prepare is not None:
            prepare(filing)
        if explanation is not None:
            filing.explanation = explanation.strip()
        data = queries.check_input(trade)
        mismatches = queries.run_crosscheck(kind, data)
        if mismatches:
            raise CrossCheckFailed(mismatches)
        if kind is VAT_KIND:
            _check_vat(filing, data)
        country = trade.place_of_loading.country
        window = customs_link.find_window(country, kind.code)
        if window is None:
            raise ValidationError(
                {
                    "__all__": [
                        _("No single window takes %(filing)s for %(country)s yet: ask the platform operator.")
                        % {"filing": kind.label, "country": country}
                    ]
                }
            )
        correction_of = filing.conversation_id if filing.status == FilingStatus.QUERY else ""
        reference = filing.reference if correction_of else _new_reference(kind, trade, filing)
        number = filing.version + 1
        key = f"{kind.topic}:{filing.key_base}:v{number}"
        body = _build(kind, filing, data, reference)
        message = enqueue(
            topic=kind.topic,
            payload=payloads.encode(body),
            idempotency_key=key,
            organisation_id=trade.organisation_id,
            headers={"X-Correction-Of": correction_of} if correction_of else {},
            target=customs_link.window_url(window, kind.path),
        )
        kind.version_model.objects.create(
            filing=filing,
            number=number,
            reference=reference,
            correction_of=correction_of,
            conversation_id=correction_of,
            idempotency_key=key,
            payload=body,
            payload_sha256=message.payload_sha256,
            outbox_message_id=message.pk,
            submitted_by=actor.user,
        )
        now = timezone.now()
        if not correction_of:
            filing.conversation_id = ""
            filing.registration_number = ""
            filing.last_answer_at = None
        filing.status = FilingStatus.QUEUED
        filing.reference = reference
        filing.version = number
        filing.idempotency_key = key
        filing.payload = body
        filing.reasons = []
        filing.question = ""
        filing.delivery_error = ""
        filing.window_id = window.pk
        filing.submitted_at = now
        filing.updated_at = now
        filing.save()
        _move_step(
            trade,
            kind.step_code,
            StepStatus.IN_PROGRESS,
            _("%(filing)s sent") % {"filing": kind.label},
            actor,
        )
        record_event(
            actor=actor,
            organisation_id=trade.organisation_id,
            action=f"finance.{kind.audit}_submitted",
            obj=filing,
            changes={
                "trade": trade.reference,
                "reference": reference,
                "version": number,
                "idempotency_key": key,
                "correction_of": correction_of,
                "payload_sha256": message.payload_sha256,
                "outbox_message": message.pk,
            },
        )
    return filing


def submit_fx_report(*, actor: Actor, trade: Trade, explanation: str | None = None) -> Filing:
    """File the trade's FX settlement report (or its correction, answering a query) through the outbox.

    Refused (CrossCheckFailed, 422) while the declaration, the invoice and the payments disagree.
    """
    return _submit(FX_KIND, actor=actor, trade=trade, explanation=explanation)


def submit_vat_claim(
    *,
    actor: Actor,
    trade: Trade,
    vat_amount=_UNSET,
    vat_rate=_UNSET,
    input_invoices=_UNSET,
    explanation: str | None = None,
) -> Filing:
    """File the trade's VAT refund claim (or its correction) through the outbox; the claim's own figures
    (input VAT, rate, purchase invoices) as given here, or as saved on the claim when left out."""
    errors = FieldErrors()
    fields = _check_claim_fields(vat_amount, vat_rate, input_invoices, errors)
    errors.raise_if_any()

    def prepare(claim: Filing) -> None:
        for name, value in fields.items():
            setattr(claim, name, value)

    return _submit(VAT_KIND, actor=actor, trade=trade, explanation=explanation, prepare=prepare)


# -- delivery (the outbox handlers, in ismit.finance.delivery) ----------------------------------------------


def _version_for_key(kind: Kind, key: str):
    return kind.version_model.objects.select_for_update().filter(idempotency_key=key).first()


def record_sent(*, kind: Kind, idempotency_key: str, conversation_id: str) -> None:
    """The single window took the submission (202): note its conversation."""
    with transaction.atomic():
        version = _version_for_key(kind, idempotency_key)
        if version is None:
            return
        first_time = version.delivered_at is None
        if first_time:
            version.delivered_at = timezone.now()
        if conversation_id and not version.conversation_id:
            version.conversation_id = conversation_id
        version.save(update_fields=["delivered_at", "conversation_id"])
        filing = kind.model.objects.select_for_update().select_related("trade").get(pk=version.filing_id)
        if filing.version == version.number:
            if conversation_id and not filing.conversation_id:
                filing.conversation_id = conversation_id
            if filing.status in (FilingStatus.QUEUED, FilingStatus.FAILED):
                filing.status = FilingStatus.SENT
                filing.delivery_error = ""
            filing.updated_at = timezone.now()
            filing.save()
        if first_time:
            record_event(
                actor=None,
                organisation_id=filing.trade.organisation_id,
                action=f"finance.{kind.audit}_sent",
                obj=filing,
                changes={
                    "trade": filing.trade.reference,
                    "version": version.number,
                    "idempotency_key": idempotency_key,
                    "conversation_id": conversation_id,
                },
            )


def record_failed(*, kind: Kind, idempotency_key: str, error: str) -> None:
    """The single window refused the submission itself (4xx): retrying cannot help; the MSME is told."""
    with transaction.atomic():
        version = _version_for_key(kind, idempotency_key)
        if version is None:
            return
        filing = kind.model.objects.select_for_update().select_related("trade").get(pk=version.filing_id)
        if filing.version != version.number or filing.status != FilingStatus.QUEUED:
            return
        filing.status = FilingStatus.FAILED
        filing.delivery_error = error[:2000]
        filing.updated_at = timezone.now()
        filing.save()
        trade = filing.trade
        _move_step(
            trade,
            kind.step_code,
            StepStatus.BLOCKED,
            _("%(filing)s not delivered") % {"filing": kind.label},
            None,
        )
        record_event(
            actor=None,
            organisation_id=trade.organisation_id,
            action=f"finance.{kind.audit}_failed",
            obj=filing,
            changes={"trade": trade.reference, "version": version.number, "error": error[:500]},
        )
        _notify(
            trade,
            kind=f"finance.{kind.audit}_failed",
            title=_in_language(
                gettext_noop("%(filing)s of %(trade)s not delivered"),
                filing=kind.label,
                trade=trade.reference,
            ),
            body=error[:500],
        )


# -- answers (through the customs callback and polling: ismit.finance.answers) -----------------------------


def _issued_at(payload: dict) -> dt.datetime | None:
    try:
        value = parse_datetime(str(payload.get("issued_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _reasons(payload: dict) -> list[dict]:
    reasons = payload.get("reasons") or []
    if not isinstance(reasons, list):
        return []
    return [
        {
            "code": str(r.get("code") or ""),
            "field": str(r.get("field") or ""),
            "message": str(r.get("message") or ""),
        }
        for r in reasons
        if isinstance(r, dict)
    ]


def apply_answer(*, kind: Kind, payload: dict, notification_id: str = "") -> Filing | None:
    """Apply one answer of the single window (a JSON notification) to the filing it is about.

    Returns the filing, or None when no filing is known for it. Duplicates, late answers (issued before
    the last one applied) and answers to an earlier conversation change nothing; an accepted or rejected
    conversation never moves again. Runs inside the caller's transaction when there is one.
    """
    conversation_id = str(payload.get("conversation_id") or "")
    reference = str(payload.get("reference") or "")
    status = ANSWER_STATUSES.get(str(payload.get("status") or ""))
    issued_at = _issued_at(payload)
    with transaction.atomic():
        version = None
        if conversation_id:
            version = (
                kind.version_model.objects.filter(conversation_id=conversation_id).order_by("-number").first()
            )
        if version is None and reference:
            # The answer came before the delivery noted the conversation: the reference names it.
            version = (
                kind.version_model.objects.filter(reference=reference, conversation_id="")
                .order_by("-number")
                .first()
            )
        if version is None:
            logger.warning(
                "%s answer for an unknown conversation %s (%s)", kind.code, conversation_id, reference
            )
            return None
        filing = kind.model.objects.select_for_update().select_related("trade").get(pk=version.filing_id)
        if conversation_id:
            kind.version_model.objects.filter(
                filing=filing, reference=version.reference, conversation_id=""
            ).update(conversation_id=conversation_id)
            if not filing.conversation_id and filing.reference == version.reference:
                filing.conversation_id = conversation_id
        if status is None or filing.conversation_id != conversation_id:
            return filing  # unknown status, or an answer about an earlier conversation
        if filing.status in FINAL:
            return filing
        if filing.last_notification_id and filing.last_notification_id == notification_id:
            return filing
        if filing.last_answer_at and issued_at and issued_at <= filing.last_answer_at:
            return filing
        old = filing.status
        now = timezone.now()
        filing.status = status
        filing.answered_at = now
        filing.updated_at = now
        filing.last_answer_at = issued_at or now
        filing.last_notification_id = notification_id[:64]
        filing.delivery_error = ""
        if status == FilingStatus.ACCEPTED:
            filing.registration_number = str(payload.get("registration_number") or "")[:64]
        if status in (FilingStatus.REJECTED, FilingStatus.QUERY):
            filing.reasons = _reasons(payload)
        filing.question = str(payload.get("question") or "") if status == FilingStatus.QUERY else ""
        filing.save()
        kind.version_model.objects.filter(filing=filing, number=filing.version).update(
            answer_status=status, answer_reasons=filing.reasons
        )
        _after_answer(kind, filing, old)
    return filing


def _after_answer(kind: Kind, filing: Filing, old: str) -> None:
    trade = filing.trade
    names = {"filing": kind.label, "trade": trade.reference}
    title = None
    if filing.status == FilingStatus.ACCEPTED:
        note = _("Registered as %(number)s") % {"number": filing.registration_number}
        step_status = StepStatus.DONE
        title = _in_language(gettext_noop("%(filing)s of %(trade)s accepted"), **names)
    elif filing.status == FilingStatus.REJECTED:
        note = "; ".join(r["message"] for r in filing.reasons) or _("Rejected")
        step_status = StepStatus.BLOCKED
        title = _in_language(gettext_noop("%(filing)s of %(trade)s rejected"), **names)
    elif filing.status == FilingStatus.QUERY:
        note = filing.question or _("Question from the single window")
        step_status = StepStatus.BLOCKED
        title = _in_language(gettext_noop("Question about the %(filing)s of %(trade)s"), **names)
    else:
        note, step_status = _("Received by the single window"), StepStatus.IN_PROGRESS
    _move_step(trade, kind.step_code, step_status, note, None)
    record_event(
        actor=None,
        organisation_id=trade.organisation_id,
        action=f"finance.{kind.audit}_answered",
        obj=filing,
        changes={
            "trade": trade.reference,
            "status": [old, filing.status],
            "conversation_id": filing.conversation_id,
            "notification_id": filing.last_notification_id,
            "registration_number": filing.registration_number,
            "reasons": filing.reasons,
            "question": filing.question,
        },
    )
    if title is not None:
        _notify(trade, kind=f"finance.{kind.audit}_{filing.status}", title=title, body=note)
