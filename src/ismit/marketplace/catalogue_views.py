"""Pages of the catalogue (provider portal) and of providers (directory, profile, operators' actions)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.lib.errors import error_dict
from ismit.lib.scoping import ADMIN, CHANGE
from ismit.marketplace import catalogue_queries as queries
from ismit.marketplace import catalogue_services as services
from ismit.marketplace import quality, ratecards
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import RateBasis, ServiceType
from ismit.marketplace.pricing import price_rate_card
from ismit.refdata.queries import list_transport_modes

BLANK_ROWS = 3
_ROW = re.compile(r"^(lanes|rate_lines)\[(\d+)\]\.(\w+)$")


# -- the offering form ------------------------------------------------------------------------------------


def _data_from_post(post) -> services.OfferingData:
    lanes = [
        services.LaneData(
            origin_country=oc, origin_location=ol, destination_country=dc, destination_location=dl
        )
        for oc, ol, dc, dl in zip(
            post.getlist("origin_country"),
            post.getlist("origin_location"),
            post.getlist("destination_country"),
            post.getlist("destination_location"),
            strict=False,
        )
        if any(v.strip() for v in (oc, ol, dc, dl))
    ]
    surcharges = set(post.getlist("rate_surcharge"))
    rate_lines = [
        services.RateLineData(
            code=code, description=description, basis=basis, amount=amount, is_surcharge=str(i) in surcharges
        )
        for i, (code, description, basis, amount) in enumerate(
            zip(
                post.getlist("rate_code"),
                post.getlist("rate_description"),
                post.getlist("rate_basis"),
                post.getlist("rate_amount"),
                strict=False,
            )
        )
        if code.strip() or amount.strip()
    ]
    return services.OfferingData(
        name=post.get("name", ""),
        service_type=post.get("service_type", ""),
        currency=post.get("currency", ""),
        valid_from=post.get("valid_from", ""),
        valid_until=post.get("valid_until", ""),
        modes=post.getlist("modes"),
        max_mass_kg=post.get("max_mass_kg") or None,
        max_volume_m3=post.get("max_volume_m3") or None,
        dangerous_goods=bool(post.get("dangerous_goods")),
        temperature_control=bool(post.get("temperature_control")),
        transit_days=post.get("transit_days") or None,
        terms=post.get("terms", ""),
        lanes=lanes,
        rate_lines=rate_lines,
    )


def _form_context(request: HttpRequest, data: services.OfferingData, errors: dict | None = None) -> dict:
    errors = errors or {}
    row_errors: dict[tuple[str, int], list[str]] = {}
    field_errors: dict[str, list[str]] = {}
    for path, found in errors.items():
        match = _ROW.match(path)
        if match:
            row_errors.setdefault((match.group(1), int(match.group(2))), []).extend(found)
        else:
            key = "general" if path == "__all__" else path.split(".")[0]
            field_errors.setdefault(key, []).extend(found)
    organisation = request.actor.organisation
    lanes = [
        {"lane": lane, "errors": row_errors.get(("lanes", i), [])} for i, lane in enumerate(data.lanes)
    ] + [{"lane": services.LaneData(), "errors": []} for _ in range(BLANK_ROWS)]
    rates = [
        {"line": line, "errors": row_errors.get(("rate_lines", i), []), "index": i}
        for i, line in enumerate(data.rate_lines)
    ]
    rates += [
        {"line": services.RateLineData(), "errors": [], "index": len(rates) + n} for n in range(BLANK_ROWS)
    ]
    return {
        "data": data,
        "errors": field_errors,
        "lanes": lanes,
        "rates": rates,
        "services": [
            (value, label)
            for value, label in ServiceType.choices
            if organisation is None or value in services.publishable_services(organisation)
        ],
        "bases": RateBasis.choices,
        "modes": list_transport_modes(),
    }


def _provider_organisation(request: HttpRequest):
    organisation = request.actor.organisation
    if organisation is None or organisation.kind != "provider":
        raise Http404
    return organisation


# -- catalogue ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    organisation = _provider_organisation(request)
    context = {
        "organisation": organisation,
        "offerings": queries.own_offerings(request.actor, organisation),
        "provider": queries.own_provider(request.actor),
        "can_change": request.actor.can(CHANGE, organisation.pk),
        "import_errors": None,
    }
    return render(request, "marketplace/catalogue/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def offering_new(request: HttpRequest) -> HttpResponse:
    organisation = _provider_organisation(request)
    if not request.actor.can(CHANGE, organisation.pk):
        raise PermissionDenied
    if request.method == "POST":
        data = _data_from_post(request.POST)
        try:
            offering = services.create_offering(actor=request.actor, organisation=organisation, data=data)
        except ValidationError as exc:
            context = _form_context(request, data, error_dict(exc))
            return render(request, "marketplace/catalogue/form.html", context, status=422)
        messages.success(request, _("Offering published."))
        return redirect("catalogue:edit", pk=offering.pk)
    today = timezone.localdate()
    data = services.OfferingData(
        currency="EUR", valid_from=today, valid_until=today + dt.timedelta(days=365), modes=[]
    )
    return render(request, "marketplace/catalogue/form.html", _form_context(request, data))


@login_required
@require_http_methods(["GET", "POST"])
def offering_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offering = queries.get_offering_for(request.actor, pk, CHANGE)
    if request.method == "POST":
        data = _data_from_post(request.POST)
        try:
            services.update_offering(actor=request.actor, offering=offering, data=data)
        except ValidationError as exc:
            context = _form_context(request, data, error_dict(exc))
            context["offering"] = offering
            return render(request, "marketplace/catalogue/form.html", context, status=422)
        messages.success(request, _("Offering saved."))
        return redirect("catalogue:edit", pk=offering.pk)
    context = _form_context(request, services.OfferingData.of(offering))
    context["offering"] = offering
    context["sample"] = {"gross_mass_kg": "1000", "volume_m3": "5", "goods_value": "10000"}
    return render(request, "marketplace/catalogue/form.html", context)


@login_required
@require_POST
def offering_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    offering = queries.get_offering_for(request.actor, pk, CHANGE)
    try:
        services.set_offering_active(actor=request.actor, offering=offering, active=not offering.active)
    except ValidationError as exc:
        for found in error_dict(exc).values():
            for message in found:
                messages.error(request, message)
    return redirect("catalogue:list")


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal((value or "0").replace(",", ".").strip() or "0")
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() and number >= 0 else Decimal(0)


@login_required
@require_POST
def offering_price(request: HttpRequest, pk: int) -> HttpResponse:
    """The price the rate card (as saved, or as posted by the form) gives a sample cargo: an htmx partial."""
    offering = queries.get_offering_for(request.actor, pk)
    post = request.POST
    containers = {}
    for size in ("20", "40", "40HC"):
        try:
            count = int(post.get(f"containers_{size}") or 0)
        except ValueError:
            count = 0
        if count > 0:
            containers[size] = min(count, 1000)
    cargo = CargoSpec(
        origin_country="",
        destination_country="",
        gross_mass_kg=_decimal(post.get("gross_mass_kg", "")),
        volume_m3=_decimal(post.get("volume_m3", "")),
        containers=containers,
        goods_value=_decimal(post.get("goods_value", "")),
        value_currency=(post.get("value_currency") or offering.currency_id).upper()[:3],
    )
    lines = list(offering.rate_lines.all())
    price = price_rate_card(
        rate_lines=lines, currency=offering.currency_id, cargo=cargo, on=timezone.localdate()
    )
    return render(request, "marketplace/catalogue/_price.html", {"price": price, "offering": offering})


@login_required
@require_GET
def offering_csv(request: HttpRequest, pk: int) -> HttpResponse:
    offering = queries.get_offering_for(request.actor, pk)
    response = HttpResponse(ratecards.export_csv([offering]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="offering-{offering.pk}-rates.csv"'
    return response


@login_required
@require_GET
def catalogue_csv(request: HttpRequest) -> HttpResponse:
    organisation = _provider_organisation(request)
    offerings = queries.own_offerings(request.actor, organisation)
    response = HttpResponse(ratecards.export_csv(offerings), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="catalogue.csv"'
    return response


@login_required
@require_POST
def catalogue_import(request: HttpRequest) -> HttpResponse:
    organisation = _provider_organisation(request)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ratecards.RateCardError([ratecards.RowError(None, "", "", _("Choose a CSV file."))])
        result = ratecards.import_catalogue(
            actor=request.actor, organisation=organisation, data=upload.read()
        )
    except ratecards.RateCardError as exc:
        context = {
            "organisation": organisation,
            "offerings": queries.own_offerings(request.actor, organisation),
            "provider": queries.own_provider(request.actor),
            "can_change": request.actor.can(CHANGE, organisation.pk),
            "import_errors": exc.errors,
        }
        return render(request, "marketplace/catalogue/list.html", context, status=422)
    messages.success(
        request,
        _("Rate cards imported: %(created)d offerings created, %(updated)d replaced.")
        % {"created": len(result.created), "updated": len(result.updated)},
    )
    return redirect("catalogue:list")


# -- providers ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    service_type = request.GET.get("service", "")
    if service_type not in ServiceType.values:
        service_type = ""
    actor = request.actor
    providers = (
        queries.providers_for_operator(actor)
        if actor.is_operator
        else queries.provider_directory(actor, service_type)
    )
    if actor.is_operator and service_type:
        providers = providers.filter(
            organisation__offerings__service_type=service_type, organisation__offerings__active=True
        ).distinct()
    context = {"providers": providers, "services": ServiceType.choices, "service": service_type}
    return render(request, "marketplace/catalogue/providers.html", context)


@login_required
@require_GET
def provider_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = request.actor
    provider = queries.get_provider_for(actor, org_id)
    kpis = provider.kpis or {}
    components = kpis.get("components", {})
    context = {
        "provider": provider,
        "kpis": kpis,
        "components": [
            {"name": name, "weight": weight, **components.get(name, {})}
            for name, weight in quality.WEIGHTS.items()
        ],
        "prior": quality.PRIOR,
        "prior_weight": quality.PRIOR_WEIGHT,
        "offerings": queries.public_offerings_of(actor, provider),
        "is_operator": actor.is_operator,
        "is_owner": actor.can(ADMIN, provider.organisation_id),
    }
    return render(request, "marketplace/catalogue/provider.html", context)


@login_required
@require_POST
def provider_standing(request: HttpRequest, org_id: int) -> HttpResponse:
    """Operators: suspend, reinstate, record an exit; owners of the provider: leave."""
    actor = request.actor
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    try:
        if action == "leave":
            provider = queries.get_provider_for(actor, org_id)
            services.leave_marketplace(actor=actor, organisation=provider.organisation, reason=reason)
        else:
            organisation = queries.get_provider_organisation_for_operator(actor, org_id)
            act = {
                "suspend": services.suspend_provider,
                "reinstate": services.reinstate_provider,
                "exit": services.record_provider_exit,
            }.get(action)
            if act is None:
                raise Http404
            act(actor=actor, organisation=organisation, reason=reason)
    except ValidationError as exc:
        for found in error_dict(exc).values():
            for message in found:
                messages.error(request, message)
    else:
        messages.success(request, _("The provider's standing is changed."))
    return redirect("catalogue:provider", org_id=org_id)
