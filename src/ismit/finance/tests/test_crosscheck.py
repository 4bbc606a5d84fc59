"""The cross-check of a filing: every kind of mismatch, each with both values and where they come from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from ismit.finance import crosscheck as cc
from ismit.finance.tests.support import (
    EXPORTER,
    MRN,
    TODAY,
    check,
    codes,
    declared,
    invoice,
    paid,
    replace,
)

INVOICE_SOURCE = "Invoice INV-2026-041 (trade EXP-2026-00001)"
DECLARATION_SOURCE = f"Export declaration {MRN}"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def only(mismatches, code):
    found = [m for m in mismatches if m.code == code]
    assert len(found) == 1, codes(mismatches)
    return found[0]


@pytest.mark.parametrize("kind", [cc.FX, cc.VAT])
def test_data_that_agree_pass(kind):
    assert check(kind) == []


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        check("customs")


# -- what the filing needs -----------------------------------------------------------------------------------


def test_no_cleared_declaration_is_a_mismatch():
    m = only(check(cc.FX, declaration=None), "declaration.missing")
    assert m.ours.value == "none cleared" and m.ours.source == "Export declaration"
    assert m.theirs.value == "cleared by customs"
    assert only(check(cc.VAT, declaration=None), "declaration.missing").theirs.value == "goods exited"


def test_a_vat_claim_waits_for_the_exit_of_the_goods_an_fx_report_does_not():
    released = declared(status=cc.CLEARED, status_label="Released")
    m = only(check(cc.VAT, declaration=released), "declaration.not_exited")
    assert (m.ours.source, m.ours.value) == (DECLARATION_SOURCE, "Released")
    assert m.theirs.value == "goods exited"
    assert check(cc.FX, declaration=released) == []


def test_no_invoice_number_is_a_mismatch():
    m = only(
        check(cc.FX, invoice=invoice(number=""), declaration=declared(invoice_number="")),
        "invoice.number_missing",
    )
    assert m.ours == cc.Side("Trade EXP-2026-00001", "—")
    assert m.field == "invoice_number"


def test_the_exporter_needs_an_identifier_and_a_vat_number_for_the_claim():
    nobody = cc.Exporter(name="Anacarde Abidjan SARL")
    assert {"exporter.id_missing", "exporter.vat_missing"} <= set(codes(check(cc.VAT, exporter=nobody)))
    tax_only = cc.Exporter(name="Anacarde Abidjan SARL", identifiers={"tax": "CI1234567890"})
    assert check(cc.FX, exporter=tax_only) == []
    assert codes(check(cc.VAT, exporter=tax_only)) == ["exporter.vat_missing"]


def test_no_payment_is_a_mismatch_showing_the_invoice_total():
    m = only(check(cc.FX, payments=()), "payments.none")
    assert (m.ours.source, m.ours.value) == ("Payments recorded", "0.00 EUR")
    assert (m.theirs.source, m.theirs.value) == (INVOICE_SOURCE, "11,475.00 EUR")


# -- values and currencies ---------------------------------------------------------------------------------


def test_the_invoice_total_must_be_the_declared_invoice_amount():
    m = only(check(cc.FX, declaration=declared(invoice_amount=Decimal("12000.00"))), "value.declared_invoice")
    assert (m.ours.source, m.ours.value) == (INVOICE_SOURCE, "11,475.00 EUR")
    assert (m.theirs.source, m.theirs.value) == (DECLARATION_SOURCE, "12,000.00 EUR")
    assert "11,475.00 EUR" in m.text and "12,000.00 EUR" in m.text


def test_the_invoice_total_must_be_the_total_of_the_declared_statistical_values():
    items = declared().items
    changed = (items[0], replace(items[1], statistical_value=Decimal("2500.00")))
    m = only(check(cc.FX, declaration=declared(items=changed)), "value.statistical")
    assert m.ours.value == "11,475.00 EUR" and m.theirs.value == "11,800.00 EUR"
    assert m.theirs.source == DECLARATION_SOURCE


def test_the_invoice_number_must_be_the_declared_one():
    m = only(check(cc.FX, declaration=declared(invoice_number="INV-2026-040")), "invoice.number")
    assert (m.ours.value, m.theirs.value) == ("INV-2026-041", "INV-2026-040")


def test_the_currency_must_be_the_declared_one():
    found = check(cc.FX, declaration=declared(currency="USD", invoice_amount=Decimal("12000.00")))
    m = only(found, "currency.declaration")
    assert (m.ours.value, m.theirs.value) == ("EUR", "USD")
    assert "value.declared_invoice" not in codes(found)  # amounts in two currencies are not compared


def test_a_payment_in_another_currency_is_a_mismatch():
    payments = (*paid("6000.00"), *paid("5475.00", currency="USD"))
    found = check(cc.FX, payments=payments)
    m = only(found, "currency.payment")
    assert m.field == "payments[1].currency"
    assert (m.ours.source, m.ours.value) == ("Payment BANK-1", "5,475.00 USD")
    assert (m.theirs.source, m.theirs.value) == (INVOICE_SOURCE, "EUR")
    # ...and the payments in the invoice's currency then fall short.
    assert only(found, "value.payments").ours.value == "6,000.00 EUR"


def test_payments_short_of_the_invoice_beyond_the_tolerance():
    m = only(check(cc.FX, payments=paid("6000.00")), "value.payments")
    assert (m.ours.source, m.ours.value) == ("Payments recorded", "6,000.00 EUR")
    assert (m.theirs.source, m.theirs.value) == (INVOICE_SOURCE, "11,475.00 EUR")
    assert "2 %" in m.message


def test_bank_charges_within_the_tolerance_pass():
    assert check(cc.FX, payments=paid("11300.00")) == []  # 175.00 short: 1.5 %
    assert codes(check(cc.FX, payments=paid("11200.00"))) == ["value.payments"]  # 275.00 short: 2.4 %


def test_the_tolerance_is_configurable():
    strict = cc.Rules(tolerance_pct=Decimal("0"))
    assert codes(check(cc.FX, payments=paid("11474.00"), rules=strict)) == ["value.payments"]
    lenient = cc.Rules(tolerance_pct=Decimal("5"))
    assert check(cc.FX, payments=paid("11000.00"), rules=lenient) == []


def test_payments_over_the_invoice_beyond_the_tolerance():
    m = only(check(cc.FX, payments=paid("12000.00")), "value.payments")
    assert "exceed" in m.message and m.ours.value == "12,000.00 EUR"


# -- quantities --------------------------------------------------------------------------------------------


def test_the_number_of_goods_lines_must_be_the_declared_one():
    one_item = declared(items=declared().items[:1], invoice_amount=None)
    m = only(check(cc.FX, declaration=one_item), "quantity.lines")
    assert (m.ours.value, m.theirs.value) == ("2", "1")


def test_each_line_quantity_and_net_mass_must_be_the_declared_ones():
    items = declared().items
    changed = (replace(items[0], quantity=Decimal("1400"), net_mass_kg=Decimal("1400")), items[1])
    found = check(cc.FX, declaration=declared(items=changed))
    quantity = only(found, "quantity.item")
    assert quantity.field == "items[0].quantity"
    assert (quantity.ours.value, quantity.theirs.value) == ("1,500 KGM", "1,400 KGM")
    assert "line 1" in quantity.message
    mass = only(found, "quantity.net_mass")
    assert (mass.ours.value, mass.theirs.value) == ("1,500 kg", "1,400 kg")


# -- dates -------------------------------------------------------------------------------------------------


def test_a_payment_before_the_invoice_date_is_a_mismatch_unless_paid_in_advance():
    early = paid("11475.00", on=dt.date(2025, 12, 20))
    m = only(check(cc.FX, payments=early), "date.payment_before_invoice")
    assert m.field == "payments[0].received_on"
    assert (m.ours.source, m.ours.value) == ("Payment BANK-1", "12/20/2025")
    assert (m.theirs.source, m.theirs.value) == (INVOICE_SOURCE, "01/02/2026")
    assert check(cc.FX, payments=early, invoice=invoice(payment_terms="advance")) == []


def test_dates_in_the_future_are_mismatches():
    found = check(cc.FX, payments=paid("11475.00", on=TODAY + dt.timedelta(days=1)))
    m = only(found, "date.payment_future")
    assert m.theirs == cc.Side("Today", "03/01/2026")
    assert "date.invoice_future" in codes(check(cc.FX, invoice=invoice(date=dt.date(2026, 4, 1))))


def test_the_export_must_not_be_before_the_invoice_date():
    m = only(
        check(cc.FX, declaration=declared(export_date=dt.date(2026, 1, 1))), "date.export_before_invoice"
    )
    assert (m.ours.source, m.ours.value) == (DECLARATION_SOURCE, "01/01/2026")
    assert (m.theirs.source, m.theirs.value) == (INVOICE_SOURCE, "01/02/2026")


def test_a_vat_claim_is_made_within_the_legal_window_after_export():
    late = TODAY.replace(year=2027)  # 13 months after the export of 1 February 2026
    m = only(check(cc.VAT, today=late), "date.claim_window")
    assert (m.ours.value, m.theirs.source, m.theirs.value) == (
        "02/01/2026",
        "Last day to claim",
        "02/01/2027",
    )
    assert "date.claim_window" not in codes(check(cc.FX, today=late))  # not a rule of the FX report
    assert check(cc.VAT, today=dt.date(2027, 2, 1)) == []  # the last day
    assert check(cc.VAT, today=late, rules=cc.Rules(claim_window_months=24)) == []


def test_add_months_keeps_the_end_of_month():
    assert cc.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert cc.add_months(dt.date(2026, 11, 15), 14) == dt.date(2028, 1, 15)


# -- language ----------------------------------------------------------------------------------------------


def test_values_are_written_in_the_users_language():
    with translation.override("fr"):
        m = only(
            check(cc.FX, declaration=declared(invoice_amount=Decimal("12000.00"))), "value.declared_invoice"
        )
    assert m.ours.value.replace("\u202f", " ").replace("\xa0", " ") == "11 475,00 EUR"
    assert m.theirs.value.replace("\u202f", " ").replace("\xa0", " ") == "12 000,00 EUR"


def test_every_mismatch_at_once():
    messy = check(
        cc.VAT,
        invoice=invoice(number=""),
        declaration=None,
        payments=(),
        exporter=cc.Exporter(name="X"),
    )
    assert set(codes(messy)) == {
        "invoice.number_missing",
        "exporter.id_missing",
        "exporter.vat_missing",
        "declaration.missing",
        "payments.none",
    }
    assert all(m.ours.source and m.ours.value and m.theirs.source and m.theirs.value for m in messy)
    assert EXPORTER.id == "CI1234567890" and EXPORTER.vat_number == "CI0012345A"
