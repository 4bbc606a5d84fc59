"""Pages of the tracking app: the shipments list, a shipment (map, timeline, ETA, alerts, checklist, documents
and contracts, who else sees it), the settings (webhooks, deliveries, alert choices), and the buyer's
read-only page behind a share link (no login)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.accounts.models import Organisation
from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE
from ismit.tracking import queries, services
from ismit.tracking.forms import AccessForm, ShareLinkForm, ShipmentForm, WebhookForm
from ismit.tracking.models import AlertKind, Classifier
from ismit.trades.checklist import label_for
from ismit.trades.models import Trade
from ismit.trades.queries import get_trade_for

PAGE_SIZE = 50

# What people call the DCSA codes; others are shown as they are.
EVENT_LABELS = {
    "ARRI": gettext_lazy("Arrival"),
    "DEPA": gettext_lazy("Departure"),
    "GTIN": gettext_lazy("Gate in"),
    "GTOT": gettext_lazy("Gate out"),
    "LOAD": gettext_lazy("Loaded on board"),
    "DISC": gettext_lazy("Discharged"),
    "STUF": gettext_lazy("Stuffed"),
    "STRP": gettext_lazy("Stripped"),
    "PICK": gettext_lazy("Picked up"),
    "DROP": gettext_lazy("Dropped off"),
    "INSP": gettext_lazy("Inspected"),
    "CUSS": gettext_lazy("Selected for a customs check"),
    "CUSI": gettext_lazy("Customs inspection"),
    "CUSR": gettext_lazy("Released by customs"),
    "CONF": gettext_lazy("Booking confirmed"),
    "ISSU": gettext_lazy("Transport document issued"),
    "HOLD": gettext_lazy("On hold"),
    "RELS": gettext_lazy("Released"),
}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _timeline(shipment) -> list:
    """The events with what each row shows, worked out once per page rather than in the template (a
    shipment may have hundreds of events)."""
    events = queries.timeline(shipment)
    labels = {code: str(label) for code, label in EVENT_LABELS.items()}
    kinds = {code: str(label) for code, label in Classifier.choices}
    corrections = queries.corrections_of(events)
    when = _date_formatter()
    for e in events:
        e.label = labels.get(e.type_code) or e.type_code or e.event_type
        e.kind = kinds.get(e.classifier, e.classifier)
        e.when = when(e.event_datetime)
        if e.pk in corrections:
            e.was = when(corrections[e.pk])
    return events


def _timeline_rows(events) -> str:
    """The timeline's table rows. Written here rather than in a template loop: a shipment may have
    hundreds of events, and the template engine spent most of the page's time on them. Every value is
    escaped."""
    corrected = escape(_("corrected"))
    was = escape(_("was"))
    rows = []
    for e in events:
        note = ""
        if e.corrected:
            note = f' <span class="badge in_progress corrected">{corrected}</span>'
            if e.was:
                note += f' <span class="muted">{was} {escape(e.was)}</span>'
        details = " ".join(v for v in (e.equipment_reference, e.vessel_name, e.voyage) if v)
        cls = escape(e.classifier)
        rows.append(
            f'<tr class="event {cls}" data-event="{escape(e.event_id)}"><td>{escape(e.when)}</td>'
            f'<td>{escape(e.label)} <span class="badge cls-{cls}">{escape(e.kind)}</span>{note}</td>'
            f"<td>{escape(e.location_name or e.location)}</td>"
            f'<td class="muted">{escape(details)}</td></tr>\n'
        )
    return mark_safe("".join(rows))  # noqa: S308 (built from escaped values)


def _date_formatter():
    """SHORT_DATETIME_FORMAT in the current language and time zone, its format looked up once."""
    pattern = get_format("SHORT_DATETIME_FORMAT")
    zone = timezone.get_current_timezone()
    return lambda value: dateformat.format(value.astimezone(zone), pattern)


def _tracking(shipment) -> dict:
    """What the owner, an authorised provider and the buyer all see: timeline, ETA, route, alerts."""
    events = _timeline(shipment)
    stops = queries.route_of(shipment, events)
    seen = queries.last_seen(shipment)
    slip = None
    if shipment.eta and shipment.planned_arrival:
        slip = round((shipment.eta - shipment.planned_arrival).total_seconds() / 3600)
    return {
        "shipment": shipment,
        "events": events,
        "timeline_rows": _timeline_rows(events),
        "stops": stops,
        "last_seen": seen,
        "slip_hours": slip,
        "eta_source": Classifier(shipment.eta_classifier).label if shipment.eta_classifier else "",
        "map": {
            "stops": [
                {"code": s.code, "name": s.name, "lat": s.latitude, "lon": s.longitude, "passed": s.passed}
                for s in stops
            ],
            "lastSeen": (
                {"code": seen.code, "name": seen.name, "lat": seen.latitude, "lon": seen.longitude}
                if seen
                else None
            ),
            "tiles": settings.MAP_TILES_URL,
            "attribution": settings.MAP_TILES_ATTRIBUTION,
            "outline": static("tracking/land-110m.geojson"),
        },
    }


# -- list and creation --------------------------------------------------------------------------------------


@login_required
@require_GET
def shipment_list(request: HttpRequest) -> HttpResponse:
    active = request.GET.get("filter", "")
    if active not in queries.FILTERS:
        active = ""
    q = request.GET.get("q", "").strip()[:100]
    trade = None
    if request.GET.get("trade", "").isdigit():  # the trade's "Shipments" tab
        trade = get_trade_for(request.actor, int(request.GET["trade"]))
    rows = queries.shipments_visible_to(
        request.actor, filter=active, q=q, trade_id=trade.pk if trade else None
    ).select_related("trade")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "active": active,
        "q": q,
        "filters": [
            ("", _("All")),
            ("in_transit", _("In transit")),
            ("delayed", _("Delayed")),
            ("arriving_this_week", _("Arriving this week")),
        ],
        "trade": trade,
        "can_create": (
            request.actor.can(CHANGE, trade.organisation_id)
            if trade
            else bool(request.actor.organisation_ids(CHANGE))
        ),
    }
    template = "tracking/_list_table.html" if _is_htmx(request) else "tracking/list.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def shipment_create(request: HttpRequest) -> HttpResponse:
    organisation = request.actor.organisation
    if organisation is None or not request.actor.can(CHANGE, organisation.pk):
        raise PermissionDenied
    trades = Trade.objects.visible_to(request.actor, CHANGE).filter(organisation_id=organisation.pk)
    trades = list(trades.only("pk", "reference").order_by("-created_at", "-id")[:200])
    if request.method == "GET":
        initial = {"trade": request.GET.get("trade", "")}
        form = ShipmentForm(initial=initial, trades=trades)
        return render(request, "tracking/form.html", {"form": form, "organisation": organisation})
    form = ShipmentForm(request.POST, trades=trades)
    if form.is_valid():
        try:
            shipment = services.create_shipment(
                actor=request.actor, organisation=organisation, data=form.data_for_service()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Shipment created: its events appear as carriers send them."))
            return redirect("tracking:detail", pk=shipment.pk)
    return render(request, "tracking/form.html", {"form": form, "organisation": organisation}, status=422)


# -- one shipment -------------------------------------------------------------------------------------------


def _detail(request: HttpRequest, shipment, *, status: int = 200, **extra) -> HttpResponse:
    actor = request.actor
    owner = actor.can(CHANGE, shipment.organisation_id)
    steps = queries.checklist_of(shipment)
    for step in steps:
        step.label = label_for(step.code)
    context = {
        **_tracking(shipment),
        "references": queries.references_of(shipment),
        "alerts": queries.alerts_of(shipment),
        "steps": steps,
        "documents": queries.documents_of(actor, shipment),
        "contracts": queries.contracts_of(actor, shipment),
        "can_change": owner,
        "is_member": shipment.organisation_id in actor.roles,
    }
    if owner:
        context.update(
            share_links=queries.share_links_of(shipment),
            accesses=queries.accesses_of(shipment),
            share_form=extra.pop("share_form", None) or ShareLinkForm(),
            access_form=extra.pop("access_form", None)
            or AccessForm(providers=queries.providers_to_authorise(shipment)),
        )
    context.update(extra)
    return render(request, "tracking/detail.html", context, status=status)


@login_required
@require_GET
def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, queries.get_shipment_for(request.actor, pk))


@login_required
@require_POST
@never_cache
def share_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a link and show it once (it is not stored: only its hash)."""
    shipment = queries.get_shipment_for(request.actor, pk)
    form = ShareLinkForm(request.POST)
    if form.is_valid():
        try:
            link, token = services.create_share_link(
                actor=request.actor,
                shipment=shipment,
                days=form.cleaned_data["days"],
                label=form.cleaned_data["label"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            url = request.build_absolute_uri(f"/s/{token}/")
            return _detail(request, shipment, new_link=link, new_link_url=url)
    return _detail(request, shipment, status=422, share_form=form)


@login_required
@require_POST
def share_link_revoke(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    link = queries.get_share_link_for(request.actor, pk, link_id)
    services.revoke_share_link(actor=request.actor, link=link)
    messages.success(request, _("Link revoked: it opens nothing any more."))
    return redirect("tracking:detail", pk=pk)


@login_required
@require_POST
def access_grant(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = queries.get_shipment_for(request.actor, pk)
    providers = queries.providers_to_authorise(shipment)
    form = AccessForm(request.POST, providers=providers)
    if form.is_valid():
        organisation = Organisation.objects.get(pk=form.cleaned_data["organisation"])
        try:
            services.grant_access(actor=request.actor, shipment=shipment, organisation=organisation)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Provider authorised: it sees the shipment and may send its events."))
            return redirect("tracking:detail", pk=pk)
    return _detail(request, shipment, status=422, access_form=form)


@login_required
@require_POST
def access_revoke(request: HttpRequest, pk: int, access_id: int) -> HttpResponse:
    access = queries.get_access_for(request.actor, pk, access_id)
    services.revoke_access(actor=request.actor, access=access)
    messages.success(request, _("Access revoked."))
    return redirect("tracking:detail", pk=pk)


# -- the buyer's page ----------------------------------------------------------------------------------------


@require_GET
@never_cache
def shared_shipment(request: HttpRequest, token: str) -> HttpResponse:
    """Read-only, no login: the map, the timeline and the ETA; no prices, no documents. 404 once the link
    expired or was revoked; every opening is audited."""
    shipment = services.open_share_link(token=token)
    response = render(request, "tracking/shared.html", _tracking(shipment))
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# -- settings: webhooks, deliveries, alert choices -----------------------------------------------------------


def _organisation_of(request: HttpRequest):
    organisation = request.actor.organisation
    if organisation is None:
        raise Http404
    return organisation


def _settings(request: HttpRequest, *, status: int = 200, webhook_form: WebhookForm | None = None):
    organisation = _organisation_of(request)
    actor = request.actor
    context = {
        "organisation": organisation,
        "can_change": actor.can(CHANGE, organisation.pk),
        "webhooks": list(queries.webhooks_visible_to(actor).filter(organisation_id=organisation.pk)),
        "deliveries": list(queries.deliveries_visible_to(actor).filter(organisation_id=organisation.pk)[:50]),
        "choices": queries.alert_choices_of(actor, organisation.pk),
        "webhook_form": webhook_form or WebhookForm(),
    }
    return render(request, "tracking/settings.html", context, status=status)


@login_required
@require_GET
def tracking_settings(request: HttpRequest) -> HttpResponse:
    return _settings(request)


@login_required
@require_POST
def webhook_create(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_of(request)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            services.create_webhook(
                actor=request.actor,
                organisation=organisation,
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"],
                kinds=form.cleaned_data["kinds"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Webhook added."))
            return redirect("tracking:settings")
    return _settings(request, status=422, webhook_form=form)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = queries.get_webhook_for(request.actor, webhook_id)
    services.delete_webhook(actor=request.actor, webhook=webhook)
    messages.success(request, _("Webhook removed."))
    return redirect("tracking:settings")


@login_required
@require_POST
def alert_choices_save(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_of(request)
    choices = {
        kind: {"in_app": f"{kind}-in_app" in request.POST, "email": f"{kind}-email" in request.POST}
        for kind in AlertKind.values
    }
    try:
        services.set_alert_preferences(actor=request.actor, organisation=organisation, choices=choices)
    except ValidationError as exc:
        for message_list in error_dict(exc).values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("Your alert choices are saved."))
    return redirect("tracking:settings")
