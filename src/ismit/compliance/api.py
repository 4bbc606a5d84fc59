"""JSON API of the compliance app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

- GET /trades/{trade_id}/check: the check of a trade the caller may see (404 otherwise), in the language
  of `?lang=` or else of the Accept-Language header; audited as `compliance.checked`.
- GET /compliance/rules: the requirement rules (public reference data), filtered by the corridor and
  goods they apply to.
"""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of
from ismit.compliance import queries, services
from ismit.compliance.check import run_check
from ismit.compliance.models import RuleDirection, RuleKind
from ismit.lib.api import PagePagination
from ismit.trades.queries import get_trade_for

router = Router(tags=["compliance"])


# -- the check of a trade ---------------------------------------------------------------------------


class FindingOut(Schema):
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    field: str = Field(description='Path of the field to fix, e.g. "items[0].hs_code"; "" for the trade')
    rule_id: int | None
    rule_key: str
    kind: str = Field(description='"data", "cost", or the kind of the rule')
    detail: str
    document_code: str = Field(description="UNTDID 1001 document name code, for documents and licences")
    lines: list[int]
    responsible: str = Field(description='"seller" or "buyer" under the Incoterms rule; "" for data')
    source_title: str
    source_url: str


class CostLineOut(Schema):
    line_no: int
    description: str
    hs_code: str
    goods_value: Decimal
    customs_value: Decimal
    duty_rate: Decimal | None = Field(description="Per cent; null when no rule is known")
    duty: Decimal
    vat_rate: Decimal | None
    vat: Decimal


class AssumptionOut(Schema):
    code: str
    text: str


class ConversionOut(Schema):
    rate: Decimal
    rate_date: dt.date | None
    source: str


class LandedCostOut(Schema):
    currency: str
    incoterm: str
    goods_value: Decimal
    freight: Decimal = Field(description="Estimated freight added to reach the customs value")
    insurance: Decimal = Field(description="Estimated insurance added to reach the customs value")
    customs_value: Decimal
    duty: Decimal
    vat: Decimal
    total: Decimal
    duties_paid_by: str
    destination_currency: str
    destination_total: Decimal | None
    conversion: ConversionOut | None
    lines: list[CostLineOut]
    assumptions: list[AssumptionOut]


class CheckOut(Schema):
    trade_id: int
    reference: str
    checked_on: dt.date
    language: str
    has_errors: bool
    findings: list[FindingOut]
    landed_cost: LandedCostOut | None


def _check_out(result) -> dict:
    cost = result.landed_cost
    return {
        "trade_id": result.trade_id,
        "reference": result.reference,
        "checked_on": result.checked_on,
        "language": result.language,
        "has_errors": result.has_errors,
        "findings": [{**f.__dict__, "lines": list(f.lines)} for f in result.findings],
        "landed_cost": None
        if cost is None
        else {
            **{k: v for k, v in cost.__dict__.items() if k not in ("lines", "assumptions", "conversion")},
            "lines": [line.__dict__ for line in cost.lines],
            "assumptions": [a.__dict__ for a in cost.assumptions],
            "conversion": None if cost.conversion is None else cost.conversion.__dict__,
        },
    }


@router.get("/trades/{int:trade_id}/check", response=CheckOut)
def check_trade(request, trade_id: int, lang: str | None = None, on: dt.date | None = None):
    """Findings (errors, warnings, information) and landed cost of a trade, checked now."""
    actor = actor_of(request)
    trade = get_trade_for(actor, trade_id)
    result = run_check(trade, language=lang or get_language() or "en", on=on)
    with transaction.atomic():
        services.record_check(actor=actor, trade=trade, result=result, via="api")
    return _check_out(result)


# -- the rules --------------------------------------------------------------------------------------


class RuleOut(Schema):
    id: int
    key: str
    kind: str
    direction: str
    origin: str
    destination: str
    hs_prefix: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    document_code: str
    rate: Decimal | None
    threshold_amount: Decimal | None
    threshold_currency: str
    title: str
    title_fr: str
    explanation: str
    explanation_fr: str
    source_title: str
    source_url: str
    is_sample: bool


class RuleFilters(Schema):
    origin: str | None = Field(None, max_length=12, description="Country or group the goods come from")
    destination: str | None = Field(None, max_length=12, description="Country or group they go to")
    hs: str | None = Field(
        None, max_length=12, description="HS code of the goods (rules with a prefix of it)"
    )
    kind: Literal[tuple(RuleKind.values)] | None = None  # type: ignore[valid-type]
    direction: Literal[tuple(RuleDirection.values)] | None = None  # type: ignore[valid-type]
    on: dt.date | None = Field(None, description="Group memberships on this date (today by default)")


@router.get("/compliance/rules", response=list[RuleOut])
@paginate(PagePagination)
def list_rules(request, filters: Query[RuleFilters]):
    """Requirement rules that apply to goods of an HS code from an origin to a destination.

    A rule for any origin, for a group the country belongs to (on `on`, today by default), or for a
    shorter HS prefix applies too. Rules are reference data: every signed-in user may read them.
    """
    rules = queries.rules_for(
        origin=filters.origin or "",
        destination=filters.destination or "",
        hs=filters.hs or "",
        kind=filters.kind or "",
        on=filters.on,
    )
    if filters.direction:
        rules = rules.filter(direction=filters.direction)
    return rules
