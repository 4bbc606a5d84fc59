"""Reads of the trades app, shared by pages and the API."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation, OrganisationKind, VerificationStatus
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split
from ismit.lib.scoping import CHANGE, VIEW
from ismit.trades.models import (
    SCOPE_PROVIDER_TYPES,
    ChecklistStep,
    ColumnMapping,
    GoodsItem,
    Party,
    Trade,
    TradeGrant,
)

DETAIL_RELATED = (
    "organisation",
    "seller__country",
    "buyer__country",
    "consignee__country",
    "currency",
    "incoterm",
    "incoterm_place",
    "transport_mode",
    "place_of_loading",
    "place_of_discharge",
)


def _count(queryset: QuerySet) -> Subquery:
    counted = queryset.order_by().values("trade").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def trades_visible_to(actor: Actor, action: str = VIEW) -> QuerySet[Trade]:
    """Trades for lists: header data, buyer and counts, no goods."""
    return (
        Trade.objects.visible_to(actor, action)
        .select_related(
            "organisation",
            "buyer",
            "seller",
            "currency",
            "incoterm",
            "place_of_loading",
            "place_of_discharge",
        )
        .annotate(
            # Correlated counts: joining goods and steps together would multiply the rows of each trade.
            item_count=_count(GoodsItem.objects.filter(trade=OuterRef("pk"))),
            steps_done=_count(ChecklistStep.objects.filter(trade=OuterRef("pk"), status="done")),
        )
    )


def get_trade_for(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """One trade with everything its page or API answer shows, in a fixed number of queries."""
    queryset = Trade.objects.select_related(*DETAIL_RELATED).prefetch_related(
        Prefetch(
            "items",
            queryset=GoodsItem.objects.select_related("hs_code", "origin_country", "unit", "package_type"),
        ),
        Prefetch("steps", queryset=ChecklistStep.objects.select_related("acting_organisation")),
    )
    return queryset.get_for(actor, action, pk=pk)


@dataclass(frozen=True)
class TradeRecord:
    """A trade with its parties, goods items and checklist steps, as stored: codes, no code-list rows."""

    trade: Trade
    items: list[GoodsItem] | list[GoodsItemRow]  # rows just written by a create, or rows read
    steps: list[ChecklistStep] | list[StepRow]


def _scoped_trade_rows(action: str):
    """The trade, its three parties: one row, scoped as every trade read is (Trade.objects.visible_to)."""
    parties = ("seller", "buyer", "consignee")

    def build(user_id: int, trade_id: int) -> QuerySet:
        return (
            Trade.objects.visible_to(Actor.of_user_id(user_id), action)
            .filter(pk=trade_id)
            .values_list(*TRADE_FIELDS, *(f for p in parties for f in prefixed(p, PARTY_FIELDS)))
        )

    return Prepared(build, "user_id", "trade_id")


TRADE_FIELDS = concrete_attnames(Trade)
PARTY_FIELDS = concrete_attnames(Party)
_TRADE_ROWS = {action: _scoped_trade_rows(action) for action in (VIEW, CHANGE)}
ITEM_FIELDS = concrete_attnames(GoodsItem)
STEP_FIELDS = concrete_attnames(ChecklistStep)


class GoodsItemRow(namedtuple("GoodsItemRow", ITEM_FIELDS)):
    """A goods line as read for an answer: its stored values by attribute name, no model instance."""

    __slots__ = ()
    line_amount = GoodsItem.line_amount


StepRow = namedtuple("StepRow", STEP_FIELDS)  # a checklist step as read for an answer
_ITEM_ROWS = Prepared(
    lambda trade_id: (
        GoodsItem.objects.filter(trade_id=trade_id).order_by("line_no").values_list(*ITEM_FIELDS)
    ),
    "trade_id",
)
_STEP_ROWS = Prepared(
    lambda trade_id: (
        ChecklistStep.objects.filter(trade_id=trade_id).order_by("position").values_list(*STEP_FIELDS)
    ),
    "trade_id",
)


def get_trade_record_for(actor: Actor, pk: int, action: str = VIEW) -> TradeRecord:
    """What the API answers for one trade, in three queries, joining only the parties.

    The API shows codes (currency_id, hs_code_id, acting_organisation_id…), so unlike get_trade_for it
    reads no code-list rows; the goods and steps of the trade the actor may see are read by the
    trade's id, ordered within the trade (the models' ordering would join the trade again). The three
    queries are prepared (lib.prepared): the hottest read of the API spends no time building SQL.
    """
    if not actor.is_authenticated or action not in _TRADE_ROWS:
        raise Http404
    try:
        rows = _TRADE_ROWS[action].rows(user_id=actor.user.pk, trade_id=int(pk))
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not rows:
        raise Http404
    trade_row, *party_rows = split(rows[0], len(TRADE_FIELDS), *[len(PARTY_FIELDS)] * 3)
    trade = instance(Trade, TRADE_FIELDS, trade_row)
    for name, row in zip(("seller", "buyer", "consignee"), party_rows, strict=True):
        party = instance(Party, PARTY_FIELDS, row) if row[0] is not None else None
        Trade._meta.get_field(name).set_cached_value(trade, party)
    return TradeRecord(
        trade=trade,
        items=[GoodsItemRow._make(r) for r in _ITEM_ROWS.rows(trade_id=trade.pk)],
        steps=[StepRow._make(r) for r in _STEP_ROWS.rows(trade_id=trade.pk)],
    )


def get_goods_item_for(actor: Actor, trade_pk: int, line_no: int, action: str = VIEW) -> GoodsItem:
    return GoodsItem.objects.select_related("trade").get_for(
        actor, action, trade_id=trade_pk, line_no=line_no
    )


def get_step_for(actor: Actor, trade_pk: int, code: str, action: str = VIEW) -> ChecklistStep:
    return ChecklistStep.objects.select_related("trade").get_for(actor, action, trade_id=trade_pk, code=code)


def mappings_visible_to(actor: Actor, action: str = VIEW) -> QuerySet[ColumnMapping]:
    return ColumnMapping.objects.visible_to(actor, action).order_by("name")


def totals(trade: Trade) -> dict:
    """Derived totals of a trade whose items are loaded (never typed by anyone)."""
    return totals_of(list(trade.items.all()))


def totals_of(items: list[GoodsItem]) -> dict:
    """Derived totals of a list of goods items."""
    return {
        "amount": sum((i.line_amount for i in items), start=0),
        "net_mass_kg": sum((i.net_mass_kg for i in items), start=0),
        "gross_mass_kg": sum((i.gross_mass_kg for i in items), start=0),
        "packages": sum(i.packages_count for i in items),
        "lines": len(items),
    }


# -- grants (an organisation appointed on one trade) -------------------------------------------------


def grant_for(actor: Actor, trade: Trade, scope: str, *, action: str = CHANGE) -> TradeGrant | None:
    """The active grant under which the actor acts on the trade within the scope, or None.

    The actor must be allowed `action` in the appointed organisation (by default CHANGE: a read-only
    member of the broker sees the trade but submits nothing). The owner's members get None: they act
    as owners, not under a grant."""
    if not actor.is_authenticated:
        return None
    return (
        TradeGrant.objects.active()
        .filter(trade_id=trade.pk, scope=scope, organisation_id__in=actor.organisation_scope(action))
        .select_related("organisation")
        .order_by("created_at", "id")
        .first()
    )


def grants_of(actor: Actor, trade: Trade) -> list[TradeGrant]:
    """The trade's grants the actor may see, active first: all of them for the owner's members, only
    its own organisations' for an appointed organisation."""
    return list(
        TradeGrant.objects.visible_to(actor, VIEW)
        .filter(trade_id=trade.pk)
        .select_related("organisation")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )


def get_trade_header_for(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """One trade with its owner organisation only (no goods or steps): for its grants."""
    return Trade.objects.select_related("organisation").get_for(actor, action, pk=pk)


def get_grant_for(actor: Actor, trade: Trade, grant_id: int) -> TradeGrant:
    """One grant of the trade that the actor may see (Http404 otherwise), with its trade and organisation."""
    grant = TradeGrant.objects.select_related("organisation").get_for(
        actor, VIEW, pk=grant_id, trade_id=trade.pk
    )
    grant.trade = trade
    return grant


def appointable(scope: str, name: str = "") -> QuerySet[Organisation]:
    """Verified providers of the type a scope needs (the public directory an owner appoints from), by
    name; `name` filters on part of the legal name."""
    provider_types = SCOPE_PROVIDER_TYPES.get(scope)
    if provider_types is None:
        return Organisation.objects.none()
    # provider_types is a JSON list of known codes: its text holds '"broker"' exactly when it lists it
    # (JSON containment is not available on SQLite).
    of_type = Q()
    for provider_type in provider_types:
        of_type |= Q(provider_types__icontains=f'"{provider_type}"')
    found = Organisation.objects.filter(
        of_type, kind=OrganisationKind.PROVIDER, verification_status=VerificationStatus.VERIFIED
    ).order_by("legal_name", "id")
    if name.strip():
        found = found.filter(legal_name__icontains=name.strip())
    return found
