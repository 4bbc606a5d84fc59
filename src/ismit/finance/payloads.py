"""The JSON bodies of the FX settlement report and the VAT refund claim (docs/single-window-protocol.md),
built only from data already entered: the trade's invoice, the exporter's identifiers, the cleared export
declaration and the payments recorded, plus, for the VAT claim, the input VAT the MSME enters on the claim
(it is in none of those). Pure functions of the cross-check's data classes: no database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from ismit.finance.crosscheck import (
    CENT,
    Declared,
    Exporter,
    Invoice,
    Received,
    Rules,
    money,
    payments_total,
    within_tolerance,
)

FX_PATH = "/fx/settlements"
VAT_PATH = "/vat/refund-claims"


def _amount(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _payments(payments: Sequence[Received]) -> list[dict]:
    return [
        {
            "amount": _amount(p.amount),
            "currency": p.currency,
            "received_on": p.received_on.isoformat(),
            "bank_reference": p.bank_reference,
        }
        for p in payments
    ]


def charges_explanation(invoice: Invoice, payments: Sequence[Received], rules: Rules) -> str:
    """Why the payments are a little short of the invoice (bank charges within the tolerance), or ""."""
    paid = payments_total(payments, invoice.currency)
    if paid >= invoice.total or not within_tolerance(paid, invoice.total, rules):
        return ""
    return _("Bank charges of %(charges)s deducted from the payments (%(paid)s received for %(total)s).") % {
        "charges": money(invoice.total - paid, invoice.currency),
        "paid": money(paid, invoice.currency),
        "total": money(invoice.total, invoice.currency),
    }


def _explanation(text: str, invoice: Invoice, payments: Sequence[Received], rules: Rules) -> str:
    parts = [part for part in (text.strip(), charges_explanation(invoice, payments, rules)) if part]
    return " ".join(parts)


def fx_report(
    *,
    reference: str,
    exporter: Exporter,
    invoice: Invoice,
    declaration: Declared,
    payments: Sequence[Received],
    rules: Rules,
    explanation: str = "",
) -> dict:
    body: dict = {
        "report_reference": reference,
        "exporter": {"id": exporter.id, "name": exporter.name},
        "declaration_mrn": declaration.mrn,
        "invoice_number": invoice.number,
    }
    if invoice.date:
        body["invoice_date"] = invoice.date.isoformat()
    body.update(
        {
            "currency": invoice.currency,
            "invoiced_amount": _amount(invoice.total),
            "payments": _payments(payments),
        }
    )
    text = _explanation(explanation, invoice, payments, rules)
    if text:
        body["explanation"] = text
    return body


def vat_claim(
    *,
    reference: str,
    exporter: Exporter,
    invoice: Invoice,
    declaration: Declared,
    payments: Sequence[Received],
    rules: Rules,
    vat_amount: Decimal,
    vat_rate: Decimal | None = None,
    explanation: str = "",
) -> dict:
    # The export value is what was declared (the cross-check made sure it is the invoice total).
    net_value = declaration.invoice_amount if declaration.invoice_amount is not None else invoice.total
    body: dict = {
        "claim_reference": reference,
        "claimant": {"id": exporter.id, "vat_number": exporter.vat_number, "name": exporter.name},
        "declaration_mrn": declaration.mrn,
        "export_date": declaration.export_date.isoformat() if declaration.export_date else None,
        "invoice_number": invoice.number,
    }
    if invoice.date:
        body["invoice_date"] = invoice.date.isoformat()
    body.update({"currency": invoice.currency, "net_value": _amount(net_value)})
    if vat_rate is not None:
        body["vat_rate"] = format(Decimal(vat_rate).normalize(), "f")
    body["vat_amount"] = _amount(vat_amount)
    body["payments"] = _payments(payments)
    text = _explanation(explanation, invoice, payments, rules)
    if text:
        body["explanation"] = text
    return body


def encode(body: dict) -> bytes:
    """The bytes sent (and hashed): UTF-8 JSON, keys in the order built."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
