"""Reads of the finance app, shared by the pages and the API: a trade's payments and filings, and the data
the cross-check compares (the invoice, the exporter, the declaration as declared, the payments)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from ismit.accounts.actors import Actor
from ismit.accounts.models import OrganisationIdentifier
from ismit.finance import crosscheck as cc
from ismit.finance import customs_link
from ismit.finance.kinds import FX_KIND, VAT_KIND, Kind
from ismit.finance.models import Filing, FxReport, Payment, VatClaim
from ismit.lib.scoping import VIEW
from ismit.trades.models import Trade
from ismit.trades.queries import get_trade_for


def get_finance_trade_for(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """The trade, if the actor is a member of its owner organisation allowed `action`; else 404.

    The finance of a trade is its owner's alone: a customs broker appointed on the trade sees the trade,
    not the payments received on it.
    """
    trade = get_trade_for(actor, pk, VIEW)
    if not actor.can(VIEW, trade.organisation_id):
        raise Http404
    return trade


def payments_of(trade: Trade) -> list[Payment]:
    return list(
        Payment.objects.filter(trade_id=trade.pk).select_related("recorded_by").order_by("received_on", "id")
    )


def payments_visible_to(actor: Actor, trade: Trade) -> QuerySet[Payment]:
    return Payment.objects.visible_to(actor, VIEW).filter(trade_id=trade.pk).order_by("received_on", "id")


def get_payment_for(actor: Actor, trade_pk: int, payment_id: int, action: str = VIEW) -> Payment:
    return Payment.objects.select_related("trade").get_for(actor, action, trade_id=trade_pk, pk=payment_id)


def filing_of(kind: Kind, trade: Trade) -> Filing | None:
    versions = Prefetch("versions", queryset=kind.version_model.objects.order_by("-number"))
    return kind.model.objects.filter(trade_id=trade.pk).prefetch_related(versions).first()


# -- the data the cross-check compares ---------------------------------------------------------------------


def rules() -> cc.Rules:
    try:
        tolerance = Decimal(str(getattr(settings, "FINANCE_PAYMENT_TOLERANCE_PCT", "2")))
    except InvalidOperation:
        tolerance = Decimal("2")
    return cc.Rules(
        tolerance_pct=tolerance,
        claim_window_months=int(getattr(settings, "FINANCE_CLAIM_WINDOW_MONTHS", 12)),
    )


def max_vat_rate() -> Decimal:
    """The highest VAT rate a refund may reach, in per cent of the export value (the window's own rule)."""
    return Decimal(str(getattr(settings, "FINANCE_MAX_VAT_RATE_PCT", "30")))


def invoice_of(trade: Trade) -> cc.Invoice:
    items = list(trade.items.all())
    lines = tuple(
        cc.InvoiceLine(
            line_no=i.line_no,
            description=i.description,
            quantity=i.quantity,
            unit=i.unit_id,
            net_mass_kg=i.net_mass_kg,
            amount=i.line_amount,
        )
        for i in items
    )
    return cc.Invoice(
        trade_reference=trade.reference,
        number=trade.invoice_number,
        date=trade.invoice_date,
        currency=trade.currency_id,
        total=sum((line.amount for line in lines), start=Decimal("0.00")),
        payment_terms=trade.payment_terms,
        lines=lines,
    )


def exporter_of(trade: Trade) -> cc.Exporter:
    """The issuing organisation (the trade's owner) and its identifiers, as its profile holds them."""
    identifiers = dict(
        OrganisationIdentifier.objects.filter(organisation_id=trade.organisation_id).values_list(
            "scheme", "value"
        )
    )
    return cc.Exporter(name=trade.organisation.legal_name, identifiers=identifiers)


def received_of(payments: list[Payment]) -> tuple[cc.Received, ...]:
    return tuple(
        cc.Received(
            amount=p.amount,
            currency=p.currency_id,
            received_on=p.received_on,
            bank_reference=p.bank_reference,
        )
        for p in payments
    )


@dataclass(frozen=True)
class CheckInput:
    invoice: cc.Invoice
    declaration: cc.Declared | None
    payments: tuple[cc.Received, ...]
    exporter: cc.Exporter
    rules: cc.Rules


def check_input(trade: Trade, payments: list[Payment] | None = None) -> CheckInput:
    return CheckInput(
        invoice=invoice_of(trade),
        declaration=customs_link.declared(trade),
        payments=received_of(payments if payments is not None else payments_of(trade)),
        exporter=exporter_of(trade),
        rules=rules(),
    )


def run_crosscheck(kind: Kind, data: CheckInput, *, today: dt.date | None = None) -> list[cc.Mismatch]:
    return cc.crosscheck(
        kind.code,
        invoice=data.invoice,
        declaration=data.declaration,
        payments=data.payments,
        exporter=data.exporter,
        rules=data.rules,
        today=today or timezone.localdate(),
    )


# -- the Finance tab, and GET /trades/{id}/finance ---------------------------------------------------------


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    paid: Decimal
    invoiced: Decimal | None  # the invoice total, in the invoice's currency only
    difference: Decimal | None


@dataclass(frozen=True)
class FinanceView:
    trade: Trade
    payments: list[Payment]
    totals: list[CurrencyTotal]
    data: CheckInput
    mismatches: dict[str, list[cc.Mismatch]]  # "fx" / "vat" -> mismatches
    fx_report: FxReport | None
    vat_claim: VatClaim | None

    @property
    def invoice(self) -> cc.Invoice:
        return self.data.invoice

    @property
    def declaration(self) -> cc.Declared | None:
        return self.data.declaration


def totals_of(payments: list[Payment], invoice: cc.Invoice) -> list[CurrencyTotal]:
    paid: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for payment in payments:
        paid[payment.currency_id] += payment.amount
    paid.setdefault(invoice.currency, Decimal("0.00"))
    rows = []
    for currency in sorted(paid, key=lambda c: (c != invoice.currency, c)):
        invoiced = invoice.total if currency == invoice.currency else None
        rows.append(
            CurrencyTotal(
                currency=currency,
                paid=paid[currency],
                invoiced=invoiced,
                difference=paid[currency] - invoiced if invoiced is not None else None,
            )
        )
    return rows


def finance_of(trade: Trade) -> FinanceView:
    """Everything the Finance tab shows of a trade (the trade as get_finance_trade_for reads it)."""
    payments = payments_of(trade)
    data = check_input(trade, payments)
    return FinanceView(
        trade=trade,
        payments=payments,
        totals=totals_of(payments, data.invoice),
        data=data,
        mismatches={kind.code: run_crosscheck(kind, data) for kind in (FX_KIND, VAT_KIND)},
        fx_report=filing_of(FX_KIND, trade),
        vat_claim=filing_of(VAT_KIND, trade),
    )
