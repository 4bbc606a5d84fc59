"""Reads of the marketplace's RFQs, quotes and contracts, shared by the pages and the API.

Every lookup goes through the models' scoped querysets (`visible_to` / `get_for`): 404 for what the actor
may not see. An RFQ's MSME sees the whole comparison; an invited provider sees the RFQ's cargo summary and
its own invitations and quotes, never the trade.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from ismit.accounts.actors import Actor
from ismit.lib.scoping import CHANGE, VIEW
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import (
    Contract,
    ContractAccess,
    Provider,
    ProviderInvoice,
    Quote,
    QuoteKind,
    QuoteStatus,
    Rating,
    Rfq,
    RfqInvitation,
    ServiceType,
)
from ismit.refdata.queries import NoExchangeRate, convert
from ismit.trades.models import GoodsItem, Trade
from ismit.trades.queries import get_trade_for

SORTS = ("price", "transit", "quality")
DEFAULT_SORT = "price"


# -- the cargo summary of a trade ----------------------------------------------------------------------


def _short_description(items: list[GoodsItem]) -> str:
    if not items:
        return ""
    first = items[0]
    hs = first.hs_code_id or ""
    text = f"{first.description} (HS {hs[:4]}.{hs[4:6]})" if len(hs) >= 6 else first.description
    if len(items) > 1:
        text += f" +{len(items) - 1}"
    return text[:200]


def cargo_from_trade(trade: Trade) -> CargoSpec:
    """What a provider needs to match and price the trade's cargo: lane, Rec 19 mode, gross mass and
    packages summed over the goods, goods value and currency, Incoterms rule, planned departure, a short
    description. No party, no price of a line."""
    items = list(GoodsItem.objects.filter(trade_id=trade.pk).order_by("line_no"))
    loading, discharge = trade.place_of_loading, trade.place_of_discharge
    return CargoSpec(
        origin_country=loading.country,
        destination_country=discharge.country,
        origin_location=loading.code,
        destination_location=discharge.code,
        mode=trade.transport_mode_id or "",
        gross_mass_kg=sum((i.gross_mass_kg for i in items), Decimal(0)),
        packages=sum(i.packages_count for i in items),
        goods_value=sum((i.line_amount for i in items), Decimal("0.00")),
        value_currency=trade.currency_id,
        incoterm=trade.incoterm_id or "",
        ready_date=trade.planned_departure,
        description=_short_description(items),
    )


# -- which side an actor is on ---------------------------------------------------------------------------


def is_msme_of(actor: Actor, obj: Rfq | Contract, action: str = VIEW) -> bool:
    """Whether the actor acts for the MSME that owns the RFQ or contract."""
    return actor.can(action, obj.organisation_id)


def get_services_trade_for(actor: Actor, pk: int) -> Trade:
    """The trade whose services its owner requests: the owner's members only (an appointed broker sees the
    trade, not its RFQs and contracts); 404 for everybody else."""
    trade = get_trade_for(actor, pk, VIEW)
    if not actor.can(VIEW, trade.organisation_id):
        raise Http404
    return trade


# -- RFQs --------------------------------------------------------------------------------------------------


def rfqs_of_trade(actor: Actor, trade: Trade) -> QuerySet[Rfq]:
    return Rfq.objects.visible_to(actor, VIEW).filter(trade_id=trade.pk).select_related("currency")


def get_rfq_for(actor: Actor, pk: int, action: str = VIEW) -> Rfq:
    return Rfq.objects.select_related("organisation", "currency").get_for(actor, action, pk=pk)


def invitations_of(actor: Actor, rfq: Rfq) -> list[RfqInvitation]:
    """The RFQ's invitations the actor may see: all of them for the MSME, its own for a provider."""
    return list(
        RfqInvitation.objects.visible_to(actor, VIEW)
        .filter(rfq_id=rfq.pk)
        .select_related("provider", "offering")
        .order_by("service_type", "provider_id", "id")
    )


def quotes_of(actor: Actor, rfq: Rfq) -> list[Quote]:
    """The RFQ's quotes the actor may see: all of them for the MSME, its own for a provider."""
    return list(
        Quote.objects.visible_to(actor, VIEW)
        .filter(rfq_id=rfq.pk)
        .select_related("provider", "currency")
        .order_by("service_type", "id")
    )


def get_quote_for(actor: Actor, pk: int, action: str = VIEW) -> Quote:
    return Quote.objects.select_related("rfq", "provider", "offering").get_for(actor, action, pk=pk)


def get_invitation_for(actor: Actor, pk: int, action: str = VIEW) -> RfqInvitation:
    return RfqInvitation.objects.select_related("rfq", "provider").get_for(actor, action, pk=pk)


def inbox_of(actor: Actor) -> QuerySet[RfqInvitation]:
    """The invitations sent to the actor's organisations (as a provider), newest first."""
    return (
        RfqInvitation.objects.visible_to(actor, VIEW)
        .filter(provider_id__in=actor.organisation_scope(VIEW))
        .select_related("rfq", "rfq__organisation", "provider")
        .order_by("-invited_at", "-id")
    )


# -- comparison ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ComparedQuote:
    quote: Quote
    provider_name: str
    firm: bool
    total: Decimal
    currency: str
    converted: Decimal | None  # the total in the RFQ's currency; None: no exchange rate known
    rate: Decimal | None
    rate_date: dt.date | None
    transit_days: int | None
    valid_until: dt.date
    terms: str
    quality_score: Decimal | None
    status: str


@dataclasses.dataclass(frozen=True)
class ServiceComparison:
    service_type: str
    label: str
    quotes: list[ComparedQuote]
    contract: Contract | None


def _sort_key(sort: str):
    def key(row: ComparedQuote):
        if sort == "transit":
            value: Any = row.transit_days
        elif sort == "quality":
            value = -row.quality_score if row.quality_score is not None else None
        else:
            value = row.converted
        # Rows without the criterion come last; ties by quote id.
        return (value is None, value if value is not None else 0, row.quote.pk)

    return key


def compare_quotes(
    rfq: Rfq, sort: str = DEFAULT_SORT, *, quotes: list[Quote] | None = None, on: dt.date | None = None
) -> list[ServiceComparison]:
    """Per service of the RFQ, its quotes (indicative and firm, withdrawn ones left out) with the total in
    the quote's currency and in the RFQ's (with the rate and its date), transit time, validity, terms and
    the provider's quality score, ordered by `sort` only: "price" (total in the RFQ's currency, lowest
    first), "transit" (fewest days first) or "quality" (highest score first). Quotes without the criterion
    (no rate, no transit time, no score yet) come last; ties are ordered by quote id, the order of arrival.
    `quotes`: those the reader may see (default: all of the RFQ's)."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    on = on or timezone.localdate()
    if quotes is None:
        quotes = list(Quote.objects.filter(rfq_id=rfq.pk).select_related("provider", "currency"))
    quotes = [q for q in quotes if q.status != QuoteStatus.WITHDRAWN]
    scores = dict(
        Provider.objects.filter(organisation_id__in={q.provider_id for q in quotes}).values_list(
            "organisation_id", "quality_score"
        )
    )
    contracts = {c.service_type: c for c in Contract.objects.filter(rfq_id=rfq.pk)}
    rows: dict[str, list[ComparedQuote]] = {service: [] for service in rfq.services}
    rates: dict[str, tuple[Decimal, dt.date | None] | None] = {}  # read once per currency
    for quote in quotes:
        if quote.currency_id not in rates:
            try:
                conversion = convert(1, quote.currency_id, rfq.currency_id, on=on)
                rates[quote.currency_id] = (conversion.rate, conversion.rate_date)
            except NoExchangeRate:
                rates[quote.currency_id] = None
        found_rate = rates[quote.currency_id]
        if found_rate is None:
            converted = rate = rate_date = None
        else:
            rate, rate_date = found_rate
            converted = (quote.total * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)  # as convert() does
        rows.setdefault(quote.service_type, []).append(
            ComparedQuote(
                quote=quote,
                provider_name=quote.provider.legal_name,
                firm=quote.kind == QuoteKind.FIRM,
                total=quote.total,
                currency=quote.currency_id,
                converted=converted,
                rate=rate,
                rate_date=rate_date,
                transit_days=quote.transit_days,
                valid_until=quote.valid_until,
                terms=quote.terms,
                quality_score=scores.get(quote.provider_id),
                status=quote.status,
            )
        )
    labels = dict(ServiceType.choices)
    return [
        ServiceComparison(
            service_type=service,
            label=str(labels.get(service, service)),
            quotes=sorted(found, key=_sort_key(sort)),
            contract=contracts.get(service),
        )
        for service, found in rows.items()
    ]


# -- contracts ---------------------------------------------------------------------------------------------


def contracts_visible_to(actor: Actor) -> QuerySet[Contract]:
    return Contract.objects.visible_to(actor, VIEW).select_related("organisation", "provider", "currency")


def contracts_of_trade(actor: Actor, trade: Trade) -> QuerySet[Contract]:
    return contracts_visible_to(actor).filter(trade_id=trade.pk)


def get_contract_for(actor: Actor, pk: int, action: str = VIEW) -> Contract:
    return Contract.objects.select_related("organisation", "provider", "rfq", "quote", "currency").get_for(
        actor, action, pk=pk
    )


def may_change_as_provider(actor: Actor, contract: Contract) -> bool:
    return actor.can(CHANGE, contract.provider_id)


def accesses_of(contract: Contract) -> list[ContractAccess]:
    return list(ContractAccess.objects.filter(contract_id=contract.pk).select_related("user"))


def invoices_of(contract: Contract) -> list[ProviderInvoice]:
    return list(ProviderInvoice.objects.filter(contract_id=contract.pk).order_by("issued_on", "id"))


def rating_of(contract: Contract) -> Rating | None:
    return Rating.objects.filter(contract_id=contract.pk).first()


def invoiced_total(contract: Contract) -> Decimal:
    total = ProviderInvoice.objects.filter(contract_id=contract.pk).aggregate(t=Sum("total"))["t"]
    return total or Decimal("0.00")


# -- an invoice against the accepted quote -------------------------------------------------------------


SAME, CHANGED, ADDED, MISSING = "same", "changed", "added", "missing"


@dataclasses.dataclass(frozen=True)
class LineDifference:
    code: str
    description: str
    status: str  # same, changed, added, missing
    quoted: Decimal | None
    invoiced: Decimal | None
    difference: Decimal  # invoiced − quoted (a missing line: −quoted)


def _by_code(lines: list[dict]) -> dict[str, tuple[str, Decimal]]:
    """Lines summed by code (a code given twice is one charge); the first description is kept."""
    found: dict[str, tuple[str, Decimal]] = {}
    for line in lines:
        code = str(line.get("code", "")).strip().upper()
        amount = Decimal(str(line.get("amount") or 0))
        description, total = found.get(code, (str(line.get("description", "")), Decimal(0)))
        found[code] = (description, total + amount)
    return found


def compare_lines(quoted: list[dict], invoiced: list[dict]) -> list[LineDifference]:
    """The invoice line by line against the quote, matched by charge code: same (equal amount), changed,
    added (not quoted), missing (quoted, not invoiced). In the quote's order, then the added lines."""
    quote, invoice = _by_code(quoted), _by_code(invoiced)
    out = []
    for code, (description, amount) in quote.items():
        if code in invoice:
            billed = invoice[code][1]
            status = SAME if billed == amount else CHANGED
            out.append(LineDifference(code, description, status, amount, billed, billed - amount))
        else:
            out.append(LineDifference(code, description, MISSING, amount, None, -amount))
    for code, (description, billed) in invoice.items():
        if code not in quote:
            out.append(LineDifference(code, description, ADDED, None, billed, billed))
    return out


def invoice_against_quote(invoice: ProviderInvoice, quote: Quote) -> list[LineDifference]:
    return compare_lines(list(quote.lines), list(invoice.lines))


def shared_rows(view: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """A shared-data projection as text for a page: (key, text) rows, then the goods' headers and rows."""

    def text(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, dict) and "street" in value:
            address = " ".join(
                v for v in (value.get("street"), value.get("postcode"), value.get("city")) if v
            )
            return f"{value.get('name', '')}, {address} ({value.get('country', '')})"
        if isinstance(value, dict) and "code" in value:
            return f"{value.get('name', '')} ({value['code']})"
        if isinstance(value, dict):
            return ", ".join(f"{v} × {k}" for k, v in value.items()) or "—"
        return str(value)

    rows = [(key, text(value)) for key, value in view.items() if key != "goods"]
    goods = view.get("goods") or []
    headers = list(goods[0].keys()) if goods else []
    return rows, headers, [[text(line.get(h)) for h in headers] for line in goods]
