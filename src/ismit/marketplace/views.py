"""Pages of the marketplace: a trade's services (request quotes; its RFQs and contracts), an RFQ's
comparison (accept), the provider's inbox (quote, confirm, decline), contracts (both parties, each its own
view: the provider sees the shared data only, the MSME the access log and the invoices against the quote)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE, VIEW
from ismit.marketplace import queries, scopes, services
from ismit.marketplace.models import ServiceType

BLANK_LINES = 4


def _flash_errors(request: HttpRequest, exc: ValidationError) -> dict[str, list[str]]:
    errors = error_dict(exc)
    for field, found in errors.items():
        for message in found:
            messages.error(request, message if field == "__all__" else f"{field}: {message}")
    return errors


def _lines_from(post) -> list[dict]:
    """The charge lines of a posted form (rows with neither code nor amount are left out)."""
    codes, descriptions = post.getlist("line_code"), post.getlist("line_description")
    rows = zip(codes, descriptions, post.getlist("line_amount"), strict=False)
    return [
        {"code": code, "description": description, "amount": amount}
        for code, description, amount in rows
        if code.strip() or amount.strip()
    ]


# -- a trade's services ----------------------------------------------------------------------------------


def _services_page(
    request: HttpRequest, trade, *, status: int = 200, form: dict | None = None
) -> HttpResponse:
    default_deadline = timezone.localtime() + dt.timedelta(days=3)
    context = {
        "trade": trade,
        "rfqs": list(queries.rfqs_of_trade(request.actor, trade)),
        "contracts": list(queries.contracts_of_trade(request.actor, trade)),
        "service_choices": ServiceType.choices,
        "can_change": request.actor.can(CHANGE, trade.organisation_id),
        "verified": trade.organisation.can_submit_to_third_parties,
        "form": form
        or {"services": [ServiceType.CARRIAGE], "deadline": default_deadline.strftime("%Y-%m-%dT%H:%M")},
        "cargo": queries.cargo_from_trade(trade),
    }
    return render(request, "marketplace/trade_services.html", context, status=status)


@login_required
def trade_services(request: HttpRequest, pk: int) -> HttpResponse:
    trade = queries.get_services_trade_for(request.actor, pk)
    if request.method != "POST":
        return _services_page(request, trade)
    post = request.POST
    form = {
        "services": post.getlist("services"),
        "deadline": post.get("deadline", ""),
        "notes": post.get("notes", ""),
        "volume_m3": post.get("volume_m3", ""),
        "containers_20": post.get("containers_20", ""),
        "containers_40": post.get("containers_40", ""),
        "containers_40HC": post.get("containers_40HC", ""),
        "dangerous_goods": bool(post.get("dangerous_goods")),
        "temperature_control": bool(post.get("temperature_control")),
    }
    containers = {k: form[f"containers_{k}"] for k in services.CONTAINER_TYPES if form[f"containers_{k}"]}
    try:
        rfq = services.create_rfq(
            actor=request.actor,
            trade=trade,
            services=form["services"],
            cargo=services.CargoAdditions(
                volume_m3=form["volume_m3"],
                containers=containers,
                dangerous_goods=form["dangerous_goods"],
                temperature_control=form["temperature_control"],
            ),
            deadline=form["deadline"],
            notes=form["notes"],
        )
    except ValidationError as exc:
        form["errors"] = _flash_errors(request, exc)
        return _services_page(request, trade, status=422, form=form)
    messages.success(request, _("Request %(reference)s sent.") % {"reference": rfq.reference})
    return redirect("marketplace:rfq", pk=rfq.pk)


# -- an RFQ ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def rfq_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    rfq = queries.get_rfq_for(actor, pk)
    sort = request.GET.get("sort", queries.DEFAULT_SORT)
    if sort not in queries.SORTS:
        sort = queries.DEFAULT_SORT
    is_msme = queries.is_msme_of(actor, rfq)
    invitations = queries.invitations_of(actor, rfq)
    if not is_msme:
        services.note_invitations_viewed(invitations)
    context = {
        "rfq": rfq,
        "is_msme": is_msme,
        "can_accept": queries.is_msme_of(actor, rfq, CHANGE),
        "sort": sort,
        "sorts": queries.SORTS,
        "comparison": queries.compare_quotes(rfq, sort, quotes=queries.quotes_of(actor, rfq)),
        "invitations": invitations,
        "cargo": rfq.cargo,
    }
    template = "marketplace/rfq.html" if is_msme else "marketplace/rfq_provider.html"
    if request.headers.get("HX-Request") == "true":
        template = "marketplace/_comparison.html"
    return render(request, template, context)


@login_required
@require_POST
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.get_quote_for(request.actor, pk)
    try:
        contract = services.accept_quote(actor=request.actor, quote=quote)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("marketplace:rfq", pk=quote.rfq_id)
    messages.success(
        request, _("Quote accepted: contract %(reference)s.") % {"reference": contract.reference}
    )
    return redirect("marketplace:contract", pk=contract.pk)


# -- the provider's inbox --------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    invitations = list(queries.inbox_of(request.actor)[:100])
    services.note_invitations_viewed(invitations)
    return render(request, "marketplace/inbox.html", {"invitations": invitations})


@login_required
@require_POST
def quote_submit(request: HttpRequest, pk: int) -> HttpResponse:
    rfq = queries.get_rfq_for(request.actor, pk)
    post = request.POST
    try:
        services.submit_quote(
            actor=request.actor,
            rfq=rfq,
            service_type=post.get("service_type", ""),
            lines=_lines_from(post),
            currency=post.get("currency", ""),
            valid_until=post.get("valid_until", ""),
            transit_days=post.get("transit_days", ""),
            terms=post.get("terms", ""),
            pickup_within_days=post.get("pickup_within_days", ""),
            claims_response_days=post.get("claims_response_days", ""),
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Firm quote submitted."))
    return redirect("marketplace:rfq", pk=rfq.pk)


@login_required
@require_POST
def quote_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.get_quote_for(request.actor, pk)
    try:
        services.confirm_quote(actor=request.actor, quote=quote)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Indicative quote confirmed as firm."))
    return redirect("marketplace:rfq", pk=quote.rfq_id)


@login_required
@require_POST
def invitation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = queries.get_invitation_for(request.actor, pk)
    try:
        services.decline_invitation(
            actor=request.actor, invitation=invitation, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Request declined."))
    return redirect("marketplace:inbox")


# -- contracts ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    contracts = list(queries.contracts_visible_to(request.actor)[:200])
    return render(request, "marketplace/contracts.html", {"contracts": contracts})


@login_required
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    contract = queries.get_contract_for(actor, pk)
    is_msme = queries.is_msme_of(actor, contract)
    invoices = queries.invoices_of(contract)
    context = {
        "contract": contract,
        "is_msme": is_msme,
        "can_msme_change": queries.is_msme_of(actor, contract, CHANGE),
        "can_provider_change": queries.may_change_as_provider(actor, contract),
        "scope": scopes.group_labels(list(contract.data_scope)),
        "milestones": list(contract.milestones.all()),
        "milestone_codes": list(services.MILESTONE_LABELS.items()),
        "invoices": [(i, queries.invoice_against_quote(i, contract.quote)) for i in invoices],
        "claims": list(contract.claims.all()),
        "rating": queries.rating_of(contract),
        "today": timezone.localdate(),
    }
    if is_msme:
        context["accesses"] = queries.accesses_of(contract)
    else:
        shared = services.read_shared_data(actor=actor, contract=contract, channel="page")
        rows, headers, goods = queries.shared_rows(shared)
        context.update(shared_rows=rows, shared_headers=headers, shared_goods=goods)
    return render(request, "marketplace/contract.html", context)


def _contract_post(request: HttpRequest, pk: int, run, done: str) -> HttpResponse:
    contract = queries.get_contract_for(request.actor, pk, VIEW)
    try:
        run(contract)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("marketplace:contract", pk=contract.pk)


@login_required
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _contract_post(
        request,
        pk,
        lambda c: services.record_milestone(
            actor=request.actor,
            contract=c,
            code=post.get("code", ""),
            at=post.get("at") or None,
            note=post.get("note", ""),
        ),
        _("Milestone recorded."),
    )


@login_required
@require_POST
def invoice_add(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _contract_post(
        request,
        pk,
        lambda c: services.raise_invoice(
            actor=request.actor,
            contract=c,
            number=post.get("number", ""),
            issued_on=post.get("issued_on", ""),
            lines=_lines_from(post),
        ),
        _("Invoice recorded."),
    )


@login_required
@require_POST
def rating_add(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _contract_post(
        request,
        pk,
        lambda c: services.rate_contract(
            actor=request.actor, contract=c, stars=post.get("stars", ""), comment=post.get("comment", "")
        ),
        _("Thank you for your rating."),
    )


@login_required
@require_POST
def claim_add(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _contract_post(
        request,
        pk,
        lambda c: services.open_claim(
            actor=request.actor, contract=c, reason=post.get("reason", ""), amount=post.get("amount") or None
        ),
        _("Claim opened."),
    )
