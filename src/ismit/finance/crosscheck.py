"""The cross-check of a filing before it goes to the single window: declaration vs invoice vs payments.

Refund delays come mostly from such mismatches, so a filing is not sent while one remains. This module is
a pure function of plain data (no database): `crosscheck(kind, invoice=…, declaration=…, payments=…,
exporter=…, rules=…, today=…)` returns the mismatches, each with BOTH values and where each comes from,
worded in the active language. The finance services gather the data (ismit.finance.queries) and refuse to
file while the list is not empty.

Checks:
- data the filing needs: an invoice number, the exporter's identifiers, a cleared export declaration (the
  exit of the goods confirmed, for a VAT refund), at least one payment;
- values: invoice total vs the declared invoice amount, vs the total of the declared statistical values,
  vs the total of the payments (within a tolerance for bank charges, e.g. 2 %); invoice number;
- currencies: declaration and each payment against the invoice;
- quantities: number of goods lines, each line's quantity and net mass against the declared item;
- dates: no payment or invoice in the future, no payment before the invoice date (except payment in
  advance), the export not before the invoice date, a VAT claim within the legal window after export.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

FX, VAT = "fx", "vat"
CENT = Decimal("0.01")
QUANTITY_TOLERANCE = Decimal("0.001")
CLEARED, GOODS_EXITED = "cleared", "goods_exited"


# -- input -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    line_no: int
    description: str
    quantity: Decimal
    unit: str
    net_mass_kg: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    """The trade as the MSME entered it: its invoice and goods lines."""

    trade_reference: str
    number: str
    date: dt.date | None
    currency: str
    total: Decimal
    payment_terms: str = ""
    lines: tuple[InvoiceLine, ...] = ()


@dataclass(frozen=True)
class DeclaredItem:
    sequence: int
    quantity: Decimal | None = None
    unit: str = ""
    net_mass_kg: Decimal | None = None
    statistical_value: Decimal | None = None
    currency: str = ""


@dataclass(frozen=True)
class Declared:
    """The export declaration as it was declared to customs (not the trade as it is now)."""

    mrn: str
    status: str  # the customs status: cleared, goods_exited…
    status_label: str = ""
    invoice_number: str = ""
    invoice_amount: Decimal | None = None
    currency: str = ""
    export_date: dt.date | None = None
    items: tuple[DeclaredItem, ...] = ()


@dataclass(frozen=True)
class Received:
    amount: Decimal
    currency: str
    received_on: dt.date
    bank_reference: str


@dataclass(frozen=True)
class Exporter:
    name: str
    identifiers: dict[str, str] = field(default_factory=dict)  # scheme -> value: vat, tax, eori, business

    @property
    def id(self) -> str:
        """The exporter's identifier for the authorities: tax number, else business number, EORI, VAT."""
        for scheme in ("tax", "business", "eori", "vat"):
            if self.identifiers.get(scheme):
                return self.identifiers[scheme]
        return ""

    @property
    def vat_number(self) -> str:
        return self.identifiers.get("vat", "")


@dataclass(frozen=True)
class Rules:
    tolerance_pct: Decimal = Decimal("2")  # payments may fall short of the invoice by this (bank charges)
    claim_window_months: int = 12  # a VAT refund is claimed within this after export


# -- output ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One of the two values compared, and where it comes from."""

    source: str
    value: str


@dataclass(frozen=True)
class Mismatch:
    code: str  # e.g. "value.payments"
    field: str  # the datum to fix, as the services name it ("payments[1].currency", "items[0].quantity")
    message: str
    ours: Side
    theirs: Side

    @property
    def text(self) -> str:
        """The whole mismatch in one sentence (the API's 422 messages)."""
        return _("%(message)s %(source_a)s: %(value_a)s; %(source_b)s: %(value_b)s.") % {
            "message": self.message,
            "source_a": self.ours.source,
            "value_a": self.ours.value,
            "source_b": self.theirs.source,
            "value_b": self.theirs.value,
        }


# -- helpers -----------------------------------------------------------------------------------------------


def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    number = formats.number_format(Decimal(amount).quantize(CENT), 2, force_grouping=True)
    return f"{number} {currency}".strip()


def number(value: Decimal | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = formats.number_format(Decimal(value).normalize(), force_grouping=True)
    return f"{text} {unit}".strip()


def day(value: dt.date | None) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def add_months(start: dt.date, months: int) -> dt.date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def payments_total(payments: Sequence[Received], currency: str) -> Decimal:
    return sum((p.amount for p in payments if p.currency == currency), start=Decimal("0.00"))


def within_tolerance(paid: Decimal, total: Decimal, rules: Rules) -> bool:
    return abs(total - paid) <= (total * rules.tolerance_pct / 100).quantize(CENT)


class _Sources:
    def __init__(self, invoice: Invoice, declaration: Declared | None):
        self.invoice = (
            _("Invoice %(number)s (trade %(reference)s)")
            % {"number": invoice.number, "reference": invoice.trade_reference}
            if invoice.number
            else _("Trade %(reference)s") % {"reference": invoice.trade_reference}
        )
        self.declaration = (
            _("Export declaration %(mrn)s") % {"mrn": declaration.mrn}
            if declaration
            else _("Export declaration")
        )
        self.payments = _("Payments recorded")


def _payment_source(payment: Received) -> str:
    return _("Payment %(reference)s") % {"reference": payment.bank_reference}


# -- the check ---------------------------------------------------------------------------------------------


def crosscheck(
    kind: str,
    *,
    invoice: Invoice,
    declaration: Declared | None,
    payments: Sequence[Received],
    exporter: Exporter,
    rules: Rules | None = None,
    today: dt.date | None = None,
) -> list[Mismatch]:
    """Every mismatch between the declaration, the invoice and the payments that would stop `kind` ("fx"
    or "vat") from being filed; an empty list means it may be filed."""
    if kind not in (FX, VAT):
        raise ValueError(f"unknown filing kind {kind!r}")
    rules = rules or Rules()
    today = today or dt.date.today()
    src = _Sources(invoice, declaration)
    found: list[Mismatch] = []
    found += _required(kind, invoice, declaration, payments, exporter, src)
    found += _values(invoice, declaration, payments, rules, src)
    found += _quantities(invoice, declaration, src)
    found += _dates(kind, invoice, declaration, payments, rules, today, src)
    return found


def _required(kind, invoice, declaration, payments, exporter, src) -> list[Mismatch]:
    found = []
    required = _("Needed for the filing")
    if not invoice.number:
        found.append(
            Mismatch(
                "invoice.number_missing",
                "invoice_number",
                _("The trade has no invoice number: enter it on the trade."),
                Side(src.invoice, "—"),
                Side(required, _("an invoice number")),
            )
        )
    if not exporter.id:
        found.append(
            Mismatch(
                "exporter.id_missing",
                "organisation.identifiers",
                _("Your organisation has no tax, business, EORI or VAT number: add one to its profile."),
                Side(exporter.name, "—"),
                Side(required, _("an identifier of the exporter")),
            )
        )
    if kind == VAT and not exporter.vat_number:
        found.append(
            Mismatch(
                "exporter.vat_missing",
                "organisation.identifiers.vat",
                _("Your organisation has no VAT number: add it to its profile."),
                Side(exporter.name, "—"),
                Side(required, _("the VAT number of the claimant")),
            )
        )
    if declaration is None:
        found.append(
            Mismatch(
                "declaration.missing",
                "declaration",
                _("No export declaration of this trade has been cleared by customs yet."),
                Side(src.declaration, _("none cleared")),
                Side(required, _("goods exited") if kind == VAT else _("cleared by customs")),
            )
        )
    elif kind == VAT and declaration.status != GOODS_EXITED:
        found.append(
            Mismatch(
                "declaration.not_exited",
                "declaration",
                _("A VAT refund is claimed only once customs confirm that the goods have left the country."),
                Side(src.declaration, declaration.status_label or declaration.status),
                Side(required, _("goods exited")),
            )
        )
    if not payments:
        found.append(
            Mismatch(
                "payments.none",
                "payments",
                _("No payment is recorded on this trade: record the payments received."),
                Side(src.payments, money(Decimal(0), invoice.currency)),
                Side(src.invoice, money(invoice.total, invoice.currency)),
            )
        )
    return found


def _values(invoice, declaration, payments, rules, src) -> list[Mismatch]:
    found = []
    if declaration is not None:
        if declaration.invoice_number and invoice.number and declaration.invoice_number != invoice.number:
            found.append(
                Mismatch(
                    "invoice.number",
                    "invoice_number",
                    _("The invoice number differs from the one declared to customs."),
                    Side(src.invoice, invoice.number),
                    Side(src.declaration, declaration.invoice_number),
                )
            )
        if declaration.currency and declaration.currency != invoice.currency:
            found.append(
                Mismatch(
                    "currency.declaration",
                    "currency",
                    _("The invoice currency differs from the currency declared to customs."),
                    Side(src.invoice, invoice.currency),
                    Side(src.declaration, declaration.currency),
                )
            )
        same_currency = not declaration.currency or declaration.currency == invoice.currency
        if (
            declaration.invoice_amount is not None
            and same_currency
            and abs(declaration.invoice_amount - invoice.total) > CENT
        ):
            found.append(
                Mismatch(
                    "value.declared_invoice",
                    "invoice_total",
                    _("The invoice total differs from the invoice amount declared to customs."),
                    Side(src.invoice, money(invoice.total, invoice.currency)),
                    Side(src.declaration, money(declaration.invoice_amount, declaration.currency)),
                )
            )
        values = [i.statistical_value for i in declaration.items]
        currencies = {i.currency or declaration.currency or invoice.currency for i in declaration.items}
        if declaration.items and None not in values and currencies == {invoice.currency}:
            declared = sum(values, start=Decimal("0.00"))
            if abs(declared - invoice.total) > CENT * len(values):
                found.append(
                    Mismatch(
                        "value.statistical",
                        "invoice_total",
                        _("The invoice total differs from the total of the statistical values declared."),
                        Side(src.invoice, money(invoice.total, invoice.currency)),
                        Side(src.declaration, money(declared, invoice.currency)),
                    )
                )
    for n, payment in enumerate(payments):
        if payment.currency != invoice.currency:
            found.append(
                Mismatch(
                    "currency.payment",
                    f"payments[{n}].currency",
                    _(
                        "A payment is in another currency than the invoice: record it as the bank "
                        "credited it."
                    ),
                    Side(_payment_source(payment), money(payment.amount, payment.currency)),
                    Side(src.invoice, invoice.currency),
                )
            )
    if payments:
        paid = payments_total(payments, invoice.currency)
        if not within_tolerance(paid, invoice.total, rules):
            tolerance = formats.number_format(rules.tolerance_pct.normalize())
            message = (
                _(
                    "The payments received fall short of the invoice total by more than the %(pct)s %% "
                    "allowed for bank charges: record the missing payment, or correct the amounts."
                )
                if paid < invoice.total
                else _(
                    "The payments received exceed the invoice total by more than %(pct)s %%: check the "
                    "amounts recorded."
                )
            )
            found.append(
                Mismatch(
                    "value.payments",
                    "payments",
                    message % {"pct": tolerance},
                    Side(src.payments, money(paid, invoice.currency)),
                    Side(src.invoice, money(invoice.total, invoice.currency)),
                )
            )
    return found


def _quantities(invoice, declaration, src) -> list[Mismatch]:
    if declaration is None or not declaration.items:
        return []
    found = []
    if len(declaration.items) != len(invoice.lines):
        found.append(
            Mismatch(
                "quantity.lines",
                "items",
                _("The trade has another number of goods lines than the declaration."),
                Side(src.invoice, str(len(invoice.lines))),
                Side(src.declaration, str(len(declaration.items))),
            )
        )
    declared = {item.sequence: item for item in declaration.items}
    for index, line in enumerate(invoice.lines):
        item = declared.get(index + 1)
        if item is None:
            continue
        where = _("line %(line)s") % {"line": line.line_no}
        if (
            item.quantity is not None
            and (not item.unit or item.unit == line.unit)
            and abs(item.quantity - line.quantity) > QUANTITY_TOLERANCE
        ):
            found.append(
                Mismatch(
                    "quantity.item",
                    f"items[{index}].quantity",
                    _("The quantity of %(where)s differs from the quantity declared.") % {"where": where},
                    Side(src.invoice, number(line.quantity, line.unit)),
                    Side(src.declaration, number(item.quantity, item.unit or line.unit)),
                )
            )
        if item.net_mass_kg is not None and abs(item.net_mass_kg - line.net_mass_kg) > QUANTITY_TOLERANCE:
            found.append(
                Mismatch(
                    "quantity.net_mass",
                    f"items[{index}].net_mass_kg",
                    _("The net mass of %(where)s differs from the net mass declared.") % {"where": where},
                    Side(src.invoice, number(line.net_mass_kg, "kg")),
                    Side(src.declaration, number(item.net_mass_kg, "kg")),
                )
            )
    return found


def _dates(kind, invoice, declaration, payments, rules, today, src) -> list[Mismatch]:
    found = []
    today_side = Side(_("Today"), day(today))
    if invoice.date and invoice.date > today:
        found.append(
            Mismatch(
                "date.invoice_future",
                "invoice_date",
                _("The invoice date is in the future."),
                Side(src.invoice, day(invoice.date)),
                today_side,
            )
        )
    for n, payment in enumerate(payments):
        if payment.received_on > today:
            found.append(
                Mismatch(
                    "date.payment_future",
                    f"payments[{n}].received_on",
                    _("A payment is dated in the future."),
                    Side(_payment_source(payment), day(payment.received_on)),
                    today_side,
                )
            )
        elif invoice.date and payment.received_on < invoice.date and invoice.payment_terms != "advance":
            found.append(
                Mismatch(
                    "date.payment_before_invoice",
                    f"payments[{n}].received_on",
                    _("A payment is dated before the invoice, and the terms are not payment in advance."),
                    Side(_payment_source(payment), day(payment.received_on)),
                    Side(src.invoice, day(invoice.date)),
                )
            )
    export_date = declaration.export_date if declaration else None
    if export_date and invoice.date and export_date < invoice.date:
        found.append(
            Mismatch(
                "date.export_before_invoice",
                "invoice_date",
                _("The goods were exported before the invoice date."),
                Side(src.declaration, day(export_date)),
                Side(src.invoice, day(invoice.date)),
            )
        )
    if kind == VAT and export_date:
        deadline = add_months(export_date, rules.claim_window_months)
        if today > deadline:
            found.append(
                Mismatch(
                    "date.claim_window",
                    "declaration",
                    _(
                        "A VAT refund must be claimed within %(months)s months of the export: the time "
                        "allowed has passed."
                    )
                    % {"months": rules.claim_window_months},
                    Side(src.declaration, day(export_date)),
                    Side(_("Last day to claim"), day(deadline)),
                )
            )
    return found
