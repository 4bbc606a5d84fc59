"""JSON API of the logistics app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

- POST/GET /trades/{trade_id}/consignments: release a consignment of the trade for consolidation, list
  the trade's consignments (its owner; the forwarder sees those released to it);
- GET /consignments: every consignment visible (own, or released to the actor as forwarder);
- POST /logistics/plans: a forwarder plans a lane and week; GET /logistics/plans/{id}: the whole plan
  with its manifest (the forwarder's only; an MSME reads its load and share on its consignment).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of
from ismit.accounts.models import Organisation
from ismit.lib.api import PagePagination
from ismit.lib.idempotency import idempotent
from ismit.lib.scoping import VIEW
from ismit.logistics import queries, services
from ismit.logistics.models import Consignment, LoadPlan
from ismit.trades.queries import get_trade_for

router = Router(tags=["logistics"])


class PackageIn(Schema):
    count: int = Field(1, ge=1)
    length_cm: float = Field(gt=0)
    width_cm: float = Field(gt=0)
    height_cm: float = Field(gt=0)
    mass_kg: float = Field(gt=0, description="Each package")
    stackable: bool = True


class SizeIn(Schema):
    length_cm: float = Field(gt=0)
    width_cm: float = Field(gt=0)
    height_cm: float = Field(gt=0)


class ConsignmentIn(Schema):
    forwarder_id: int
    ready_from: dt.date
    ready_to: dt.date
    category: str = Field("general", description="general, food or chemicals")
    dangerous_goods: str | None = Field(None, description="UN class, e.g. 3 or 6.1")
    temperature_min_c: Decimal | None = None
    temperature_max_c: Decimal | None = None
    packages: list[PackageIn] | None = Field(
        None, description="Left out: one line per goods item (its packages and gross mass) of package_size"
    )
    package_size: SizeIn | None = None


class ShareOut(Schema):
    load_type: str
    load_type_name: str
    ship_date: dt.date
    mass_pct: Decimal
    volume_pct: Decimal
    chargeable: Decimal
    unit: str
    share: Decimal
    currency: str


class ConsignmentOut(Schema):
    id: int
    reference: str
    trade_id: int
    forwarder_id: int
    mode: str
    origin: str
    destination: str
    ready_from: dt.date
    ready_to: dt.date
    category: str
    dangerous_goods: str
    packages: list[dict]
    mass_kg: Decimal
    volume_m3: Decimal
    status: str
    share: ShareOut | None = Field(None, description="Once planned: the load and the share of its price")

    @staticmethod
    def resolve_share(obj: Consignment) -> dict | None:
        # Whoever sees the consignment (its MSME, or the forwarder it was released to, which made the
        # plan) sees its load and share; never the other consignments of the load.
        assignment = getattr(obj, "assignment", None)
        if assignment is None:
            return None
        load = assignment.load
        return {
            "load_type": load.load_type,
            "load_type_name": load.load_type_name,
            "ship_date": load.ship_date,
            "mass_pct": load.mass_pct,
            "volume_pct": load.volume_pct,
            "chargeable": assignment.chargeable,
            "unit": assignment.unit,
            "share": assignment.share,
            "currency": load.plan.currency_id,
        }


class PlanIn(Schema):
    forwarder_id: int
    mode: str = Field(description="sea or air")
    origin: str = Field(max_length=5, description="UN/LOCODE")
    destination: str = Field(max_length=5, description="UN/LOCODE")
    week: dt.date = Field(description="Any day of the week to plan")
    currency: str = Field("USD", max_length=3)
    load_types: list | None = Field(None, description="As in the optimiser's input; the defaults if left out")


class AssignmentOut(Schema):
    consignment: str
    owner: str
    chargeable: Decimal
    unit: str
    share: Decimal


class LoadOut(Schema):
    number: str
    load_type: str
    load_type_name: str
    ship_date: dt.date
    mass_kg: Decimal
    volume_m3: Decimal
    mass_pct: Decimal
    volume_pct: Decimal
    price: Decimal
    assignments: list[AssignmentOut]
    manifest: list[dict]


class PlanOut(Schema):
    id: int
    forwarder_id: int
    mode: str
    origin: str
    destination: str
    week: dt.date
    currency: str
    summary: dict
    unplaced: list[dict]
    loads: list[LoadOut]


def _plan_out(plan: LoadPlan) -> dict:
    loads = []
    for load in queries.loads_of(plan):
        loads.append(
            {
                **{f: getattr(load, f) for f in LoadOut.model_fields if f not in ("assignments",)},
                "assignments": [
                    {
                        "consignment": a.consignment.reference,
                        "owner": a.consignment.organisation.legal_name,
                        "chargeable": a.chargeable,
                        "unit": a.unit,
                        "share": a.share,
                    }
                    for a in load.assignments.all()
                ],
            }
        )
    return {
        **{
            f: getattr(plan, f)
            for f in ("id", "forwarder_id", "mode", "origin", "destination", "week", "summary", "unplaced")
        },
        "currency": plan.currency_id,
        "loads": loads,
    }


@router.post("/trades/{int:trade_id}/consignments", response={201: ConsignmentOut})
@idempotent
def release_consignment(request, trade_id: int, payload: ConsignmentIn):
    actor = actor_of(request)
    trade = get_trade_for(actor, trade_id, VIEW)
    forwarder = Organisation.objects.filter(pk=payload.forwarder_id).first()
    if forwarder is None or not services.is_forwarder(forwarder):
        raise ValidationError({"forwarder_id": ["Choose a verified freight forwarder."]})
    if payload.packages is not None:
        packages = [p.dict() for p in payload.packages]
    elif payload.package_size is not None:
        packages = services.packages_from_goods(trade, **payload.package_size.dict())
    else:
        packages = []
    temperature = None
    if payload.temperature_min_c is not None or payload.temperature_max_c is not None:
        temperature = (payload.temperature_min_c, payload.temperature_max_c)
    consignment = services.release_consignment(
        actor=actor,
        trade=trade,
        forwarder=forwarder,
        ready_from=payload.ready_from,
        ready_to=payload.ready_to,
        packages=packages,
        category=payload.category,
        dangerous_goods=payload.dangerous_goods,
        temperature=temperature,
    )
    return queries.consignments_visible_to(actor).get(pk=consignment.pk)


@router.get("/trades/{int:trade_id}/consignments", response=list[ConsignmentOut])
def trade_consignments(request, trade_id: int):
    actor = actor_of(request)
    trade = get_trade_for(actor, trade_id, VIEW)
    return queries.consignments_of_trade(actor, trade)


@router.get("/consignments", response=list[ConsignmentOut])
@paginate(PagePagination)
def consignments(request):
    return queries.consignments_visible_to(actor_of(request))


@router.post("/logistics/plans", response={201: PlanOut})
@idempotent
def create_plan(request, payload: PlanIn):
    actor = actor_of(request)
    forwarder = Organisation.objects.get_for(actor, VIEW, pk=payload.forwarder_id)
    plan = services.plan_consolidation(
        actor=actor,
        forwarder=forwarder,
        mode=payload.mode,
        origin=payload.origin.upper(),
        destination=payload.destination.upper(),
        week=payload.week,
        currency=payload.currency.upper(),
        load_types=payload.load_types,
    )
    return _plan_out(plan)


@router.get("/logistics/plans/{int:plan_id}", response=PlanOut)
def plan_detail(request, plan_id: int):
    return _plan_out(queries.get_plan_for(actor_of(request), plan_id))
