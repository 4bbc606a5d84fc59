"""FX settlement reports and VAT refund claims (JSON): reading, checking, and the answer they get.

The JSON schemas are in docs/single-window-protocol.md. `read_report(body, kind)` raises Malformed for a
body that is not a JSON object (400); `check_report(kind, data, declaration)` gives (problems, question):
problems mean "rejected", a question means "query" (answered by a correction), neither means "accepted".
`declaration` is what the window knows of the declaration the report names (by MRN): its facts and
status, or None when the window does not know it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from ismit.nsw_sim import codes, mrn
from ismit.nsw_sim.declarations import Malformed

FX = "fx_settlement"
VAT = "vat_refund_claim"
REFERENCE_FIELD = {FX: "report_reference", VAT: "claim_reference"}
PARTY_FIELD = {FX: "exporter", VAT: "claimant"}

REASONS = {
    "NSWF0001": "A required field is missing or empty.",
    "NSWF0002": "A field has the wrong type or format.",
    "NSWF0003": "An amount is not a positive decimal number.",
    "NSWF0004": "A currency is not an ISO 4217 code.",
    "NSWF0005": "A date is not an ISO 8601 date (YYYY-MM-DD) or lies in the future.",
    "NSWF0006": "The MRN is not a valid movement reference number.",
    "NSWF0007": "The same bank reference appears twice.",
    "NSWF0008": "A payment is in another currency than the report.",
    "NSWF0010": "This single window knows no accepted declaration with this MRN.",
    "NSWF0011": "The invoice number differs from the declaration's.",
    "NSWF0012": "The currency differs from the declaration's.",
    "NSWF0013": "The amount differs from the declaration's invoice amount.",
    "NSWV0010": "The goods have not been confirmed as exited: no VAT refund before exit.",
    "NSWV0011": "The VAT amount does not match the net value and the VAT rate.",
    "NSWV0012": "The VAT amount exceeds the highest VAT rate applied to the net value.",
    "NSWV0013": "The export date is before the invoice date.",
}


def read_report(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not well-formed JSON: {exc}")
    if not isinstance(data, dict):
        raise Malformed("the body must be a JSON object")
    return data


def _reason(code: str, field: str, message: str = "") -> dict:
    return {"code": code, "field": field, "message": message or REASONS[code]}


def _amount(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def _date(value) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if day <= dt.date.today() + dt.timedelta(days=1) else None


def _text(data: dict, name: str, reasons: list, where: str = "", max_length: int = 70) -> str:
    value = data.get(name)
    path = f"{where}{name}"
    if value is None or (isinstance(value, str) and not value.strip()):
        reasons.append(_reason("NSWF0001", path, f"{path} is required"))
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        reasons.append(
            _reason("NSWF0002", path, f"{path} must be a string of at most {max_length} characters")
        )
        return ""
    return value.strip()


def check_report(kind: str, data: dict, declaration: dict | None, config) -> tuple[list[dict], str]:
    reasons: list[dict] = []
    _text(data, REFERENCE_FIELD[kind], reasons, max_length=35)
    party_name = PARTY_FIELD[kind]
    party = data.get(party_name)
    if not isinstance(party, dict):
        reasons.append(_reason("NSWF0001", party_name, f"{party_name} is required (an object with an id)"))
        party = {}
    else:
        _text(party, "id", reasons, f"{party_name}.", 35)
        if kind == VAT:
            _text(party, "vat_number", reasons, f"{party_name}.", 35)
    number = _text(data, "declaration_mrn", reasons, max_length=18).upper()
    if number and not mrn.is_valid(number):
        reasons.append(_reason("NSWF0006", "declaration_mrn", f"{number!r}: " + REASONS["NSWF0006"]))
    invoice_number = _text(data, "invoice_number", reasons)
    currency = _text(data, "currency", reasons, max_length=3).upper()
    if currency and currency not in codes.currencies():
        reasons.append(_reason("NSWF0004", "currency"))
    amount_field = "invoiced_amount" if kind == FX else "net_value"
    amount = _amount(data.get(amount_field))
    if amount is None or amount == 0:
        reasons.append(_reason("NSWF0003", amount_field))
    invoice_date = None
    if data.get("invoice_date") is not None:
        invoice_date = _date(data.get("invoice_date"))
        if invoice_date is None:
            reasons.append(_reason("NSWF0005", "invoice_date"))

    payments = data.get("payments")
    received = Decimal(0)
    if not isinstance(payments, list) or not payments:
        reasons.append(_reason("NSWF0001", "payments", "payments must be a list of at least one payment"))
        payments = []
    seen: set[str] = set()
    for n, payment in enumerate(payments):
        where = f"payments[{n}]."
        if not isinstance(payment, dict):
            reasons.append(_reason("NSWF0002", f"payments[{n}]", "each payment is an object"))
            continue
        paid = _amount(payment.get("amount"))
        if paid is None or paid == 0:
            reasons.append(_reason("NSWF0003", where + "amount"))
        pay_currency = str(payment.get("currency") or "").upper()
        if pay_currency not in codes.currencies():
            reasons.append(_reason("NSWF0004", where + "currency"))
        elif currency and pay_currency != currency:
            reasons.append(
                _reason(
                    "NSWF0008", where + "currency", f"payment in {pay_currency}, the report is in {currency}"
                )
            )
        if _date(payment.get("received_on")) is None:
            reasons.append(_reason("NSWF0005", where + "received_on"))
        reference = _text(payment, "bank_reference", reasons, where, 35)
        if reference in seen:
            reasons.append(_reason("NSWF0007", where + "bank_reference"))
        seen.add(reference)
        if paid is not None and pay_currency == currency:
            received += paid

    vat_amount = None
    if kind == VAT:
        export_date = _date(data.get("export_date"))
        if export_date is None:
            reasons.append(_reason("NSWF0005", "export_date"))
        elif invoice_date and export_date < invoice_date:
            reasons.append(_reason("NSWV0013", "export_date"))
        vat_amount = _amount(data.get("vat_amount"))
        if vat_amount is None:
            reasons.append(_reason("NSWF0003", "vat_amount"))
        elif amount is not None:
            rate = data.get("vat_rate")
            if rate is not None:
                rate_value = _amount(rate)
                if rate_value is None:
                    reasons.append(_reason("NSWF0002", "vat_rate", 'vat_rate is a percentage, e.g. "18"'))
                elif abs(amount * rate_value / 100 - vat_amount) > Decimal("0.01"):
                    reasons.append(
                        _reason("NSWV0011", "vat_amount", f"{amount} x {rate_value}% is not {vat_amount}")
                    )
            if vat_amount > amount * Decimal(str(config.max_vat_rate)) / 100:
                reasons.append(_reason("NSWV0012", "vat_amount"))

    # Against the declaration this window holds.
    if number and mrn.is_valid(number) and config.check_mrn:
        if declaration is None or declaration.get("state") in {None, codes.RECEIVED, codes.REJECTED}:
            reasons.append(_reason("NSWF0010", "declaration_mrn", f"{number}: " + REASONS["NSWF0010"]))
        else:
            facts = declaration.get("facts") or {}
            if kind == VAT and declaration.get("state") != codes.GOODS_EXITED:
                reasons.append(_reason("NSWV0010", "declaration_mrn"))
            if facts.get("invoice_number") and invoice_number and facts["invoice_number"] != invoice_number:
                reasons.append(
                    _reason(
                        "NSWF0011",
                        "invoice_number",
                        f"declared invoice {facts['invoice_number']!r}, here {invoice_number!r}",
                    )
                )
            if facts.get("currency") and currency and facts["currency"] != currency:
                reasons.append(
                    _reason("NSWF0012", "currency", f"declared in {facts['currency']}, here {currency}")
                )
            declared = _amount(facts.get("amount")) if facts.get("amount") else None
            if (
                declared is not None
                and amount is not None
                and (not facts.get("currency") or facts["currency"] == currency)
                and abs(declared - amount) > Decimal("0.01")
            ):
                reasons.append(
                    _reason(
                        "NSWF0013", amount_field, f"declared {declared} {currency}, here {amount} {currency}"
                    )
                )
    if reasons:
        return reasons, ""
    explanation = str(data.get("explanation") or "").strip()
    if amount is not None and received < amount and not explanation:
        what = "invoiced amount" if kind == FX else "net value"
        return [], (
            f"The payments received ({received} {currency}) are less than the {what} ({amount} {currency}). "
            "Report the missing payments in a correction, or explain the difference (field explanation)."
        )
    return [], ""
