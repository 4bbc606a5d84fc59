"""Pages of the logistics app: an MSME releases a consignment of a trade and follows it; a forwarder sees
what was released to it by lane and week, plans, and reads the plan and its manifest."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE, VIEW
from ismit.logistics import queries, services
from ismit.logistics.optimiser import CATEGORIES, DG_CLASSES
from ismit.trades.queries import get_trade_for


class ReleaseForm(forms.Form):
    forwarder = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Forwarder"))
    ready_from = forms.DateField(
        label=gettext_lazy("Ready from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ready_to = forms.DateField(
        label=gettext_lazy("Ready until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ChoiceField(label=gettext_lazy("Cargo category"), choices=[(c, c) for c in CATEGORIES])
    dangerous_goods = forms.ChoiceField(
        label=gettext_lazy("Dangerous goods class"),
        required=False,
        choices=[("", "—"), *[(c, c) for c in DG_CLASSES]],
    )
    temperature_min_c = forms.DecimalField(label=gettext_lazy("Temperature from (°C)"), required=False)
    temperature_max_c = forms.DecimalField(label=gettext_lazy("Temperature to (°C)"), required=False)
    length_cm = forms.DecimalField(label=gettext_lazy("Package length (cm)"), min_value=Decimal("0.1"))
    width_cm = forms.DecimalField(label=gettext_lazy("Package width (cm)"), min_value=Decimal("0.1"))
    height_cm = forms.DecimalField(label=gettext_lazy("Package height (cm)"), min_value=Decimal("0.1"))
    stackable = forms.BooleanField(label=gettext_lazy("Stackable"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forwarder"].queryset = queries.forwarders()


def _trade_page(request: HttpRequest, trade, form: ReleaseForm, status: int = 200) -> HttpResponse:
    rows = [
        (c, queries.share_of(request.actor, c)) for c in queries.consignments_of_trade(request.actor, trade)
    ]
    return render(
        request,
        "logistics/trade.html",
        {
            "trade": trade,
            "rows": rows,
            "form": form,
            "can_change": request.actor.can(CHANGE, trade.organisation_id),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def trade_consolidation(request: HttpRequest, pk: int) -> HttpResponse:
    trade = get_trade_for(request.actor, pk, VIEW)
    if trade.organisation_id not in request.actor.roles:
        raise Http404
    if request.method == "GET":
        return _trade_page(request, trade, ReleaseForm(initial={"stackable": True, "category": "general"}))
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _trade_page(request, trade, form, status=422)
    data = form.cleaned_data
    packages = services.packages_from_goods(
        trade,
        length_cm=float(data["length_cm"]),
        width_cm=float(data["width_cm"]),
        height_cm=float(data["height_cm"]),
    )
    for line in packages:
        line["stackable"] = bool(data["stackable"])
    temperature = None
    if data["temperature_min_c"] is not None or data["temperature_max_c"] is not None:
        temperature = (data["temperature_min_c"], data["temperature_max_c"])
    try:
        services.release_consignment(
            actor=request.actor,
            trade=trade,
            forwarder=data["forwarder"],
            ready_from=data["ready_from"],
            ready_to=data["ready_to"],
            packages=packages,
            category=data["category"],
            dangerous_goods=data["dangerous_goods"] or None,
            temperature=temperature,
        )
    except ValidationError as exc:
        for field, errors in error_dict(exc).items():
            form.add_error(field if field in form.fields else None, errors)
        return _trade_page(request, trade, form, status=422)
    messages.success(request, _("Consignment released for consolidation."))
    return redirect("logistics:trade", pk=trade.pk)


@login_required
@require_POST
def consignment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    consignment = queries.get_consignment_for(request.actor, pk)
    try:
        services.withdraw_consignment(actor=request.actor, consignment=consignment)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in error_dict(exc).values() for m in ms))
    else:
        messages.success(request, _("Consignment withdrawn."))
    return redirect("logistics:trade", pk=consignment.trade_id)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    forwarders = queries.forwarder_organisations(request.actor)
    if not forwarders:
        raise Http404
    sections = [
        {
            "forwarder": f,
            "groups": queries.released_by_lane_week(request.actor, f),
            "plans": queries.plans_visible_to(request.actor).filter(forwarder=f)[:20],
        }
        for f in forwarders
    ]
    return render(request, "logistics/index.html", {"sections": sections})


@login_required
@require_POST
def plan_create(request: HttpRequest) -> HttpResponse:
    forwarder = next(
        (
            f
            for f in queries.forwarder_organisations(request.actor)
            if str(f.pk) == request.POST.get("forwarder")
        ),
        None,
    )
    if forwarder is None:
        raise Http404
    try:
        week = dt.date.fromisoformat(request.POST.get("week", ""))
        plan = services.plan_consolidation(
            actor=request.actor,
            forwarder=forwarder,
            mode=request.POST.get("mode", ""),
            origin=request.POST.get("origin", ""),
            destination=request.POST.get("destination", ""),
            week=week,
            currency=request.POST.get("currency") or "USD",
        )
    except (ValueError, InvalidOperation):
        messages.error(request, _("Choose a lane and a week."))
        return redirect("logistics:index")
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in error_dict(exc).values() for m in ms))
        return redirect("logistics:index")
    messages.success(request, _("Load plan saved."))
    return redirect("logistics:plan", pk=plan.pk)


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = queries.get_plan_for(request.actor, pk)
    return render(request, "logistics/plan.html", {"plan": plan, "loads": queries.loads_of(plan)})


@login_required
@require_GET
def manifest_csv(request: HttpRequest, pk: int) -> HttpResponse:
    plan = queries.get_plan_for(request.actor, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="manifest-{plan.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["load", "load_type", "ship_date", "consignment", "owner", "packages", "mass_kg", "volume_m3",
         "dangerous_goods", "category", "share", "currency"]
    )  # fmt: skip
    for load in queries.loads_of(plan):
        shares = {a.consignment.reference: a.share for a in load.assignments.all()}
        for line in load.manifest:
            writer.writerow(
                [load.number, load.load_type, load.ship_date.isoformat(), line["consignment"], line["owner"],
                 line["packages"], line["mass_kg"], line["volume_m3"], line["dangerous_goods"] or "",
                 line["category"], shares.get(line["consignment"], ""), plan.currency_id]
            )  # fmt: skip
    return response
