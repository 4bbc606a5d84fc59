"""JSON API of the finance app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

- POST/GET /trades/{trade_id}/payments, DELETE /trades/{trade_id}/payments/{payment_id}: payments received;
- GET /trades/{trade_id}/finance: payments, totals, the cross-check of each filing, the FX report and VAT
  claim with their versions;
- POST /trades/{trade_id}/fx-report, POST /trades/{trade_id}/vat-claim: file (or answer a query with a
  correction). 202: queued for the single window; 422 with every mismatch (both values and where they
  come from) while the declaration, the invoice and the payments disagree.

The finance of a trade is its owner organisation's: others get 404. Writes need the right to change the
organisation's trades (403 otherwise); creating writes honour Idempotency-Key.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Router, Schema

from ismit.accounts.api import actor_of
from ismit.finance import crosscheck as cc
from ismit.finance import queries, services
from ismit.finance.kinds import FX_KIND, VAT_KIND, Kind
from ismit.finance.models import Filing, Payment
from ismit.lib.idempotency import idempotent

router = Router(tags=["finance"])


# -- schemas ----------------------------------------------------------------------------------------------


class PaymentIn(Schema):
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    currency: str = Field(max_length=3, description="ISO 4217")
    received_on: dt.date
    bank_reference: str = Field(max_length=35, description="The bank's reference of the credit")
    payer: str = Field("", max_length=200)


class PaymentOut(Schema):
    id: int
    trade_id: int
    amount: Decimal
    currency: str
    received_on: dt.date
    bank_reference: str
    payer: str
    recorded_by: str | None
    created_at: dt.datetime

    @staticmethod
    def resolve_currency(obj: Payment) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_recorded_by(obj: Payment) -> str | None:
        return obj.recorded_by.email if obj.recorded_by_id else None


class SideOut(Schema):
    source: str = Field(description="Where the value comes from: the invoice, the declaration, a payment…")
    value: str


class MismatchOut(Schema):
    code: str
    field: str = Field(description='The datum to fix, e.g. "payments[0].currency", "items[1].quantity"')
    message: str
    text: str = Field(description="The mismatch in one sentence, with both values")
    ours: SideOut
    theirs: SideOut


class CrossCheckOut(Schema):
    ready: bool = Field(description="No mismatch: the filing may be submitted")
    mismatches: list[MismatchOut]


class VersionOut(Schema):
    number: int
    reference: str
    correction_of: str
    conversation_id: str
    idempotency_key: str
    payload: dict
    payload_sha256: str
    submitted_at: dt.datetime
    delivered_at: dt.datetime | None
    answer_status: str
    answer_reasons: list[dict]


class FilingOut(Schema):
    kind: str = Field(description="fx or vat")
    status: str = Field(description="draft, queued, sent, received, accepted, rejected, query or failed")
    status_label: str
    reference: str
    conversation_id: str
    registration_number: str
    version: int
    idempotency_key: str
    payload: dict = Field(description="The JSON body of the last version sent")
    explanation: str
    reasons: list[dict] = Field(description="Of a rejection or a query: [{code, field, message}]")
    question: str
    delivery_error: str
    submitted_at: dt.datetime | None
    answered_at: dt.datetime | None
    vat_amount: Decimal | None = Field(None, description="VAT claim: the input VAT entered by the MSME")
    vat_rate: Decimal | None = None
    input_invoices: str | None = Field(None, description="VAT claim: the purchase invoices it comes from")
    versions: list[VersionOut]


class InvoiceOut(Schema):
    number: str
    date: dt.date | None
    currency: str
    total: Decimal


class DeclarationOut(Schema):
    mrn: str
    status: str
    invoice_number: str
    invoice_amount: Decimal | None
    currency: str
    export_date: dt.date | None


class TotalOut(Schema):
    currency: str
    paid: Decimal
    invoiced: Decimal | None
    difference: Decimal | None


class FinanceOut(Schema):
    trade_id: int
    invoice: InvoiceOut
    declaration: DeclarationOut | None
    payments: list[PaymentOut]
    totals: list[TotalOut]
    crosscheck: dict[str, CrossCheckOut] = Field(description='"fx" and "vat"')
    fx_report: FilingOut | None
    vat_claim: FilingOut | None


class FxReportIn(Schema):
    explanation: str | None = Field(None, max_length=2000, description="Answers a query (optional)")


class VatClaimIn(Schema):
    vat_amount: Decimal | None = Field(
        None,
        max_digits=16,
        decimal_places=2,
        description="The input VAT paid on the purchases; left out: as saved",
    )
    vat_rate: Decimal | None = Field(None, max_digits=5, decimal_places=2, description="Per cent (optional)")
    input_invoices: str | None = Field(None, max_length=4000, description="The purchase invoices, as text")
    explanation: str | None = Field(None, max_length=2000)


# -- answers ----------------------------------------------------------------------------------------------


def _mismatch_out(m: cc.Mismatch) -> dict:
    return {
        "code": m.code,
        "field": m.field,
        "message": m.message,
        "text": m.text,
        "ours": {"source": m.ours.source, "value": m.ours.value},
        "theirs": {"source": m.theirs.source, "value": m.theirs.value},
    }


def filing_out(kind: Kind, filing: Filing | None) -> dict | None:
    if filing is None:
        return None
    out = {
        "kind": kind.code,
        "status": filing.status,
        "status_label": str(filing.get_status_display()),
        "versions": list(filing.versions.all()),
        **{
            name: getattr(filing, name)
            for name in (
                "reference",
                "conversation_id",
                "registration_number",
                "version",
                "idempotency_key",
                "payload",
                "explanation",
                "reasons",
                "question",
                "delivery_error",
                "submitted_at",
                "answered_at",
            )
        },
    }
    if kind is VAT_KIND:
        out.update(
            vat_amount=filing.vat_amount, vat_rate=filing.vat_rate, input_invoices=filing.input_invoices
        )
    return out


def _finance_out(view: queries.FinanceView) -> dict:
    invoice, declaration = view.invoice, view.declaration
    return {
        "trade_id": view.trade.pk,
        "invoice": {
            "number": invoice.number,
            "date": invoice.date,
            "currency": invoice.currency,
            "total": invoice.total,
        },
        "declaration": None
        if declaration is None
        else {
            "mrn": declaration.mrn,
            "status": declaration.status,
            "invoice_number": declaration.invoice_number,
            "invoice_amount": declaration.invoice_amount,
            "currency": declaration.currency,
            "export_date": declaration.export_date,
        },
        "payments": view.payments,
        "totals": [t.__dict__ for t in view.totals],
        "crosscheck": {
            code: {"ready": not found, "mismatches": [_mismatch_out(m) for m in found]}
            for code, found in view.mismatches.items()
        },
        "fx_report": filing_out(FX_KIND, view.fx_report),
        "vat_claim": filing_out(VAT_KIND, view.vat_claim),
    }


# -- payments ---------------------------------------------------------------------------------------------


@router.get("/trades/{int:trade_id}/payments", response=list[PaymentOut])
def list_payments(request, trade_id: int):
    """The payments recorded on the trade, by date received."""
    actor = actor_of(request)
    trade = queries.get_finance_trade_for(actor, trade_id)
    return queries.payments_of(trade)


@router.post("/trades/{int:trade_id}/payments", response={201: PaymentOut})
@idempotent
def record_payment(request, trade_id: int, payload: PaymentIn):
    """Record a payment received on the trade (amount, currency, date, the bank's reference)."""
    actor = actor_of(request)
    trade = queries.get_finance_trade_for(actor, trade_id)
    payment = services.record_payment(actor=actor, trade=trade, data=services.PaymentData(**payload.dict()))
    return payment


@router.delete("/trades/{int:trade_id}/payments/{int:payment_id}", response={204: None})
def delete_payment(request, trade_id: int, payment_id: int):
    """Delete a payment recorded by mistake (409-like 422 when a filing held by the window reports it)."""
    actor = actor_of(request)
    services.delete_payment(actor=actor, payment=queries.get_payment_for(actor, trade_id, payment_id))
    return None


# -- the finance of a trade, and filing ---------------------------------------------------------------------


@router.get("/trades/{int:trade_id}/finance", response=FinanceOut)
def trade_finance(request, trade_id: int):
    """Payments and their totals against the invoice, the cross-check of each filing, and the filings."""
    trade = queries.get_finance_trade_for(actor_of(request), trade_id)
    return _finance_out(queries.finance_of(trade))


@router.post("/trades/{int:trade_id}/fx-report", response={202: FilingOut})
@idempotent
def submit_fx_report(request, trade_id: int, payload: FxReportIn | None = None):
    """File the FX settlement report (a correction when it answers a query). 202: queued for the single
    window; 422 while the cross-check finds mismatches."""
    actor = actor_of(request)
    trade = queries.get_finance_trade_for(actor, trade_id)
    explanation = payload.explanation if payload else None
    filing = services.submit_fx_report(actor=actor, trade=trade, explanation=explanation)
    return filing_out(FX_KIND, filing)


@router.post("/trades/{int:trade_id}/vat-claim", response={202: FilingOut})
@idempotent
def submit_vat_claim(request, trade_id: int, payload: VatClaimIn | None = None):
    """File the VAT refund claim with the input VAT to refund (entered here, or saved on the claim before).
    202: queued; 422 while the cross-check finds mismatches or the claim's figures do not hold."""
    actor = actor_of(request)
    trade = queries.get_finance_trade_for(actor, trade_id)
    given = payload.dict(exclude_unset=True) if payload else {}
    explanation = given.pop("explanation", None)
    filing = services.submit_vat_claim(actor=actor, trade=trade, explanation=explanation, **given)
    return filing_out(VAT_KIND, filing)
