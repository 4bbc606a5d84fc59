"""JSON API of the catalogue and of providers (mounted at /api/v1/ by ismit/config/api.py; absolute paths).

- GET/POST /marketplace/offerings, GET/PUT /marketplace/offerings/{id}, POST …/deactivate, …/activate:
  offerings with their lanes and rate lines (PUT replaces the whole offering);
- POST …/lanes, DELETE …/lanes/{lane_id}; POST …/rate-lines, PUT/DELETE …/rate-lines/{line_id};
- GET/PUT /marketplace/offerings/{id}/rates.csv, GET/PUT /marketplace/catalogue.csv: rate cards as CSV
  (format in marketplace/ratecards.py and docs/marketplace.md); 422 with row-level errors, nothing saved;
- POST /marketplace/offerings/{id}/price: the indicative price of a sample cargo;
- GET /marketplace/providers, GET /marketplace/providers/{org_id}: directory and profile (score, KPIs);
- POST /marketplace/providers/{org_id}/suspend | reinstate | exit (operators), POST
  /marketplace/providers/me/leave (the provider's owners).

Providers use the personal access tokens of their users (Authorization: Bearer …); an offering is made for
the organisation named in the payload, the X-ISMIT-Organisation header, or the user's first one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from ismit.accounts.api import actor_of, organisation_for_write
from ismit.lib.api import PagePagination, problem
from ismit.lib.idempotency import idempotent
from ismit.lib.scoping import CHANGE
from ismit.marketplace import catalogue_queries as queries
from ismit.marketplace import catalogue_services as services
from ismit.marketplace import ratecards
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import Lane, Provider, RateLine, ServiceOffering
from ismit.marketplace.pricing import price_offering
from ismit.marketplace.quality import WEIGHTS

router = Router(tags=["marketplace catalogue"])


# -- schemas ----------------------------------------------------------------------------------------------


class LaneIn(Schema):
    origin_country: str = Field("", max_length=2)
    origin_location: str = Field("", max_length=6, description="UN/LOCODE; empty: the whole country")
    destination_country: str = Field("", max_length=2)
    destination_location: str = Field("", max_length=6)


class LaneOut(Schema):
    id: int
    origin_country: str
    origin_location: str
    destination_country: str
    destination_location: str


class RateLineIn(Schema):
    code: str = Field(max_length=12, description="FRT, BAF, THC, DOC, INS …")
    description: str = Field("", max_length=120)
    basis: str = Field(
        description="shipment, kg, m3, container_20, container_40, container_40hc, value_percent, minimum"
    )
    amount: Decimal = Field(description="The rate; a percentage for value_percent")
    is_surcharge: bool = False


class RateLineOut(Schema):
    id: int
    code: str
    description: str
    basis: str
    amount: Decimal
    is_surcharge: bool


class OfferingIn(Schema):
    organisation: int | None = Field(
        None, description="Your organisation to publish for (default: see above)"
    )
    name: str = Field(max_length=120)
    service_type: str = Field(
        description="carriage, customs_brokerage, warehousing, insurance, trade_finance"
    )
    currency: str = Field(max_length=3)
    valid_from: dt.date
    valid_until: dt.date
    modes: list[str] = Field(default_factory=list, description="Rec 19 codes; empty: any mode")
    max_mass_kg: Decimal | None = None
    max_volume_m3: Decimal | None = None
    dangerous_goods: bool = False
    temperature_control: bool = False
    transit_days: int | None = None
    terms: str = ""
    lanes: list[LaneIn]
    rate_lines: list[RateLineIn]


class OfferingOut(Schema):
    id: int
    organisation_id: int
    provider: str
    name: str
    service_type: str
    currency: str
    valid_from: dt.date
    valid_until: dt.date
    modes: list[str]
    max_mass_kg: Decimal | None
    max_volume_m3: Decimal | None
    dangerous_goods: bool
    temperature_control: bool
    transit_days: int | None
    terms: str
    active: bool
    lanes: list[LaneOut]
    rate_lines: list[RateLineOut]
    updated_at: dt.datetime

    @staticmethod
    def resolve_provider(obj: ServiceOffering) -> str:
        return obj.organisation.legal_name

    @staticmethod
    def resolve_currency(obj: ServiceOffering) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_lanes(obj: ServiceOffering) -> list[Lane]:
        return list(obj.lanes.all())

    @staticmethod
    def resolve_rate_lines(obj: ServiceOffering) -> list[RateLine]:
        return list(obj.rate_lines.all())


class CargoIn(Schema):
    origin_country: str = Field("", max_length=2)
    destination_country: str = Field("", max_length=2)
    origin_location: str = ""
    destination_location: str = ""
    mode: str = ""
    gross_mass_kg: Decimal = Decimal(0)
    volume_m3: Decimal = Decimal(0)
    containers: dict[str, int] = Field(default_factory=dict, description='{"20": n, "40": n, "40HC": n}')
    goods_value: Decimal = Decimal(0)
    value_currency: str = ""


class PriceLineOut(Schema):
    code: str
    description: str
    basis: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal


class PriceOut(Schema):
    priced: bool = Field(description="False when the rate card cannot price this cargo")
    currency: str
    total: Decimal | None
    lines: list[PriceLineOut]
    value_rate: Decimal | None = Field(None, description="Rate used to convert the goods' value")
    value_rate_date: dt.date | None = None


class ProviderOut(Schema):
    organisation_id: int
    name: str
    country: str
    provider_types: list[str]
    status: str
    status_reason: str
    status_changed_at: dt.datetime | None
    joined_at: dt.datetime
    quality_score: Decimal | None
    kpis: dict
    kpis_at: dt.datetime | None
    score_weights: dict[str, int]

    @staticmethod
    def resolve_name(obj: Provider) -> str:
        return obj.organisation.legal_name

    @staticmethod
    def resolve_country(obj: Provider) -> str:
        return obj.organisation.country

    @staticmethod
    def resolve_provider_types(obj: Provider) -> list[str]:
        return list(obj.organisation.provider_types or [])

    @staticmethod
    def resolve_score_weights(obj: Provider) -> dict[str, int]:
        return dict(WEIGHTS)


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class StandingOut(Schema):
    provider: ProviderOut
    withdrawn_quotes: int
    declined_invitations: int
    deactivated_offerings: int
    notified_organisations: list[int]


class ImportOut(Schema):
    rows: int
    created: list[int]
    updated: list[int]


# -- helpers ----------------------------------------------------------------------------------------------


def _offering_data(payload: OfferingIn) -> services.OfferingData:
    data = payload.dict(exclude={"organisation", "lanes", "rate_lines"})
    return services.OfferingData(
        **data,
        lanes=[services.LaneData(**lane.dict()) for lane in payload.lanes],
        rate_lines=[services.RateLineData(**line.dict()) for line in payload.rate_lines],
    )


def _reload(actor, offering: ServiceOffering) -> ServiceOffering:
    return queries.get_offering_for(actor, offering.pk)


def _csv_problem(request: HttpRequest, exc: ratecards.RateCardError) -> HttpResponse:
    return problem(
        request,
        status=422,
        kind="rate-card",
        title=_("The file was not imported"),
        detail=_("Nothing was saved: correct these rows and send the whole file again."),
        errors=ratecards.errors_as_dicts(exc),
    )


def _csv_response(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _standing(change: services.StandingChange) -> dict:
    return {
        "provider": change.provider,
        "withdrawn_quotes": change.withdrawn_quotes,
        "declined_invitations": change.declined_invitations,
        "deactivated_offerings": change.deactivated_offerings,
        "notified_organisations": list(change.notified_organisations),
    }


# -- offerings ----------------------------------------------------------------------------------------------


@router.get("/marketplace/offerings", response=list[OfferingOut])
@paginate(PagePagination)
def list_offerings(request, mine: bool = False, service_type: str = ""):
    """Offerings of active providers (anyone signed in), or with ?mine=true your organisation's own, active or
    not (the organisation of X-ISMIT-Organisation, else your first)."""
    actor = actor_of(request)
    if mine:
        qs = queries.own_offerings(actor, organisation_for_write(request))
    else:
        qs = queries.offerings_visible_to(actor).filter(active=True)
    if service_type:
        qs = qs.filter(service_type=service_type)
    return qs


@router.post("/marketplace/offerings", response={201: OfferingOut})
@idempotent
def create_offering(request, payload: OfferingIn):
    """Publish an offering with its lanes and rate card (the first makes your organisation a provider)."""
    actor = actor_of(request)
    organisation = organisation_for_write(request, payload.organisation)
    offering = services.create_offering(actor=actor, organisation=organisation, data=_offering_data(payload))
    return Status(201, _reload(actor, offering))


@router.get("/marketplace/offerings/{int:offering_id}", response=OfferingOut)
def get_offering(request, offering_id: int):
    return queries.get_offering_for(actor_of(request), offering_id)


@router.put("/marketplace/offerings/{int:offering_id}", response=OfferingOut)
def update_offering(request, offering_id: int, payload: OfferingIn):
    """Replace the offering: fields, lanes and rate lines."""
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    services.update_offering(actor=actor, offering=offering, data=_offering_data(payload))
    return _reload(actor, offering)


@router.post("/marketplace/offerings/{int:offering_id}/deactivate", response=OfferingOut)
def deactivate_offering(request, offering_id: int):
    """It matches no new request (quotes already made from it stand)."""
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    services.set_offering_active(actor=actor, offering=offering, active=False)
    return _reload(actor, offering)


@router.post("/marketplace/offerings/{int:offering_id}/activate", response=OfferingOut)
def activate_offering(request, offering_id: int):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    services.set_offering_active(actor=actor, offering=offering, active=True)
    return _reload(actor, offering)


@router.post("/marketplace/offerings/{int:offering_id}/lanes", response={201: LaneOut})
@idempotent
def add_lane(request, offering_id: int, payload: LaneIn):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    return Status(
        201, services.add_lane(actor=actor, offering=offering, data=services.LaneData(**payload.dict()))
    )


@router.delete("/marketplace/offerings/{int:offering_id}/lanes/{int:lane_id}", response={204: None})
def delete_lane(request, offering_id: int, lane_id: int):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    services.delete_lane(actor=actor, lane=queries.get_lane_for(actor, offering, lane_id, CHANGE))
    return Status(204, None)


@router.post("/marketplace/offerings/{int:offering_id}/rate-lines", response={201: RateLineOut})
@idempotent
def add_rate_line(request, offering_id: int, payload: RateLineIn):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    line = services.add_rate_line(
        actor=actor, offering=offering, data=services.RateLineData(**payload.dict())
    )
    return Status(201, line)


@router.put("/marketplace/offerings/{int:offering_id}/rate-lines/{int:line_id}", response=RateLineOut)
def update_rate_line(request, offering_id: int, line_id: int, payload: RateLineIn):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    line = queries.get_rate_line_for(actor, offering, line_id, CHANGE)
    return services.update_rate_line(
        actor=actor, rate_line=line, data=services.RateLineData(**payload.dict())
    )


@router.delete("/marketplace/offerings/{int:offering_id}/rate-lines/{int:line_id}", response={204: None})
def delete_rate_line(request, offering_id: int, line_id: int):
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    services.delete_rate_line(
        actor=actor, rate_line=queries.get_rate_line_for(actor, offering, line_id, CHANGE)
    )
    return Status(204, None)


@router.post("/marketplace/offerings/{int:offering_id}/price", response=PriceOut)
def price_sample(request, offering_id: int, payload: CargoIn):
    """The indicative price the rate card gives for a sample cargo (nothing is saved)."""
    offering = queries.get_offering_for(actor_of(request), offering_id)
    cargo = CargoSpec(**payload.dict())
    price = price_offering(offering=offering, cargo=cargo, on=timezone.localdate())
    if price is None:
        return {"priced": False, "currency": offering.currency_id, "total": None, "lines": []}
    return {
        "priced": True,
        "currency": price.currency,
        "total": price.total,
        "lines": [line.__dict__ for line in price.lines],
        "value_rate": price.value_rate,
        "value_rate_date": price.value_rate_date,
    }


# -- rate cards as CSV --------------------------------------------------------------------------------------


@router.get("/marketplace/offerings/{int:offering_id}/rates.csv", response={200: None})
def offering_csv(request, offering_id: int):
    """The offering's rate card as CSV."""
    offering = queries.get_offering_for(actor_of(request), offering_id)
    return _csv_response(ratecards.export_csv([offering]), f"offering-{offering.pk}-rates.csv")


@router.put("/marketplace/offerings/{int:offering_id}/rates.csv", response=OfferingOut)
def replace_offering_csv(request, offering_id: int):
    """Replace the offering from a CSV body (Content-Type: text/csv) that holds this one offering."""
    actor = actor_of(request)
    offering = queries.get_offering_for(actor, offering_id, CHANGE)
    try:
        ratecards.import_offering_rates(actor=actor, offering=offering, data=request.body)
    except ratecards.RateCardError as exc:
        return _csv_problem(request, exc)
    return _reload(actor, offering)


@router.get("/marketplace/catalogue.csv", response={200: None})
def catalogue_csv(request):
    """Your organisation's whole catalogue as CSV."""
    actor = actor_of(request)
    offerings = queries.own_offerings(actor, organisation_for_write(request))
    return _csv_response(ratecards.export_csv(offerings), "catalogue.csv")


@router.put("/marketplace/catalogue.csv", response=ImportOut)
def import_catalogue_csv(request):
    """Create or replace your offerings from a CSV body (offerings matched by name; others untouched)."""
    actor = actor_of(request)
    organisation = organisation_for_write(request)
    try:
        result = ratecards.import_catalogue(actor=actor, organisation=organisation, data=request.body)
    except ratecards.RateCardError as exc:
        return _csv_problem(request, exc)
    return {
        "rows": result.rows,
        "created": [o.pk for o in result.created],
        "updated": [o.pk for o in result.updated],
    }


# -- providers ----------------------------------------------------------------------------------------------


@router.get("/marketplace/providers", response=list[ProviderOut])
@paginate(PagePagination)
def list_providers(request, service_type: str = ""):
    """Active, verified providers by name (no ranking); operators get every provider whatever its standing."""
    actor = actor_of(request)
    if actor.is_operator:
        return queries.providers_for_operator(actor)
    return queries.provider_directory(actor, service_type)


@router.post("/marketplace/providers/me/leave", response=StandingOut)
def leave(request, payload: ReasonIn):
    """Take your organisation out of the marketplace (owners only): its offerings are deactivated, its
    submitted quotes withdrawn; contracts in progress stay in force."""
    actor = actor_of(request)
    organisation = organisation_for_write(request)
    return _standing(
        services.leave_marketplace(actor=actor, organisation=organisation, reason=payload.reason)
    )


@router.get("/marketplace/providers/{int:org_id}", response=ProviderOut)
def get_provider(request, org_id: int):
    return queries.get_provider_for(actor_of(request), org_id)


@router.post("/marketplace/providers/{int:org_id}/suspend", response=StandingOut)
def suspend(request, org_id: int, payload: ReasonIn):
    """Operators: suspend the provider (reason required)."""
    actor = actor_of(request)
    organisation = queries.get_provider_organisation_for_operator(actor, org_id)
    return _standing(services.suspend_provider(actor=actor, organisation=organisation, reason=payload.reason))


@router.post("/marketplace/providers/{int:org_id}/reinstate", response=StandingOut)
def reinstate(request, org_id: int, payload: ReasonIn):
    actor = actor_of(request)
    organisation = queries.get_provider_organisation_for_operator(actor, org_id)
    return _standing(
        services.reinstate_provider(actor=actor, organisation=organisation, reason=payload.reason)
    )


@router.post("/marketplace/providers/{int:org_id}/exit", response=StandingOut)
def record_exit(request, org_id: int, payload: ReasonIn):
    """Operators: record the provider's exit (reason required)."""
    actor = actor_of(request)
    organisation = queries.get_provider_organisation_for_operator(actor, org_id)
    return _standing(
        services.record_provider_exit(actor=actor, organisation=organisation, reason=payload.reason)
    )
