"""The JSON bodies of the FX report and VAT claim: made only of data already entered, and what the single
window's protocol (docs/single-window-protocol.md) takes — checked by the reference window's own reader."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation

from ismit.finance import crosscheck as cc
from ismit.finance import payloads
from ismit.finance.tests.support import EXPORTER, MRN, declared, invoice, paid
from ismit.nsw_sim.config import Config
from ismit.nsw_sim.finance import FX, VAT, check_report, read_report

FX_FIELDS = {
    "report_reference",
    "exporter",
    "declaration_mrn",
    "invoice_number",
    "invoice_date",
    "currency",
    "invoiced_amount",
    "payments",
    "explanation",
}
VAT_FIELDS = {
    "claim_reference",
    "claimant",
    "declaration_mrn",
    "export_date",
    "invoice_number",
    "invoice_date",
    "currency",
    "net_value",
    "vat_rate",
    "vat_amount",
    "payments",
    "explanation",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def window_answer(kind: str, body: dict) -> tuple[list[dict], str]:
    """What the reference single window makes of the bytes sent (the MRN check needs its own database)."""
    data = read_report(payloads.encode(body))
    return check_report(kind, data, None, Config(check_mrn=False))


def fx(**overrides) -> dict:
    values = dict(
        reference="FX-41",
        exporter=EXPORTER,
        invoice=invoice(),
        declaration=declared(),
        payments=paid("6000.00", "5475.00"),
        rules=cc.Rules(),
    )
    values.update(overrides)
    return payloads.fx_report(**values)


def vat(**overrides) -> dict:
    values = dict(
        reference="VAT-41",
        exporter=EXPORTER,
        invoice=invoice(),
        declaration=declared(),
        payments=paid("11475.00"),
        rules=cc.Rules(),
        vat_amount=Decimal("1234.56"),
    )
    values.update(overrides)
    return payloads.vat_claim(**values)


def test_the_fx_report_is_made_of_the_invoice_the_declaration_and_the_payments():
    body = fx()
    assert body == {
        "report_reference": "FX-41",
        "exporter": {"id": "CI1234567890", "name": "Anacarde Abidjan SARL"},
        "declaration_mrn": MRN,
        "invoice_number": "INV-2026-041",
        "invoice_date": "2026-01-02",
        "currency": "EUR",
        "invoiced_amount": "11475.00",
        "payments": [
            {"amount": "6000.00", "currency": "EUR", "received_on": "2026-02-15", "bank_reference": "BANK-1"},
            {"amount": "5475.00", "currency": "EUR", "received_on": "2026-02-15", "bank_reference": "BANK-2"},
        ],
    }
    assert set(body) <= FX_FIELDS
    assert window_answer(FX, body) == ([], "")


def test_the_vat_claim_takes_the_export_value_and_date_from_the_declaration_and_the_vat_from_the_msme():
    body = vat(declaration=declared(export_date=declared().export_date))
    assert body["claimant"] == {
        "id": "CI1234567890",
        "vat_number": "CI0012345A",
        "name": "Anacarde Abidjan SARL",
    }
    assert body["net_value"] == "11475.00"
    assert body["export_date"] == "2026-02-01"
    assert body["vat_amount"] == "1234.56"
    assert "vat_rate" not in body
    assert set(body) <= VAT_FIELDS
    assert window_answer(VAT, body) == ([], "")


def test_a_vat_rate_given_is_sent_as_a_plain_percentage():
    body = vat(vat_amount=Decimal("2065.50"), vat_rate=Decimal("18.00"))
    assert body["vat_rate"] == "18"
    assert window_answer(VAT, body) == ([], "")
    assert vat(vat_amount=Decimal("2295.00"), vat_rate=Decimal("20"))["vat_rate"] == "20"


def test_bank_charges_within_the_tolerance_are_explained_so_the_window_does_not_ask():
    body = fx(payments=paid("11300.00"))
    assert body["explanation"] == (
        "Bank charges of 175.00 EUR deducted from the payments (11,300.00 EUR received for 11,475.00 EUR)."
    )
    assert window_answer(FX, body) == ([], "")
    # Without it, the window would query the report.
    del body["explanation"]
    reasons, question = window_answer(FX, body)
    assert reasons == [] and "less than the invoiced amount" in question


def test_the_msmes_answer_to_a_query_is_sent_with_the_charges():
    body = fx(payments=paid("11300.00"), explanation="Paid by letter of credit.")
    assert body["explanation"].startswith("Paid by letter of credit. Bank charges of 175.00 EUR")


def test_the_bytes_sent_are_utf8_json():
    body = fx(exporter=cc.Exporter(name="Société Ivoirienne", identifiers={"tax": "CI1"}))
    raw = payloads.encode(body)
    assert json.loads(raw.decode("utf-8")) == body
    assert "Société".encode() in raw
