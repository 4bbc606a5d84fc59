"""Pages of the finance app: the "Finance" tab of a trade (payments, cross-check, FX report, VAT claim)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ismit.finance import queries, services
from ismit.finance.forms import FxReportForm, PaymentForm, VatClaimForm
from ismit.finance.kinds import FX_KIND, VAT_KIND
from ismit.finance.models import FilingStatus
from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE


def _card(kind, filing, mismatches, form, can_change: bool) -> dict:
    status = filing.status if filing else FilingStatus.DRAFT
    if status in (FilingStatus.QUEUED, FilingStatus.SENT, FilingStatus.RECEIVED):
        waiting = _("Sent: waiting for the single window's answer.")
    elif status == FilingStatus.ACCEPTED:
        waiting = _("Accepted: nothing more to file.")
    else:
        waiting = ""
    return {
        "kind": kind,
        "filing": filing,
        "mismatches": mismatches,
        "form": form,
        "is_query": status == FilingStatus.QUERY,
        "waiting": waiting,
        "can_submit": can_change and not waiting and not mismatches,
        "versions": list(filing.versions.all()) if filing else [],
    }


def _page(
    request: HttpRequest,
    trade,
    *,
    status: int = 200,
    payment_form: PaymentForm | None = None,
    fx_form: FxReportForm | None = None,
    vat_form: VatClaimForm | None = None,
) -> HttpResponse:
    view = queries.finance_of(trade)
    can_change = request.actor.can(CHANGE, trade.organisation_id)
    claim = view.vat_claim
    if vat_form is None:
        vat_form = VatClaimForm(
            initial={
                "vat_amount": claim.vat_amount if claim else "",
                "vat_rate": claim.vat_rate if claim and claim.vat_rate is not None else "",
                "input_invoices": claim.input_invoices if claim else "",
                "explanation": claim.explanation if claim else "",
            }
        )
    if fx_form is None:
        fx_form = FxReportForm(initial={"explanation": view.fx_report.explanation if view.fx_report else ""})
    context = {
        "trade": trade,
        "view": view,
        "can_change": can_change,
        "payment_form": payment_form
        or PaymentForm(
            initial={"currency": trade.currency_id, "received_on": timezone.localdate().isoformat()}
        ),
        "cards": [
            _card(FX_KIND, view.fx_report, view.mismatches["fx"], fx_form, can_change),
            _card(VAT_KIND, claim, view.mismatches["vat"], vat_form, can_change),
        ],
        "is_export": trade.direction == "export",
    }
    return render(request, "finance/trade.html", context, status=status)


@login_required
@require_GET
def trade_finance(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, queries.get_finance_trade_for(request.actor, pk))


@login_required
@require_POST
def payment_add(request: HttpRequest, pk: int) -> HttpResponse:
    trade = queries.get_finance_trade_for(request.actor, pk)
    form = PaymentForm(request.POST)
    form.is_valid()
    data = services.PaymentData(**{name: request.POST.get(name, "") for name in form.fields})
    try:
        services.record_payment(actor=request.actor, trade=trade, data=data)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, trade, status=422, payment_form=form)
    messages.success(request, _("Payment recorded."))
    return redirect("finance:trade", pk=trade.pk)


@login_required
@require_POST
def payment_delete(request: HttpRequest, pk: int, payment_id: int) -> HttpResponse:
    payment = queries.get_payment_for(request.actor, pk, payment_id)
    try:
        services.delete_payment(actor=request.actor, payment=payment)
    except ValidationError as exc:
        for message_list in error_dict(exc).values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("Payment deleted."))
    return redirect("finance:trade", pk=pk)


def _not_filed(request: HttpRequest, exc: ValidationError) -> None:
    if isinstance(exc, services.CrossCheckFailed):
        messages.error(
            request, _("Not filed: the data do not agree. Fix the mismatches shown, then file again.")
        )
    else:
        messages.error(request, _("Not filed."))


@login_required
@require_POST
def fx_submit(request: HttpRequest, pk: int) -> HttpResponse:
    trade = queries.get_finance_trade_for(request.actor, pk)
    form = FxReportForm(request.POST)
    form.is_valid()
    try:
        services.submit_fx_report(
            actor=request.actor, trade=trade, explanation=request.POST.get("explanation")
        )
    except ValidationError as exc:
        _not_filed(request, exc)
        if not isinstance(exc, services.CrossCheckFailed):
            form.add_service_errors(exc)
        return _page(request, trade, status=422, fx_form=form)
    messages.success(request, _("FX settlement report queued: it is sent to the single window now."))
    return redirect("finance:trade", pk=trade.pk)


@login_required
@require_POST
def vat_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save what the MSME entered on the VAT claim; with "submit", then file it."""
    trade = queries.get_finance_trade_for(request.actor, pk)
    form = VatClaimForm(request.POST)
    form.is_valid()
    try:
        services.save_vat_claim(
            actor=request.actor,
            trade=trade,
            vat_amount=request.POST.get("vat_amount", ""),
            vat_rate=request.POST.get("vat_rate", ""),
            input_invoices=request.POST.get("input_invoices", ""),
        )
        if request.POST.get("action") == "submit":
            services.submit_vat_claim(
                actor=request.actor, trade=trade, explanation=request.POST.get("explanation")
            )
    except ValidationError as exc:
        if request.POST.get("action") == "submit":
            _not_filed(request, exc)
        if not isinstance(exc, services.CrossCheckFailed):
            form.add_service_errors(exc)
        return _page(request, trade, status=422, vat_form=form)
    if request.POST.get("action") == "submit":
        messages.success(request, _("VAT refund claim queued: it is sent to the single window now."))
    else:
        messages.success(request, _("VAT refund claim saved."))
    return redirect("finance:trade", pk=trade.pk)
