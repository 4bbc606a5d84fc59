"""Pages of the trades app: the list, the guided entry form, and a trade with its checklist."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE
from ismit.refdata.models import Incoterm
from ismit.trades import checklist, services
from ismit.trades.forms import (
    MARKABLE_STATUSES,
    PartyForm,
    StepForm,
    TradeEntry,
    TradeFilterForm,
    describe_incoterm,
    localised_name,
    new_goods_line,
    swapped_parties,
)
from ismit.trades.grants_views import grants_context
from ismit.trades.models import ChecklistStep, Direction, GoodsItem, StepStatus, Trade
from ismit.trades.queries import get_step_for, get_trade_for, totals, trades_visible_to

PAGE_SIZE = 50
SUMMARY_ORDER = (
    StepStatus.DONE,
    StepStatus.IN_PROGRESS,
    StepStatus.BLOCKED,
    StepStatus.TODO,
    StepStatus.NOT_NEEDED,
)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _no_organisation(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Create your organisation first: trades belong to an organisation."))
    return redirect(reverse("accounts:organisation_create"))


# -- list -------------------------------------------------------------------------------------------


def _trade_rows(actor, organisation, filters: TradeFilterForm) -> QuerySet[Trade]:
    """The organisation's trades with their value and progress, in one query."""
    amount = (
        GoodsItem.objects.filter(trade=OuterRef("pk"))
        .order_by()
        .values("trade")
        .annotate(
            total=Sum(
                F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=24, decimal_places=2)
            )
        )
        .values("total")
    )
    rows = (
        trades_visible_to(actor)
        .of_organisation(organisation.id)  # its own trades and those it is appointed on (grants)
        .order_by("-created_at", "-id")
        .annotate(
            amount=Subquery(amount, output_field=DecimalField(max_digits=24, decimal_places=2)),
            steps_applicable=Count("steps", filter=~Q(steps__status=StepStatus.NOT_NEEDED), distinct=True),
        )
    )
    if filters.is_valid():
        value = filters.cleaned_data
        if value["status"]:
            rows = rows.filter(status=value["status"])
        if value["direction"]:
            rows = rows.filter(direction=value["direction"])
        if value["q"]:
            q = value["q"].strip()
            rows = rows.filter(
                Q(reference__icontains=q)
                | Q(buyer__name__icontains=q)
                | Q(seller__name__icontains=q)
                | Q(invoice_number__icontains=q)
            )
    return rows


@login_required
@require_GET
def trade_list(request: HttpRequest) -> HttpResponse:
    organisation = request.actor.organisation
    if organisation is None:
        return _no_organisation(request)
    filters = TradeFilterForm(request.GET or None)
    page = Paginator(_trade_rows(request.actor, organisation, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "organisation": organisation,
        "filters": filters,
        "page": page,
        "can_change": request.actor.can(CHANGE, organisation.id),
    }
    template = "trades/_table.html" if _is_htmx(request) else "trades/list.html"
    return render(request, template, context)


# -- entry form -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def trade_create(request: HttpRequest) -> HttpResponse:
    organisation = request.actor.organisation
    if organisation is None:
        return _no_organisation(request)
    if not request.actor.can(CHANGE, organisation.id):
        raise PermissionDenied(_("You may not create trades for this organisation."))
    entry = TradeEntry.for_new(organisation, request.POST or None, direction=request.GET.get("direction"))
    if request.method == "POST" and entry.is_valid():
        try:
            trade = services.create_trade(
                actor=request.actor, organisation=organisation, data=entry.to_data()
            )
        except ValidationError as exc:
            entry.add_service_errors(exc)
        else:
            messages.success(request, _("Trade %(reference)s saved.") % {"reference": trade.reference})
            return redirect("trades:detail", pk=trade.pk)
    return render(request, "trades/form.html", {"entry": entry, "organisation": organisation})


@login_required
@require_http_methods(["GET", "POST"])
def trade_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trade = get_trade_for(request.actor, pk, CHANGE)
    entry = TradeEntry.for_trade(trade, request.POST or None)
    if request.method == "POST" and entry.is_valid():
        try:
            trade = services.update_trade(actor=request.actor, trade=trade, data=entry.to_data())
        except ValidationError as exc:
            entry.add_service_errors(exc)
        else:
            messages.success(request, _("Trade %(reference)s saved.") % {"reference": trade.reference})
            return redirect("trades:detail", pk=trade.pk)
    return render(
        request, "trades/form.html", {"entry": entry, "trade": trade, "organisation": trade.organisation}
    )


@login_required
@require_GET
def trade_parties(request: HttpRequest) -> HttpResponse:
    """The seller and buyer blocks again, swapped, after the direction changed (htmx)."""
    parties = swapped_parties(request.GET)
    context = {
        "direction": request.GET.get("direction")
        if request.GET.get("direction") in Direction.values
        else Direction.EXPORT,
        "seller": PartyForm(prefix="seller", initial=parties["seller"]),
        "buyer": PartyForm(prefix="buyer", initial=parties["buyer"]),
    }
    return render(request, "trades/_parties.html", context)


@login_required
@require_GET
def goods_line(request: HttpRequest) -> HttpResponse:
    """One more empty goods line, and the formset's new line count (htmx "Add a line")."""
    try:
        index = max(0, min(int(request.GET.get("index", "0")), 499))
    except ValueError:
        index = 0
    origin = request.GET.get("origin", "")[:2]
    form = new_goods_line(index, initial={"origin_country": origin} if origin else None)
    return render(
        request, "trades/_goods_line_added.html", {"form": form, "index": index, "total": index + 1}
    )


@login_required
@require_GET
def incoterm_help(request: HttpRequest) -> HttpResponse:
    """Who does what under the chosen Incoterms rule (htmx, under the select)."""
    incoterm = Incoterm.objects.filter(pk=request.GET.get("incoterm", "")[:3]).first()
    return render(request, "trades/_incoterm_help.html", {"rule": describe_incoterm(incoterm)})


# -- one trade --------------------------------------------------------------------------------------


def _describe(step: ChecklistStep, trade: Trade) -> ChecklistStep:
    """What the checklist shows of a step beside its fields: label, side, whether it is marked by hand."""
    step.label = checklist.label_for(step.code)
    step.is_ours = step.responsible == checklist.our_side(trade)
    step.by_hand = step.code in checklist.COMMERCIAL_CODES
    return step


def _summary(statuses) -> list[tuple[str, str, int]]:
    counts = Counter(statuses)
    return [(status.value, status.label, counts.get(status.value, 0)) for status in SUMMARY_ORDER]


@login_required
@require_GET
def trade_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trade = get_trade_for(request.actor, pk)
    steps = [_describe(step, trade) for step in trade.steps.all()]
    context = {
        "trade": trade,
        "items": list(trade.items.all()),
        "totals": totals(trade),
        "steps": steps,
        "summary": _summary(s.status for s in steps),
        "rule": describe_incoterm(trade.incoterm),
        "transport_mode_name": localised_name(trade.transport_mode),
        "can_change": request.actor.can(CHANGE, trade.organisation_id),
        "markable": MARKABLE_STATUSES,
        "our_side": checklist.our_side(trade),
        **grants_context(request.actor, trade),  # the appointed organisations (trades/grants_views.py)
    }
    return render(request, "trades/detail.html", context)


@login_required
@require_POST
def step_update(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """Mark a commercial step by hand; answers the step's <li> (and the new counts) to htmx."""
    step = get_step_for(request.actor, pk, code, CHANGE)
    form = StepForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
    else:
        try:
            step = services.mark_commercial_step(actor=request.actor, step=step, **form.cleaned_data)
        except ValidationError as exc:
            errors = [m for messages_ in error_dict(exc).values() for m in messages_]
    if not _is_htmx(request):
        for message in errors:
            messages.error(request, message)
        return redirect("trades:detail", pk=pk)
    trade = step.trade
    trade.refresh_from_db(fields=["status", "updated_at"])
    context = {
        "step": _describe(step, trade),
        "trade": trade,
        "can_change": True,
        "markable": MARKABLE_STATUSES,
        "step_errors": errors,
        "summary": _summary(trade.steps.values_list("status", flat=True)),
    }
    return render(request, "trades/_step_updated.html", context)  # htmx swaps only 2xx answers


@login_required
@require_POST
def trade_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    trade = get_trade_for(request.actor, pk, CHANGE)
    try:
        new = services.duplicate_trade(actor=request.actor, trade=trade)
    except ValidationError as exc:
        for message in (m for ms in error_dict(exc).values() for m in ms):
            messages.error(request, message)
        return redirect("trades:detail", pk=trade.pk)
    messages.success(
        request,
        _("Trade %(new)s started from %(old)s: check the dates and the invoice number.")
        % {"new": new.reference, "old": trade.reference},
    )
    return redirect("trades:detail", pk=new.pk)


@login_required
@require_http_methods(["GET", "POST"])
def trade_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the draft."""
    trade = get_trade_for(request.actor, pk, CHANGE)
    if request.method == "GET":
        return render(request, "trades/confirm_delete.html", {"trade": trade})
    try:
        services.delete_trade(actor=request.actor, trade=trade)
    except ValidationError as exc:
        for message in (m for ms in error_dict(exc).values() for m in ms):
            messages.error(request, message)
        return redirect("trades:detail", pk=trade.pk)
    messages.success(request, _("Draft %(reference)s deleted.") % {"reference": trade.reference})
    return redirect("trades:list")
