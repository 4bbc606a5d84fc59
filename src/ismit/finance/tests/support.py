"""Test data of the finance tests: the cashew export's invoice as the cross-check sees it, a declaration that
matches it, and payments that cover it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from ismit.finance import crosscheck as cc
from ismit.nsw_sim import mrn

TODAY = dt.date(2026, 3, 1)
MRN = mrn.make_mrn("finance-tests", "CI", year=2026)


def invoice(**overrides) -> cc.Invoice:
    lines = (
        cc.InvoiceLine(
            1, "Cashew kernels W320", Decimal("1500.000"), "KGM", Decimal("1500.000"), Decimal("9300.00")
        ),
        cc.InvoiceLine(
            2, "Cashew nuts in shell", Decimal("1500.000"), "KGM", Decimal("1500.000"), Decimal("2175.00")
        ),
    )
    values = dict(
        trade_reference="EXP-2026-00001",
        number="INV-2026-041",
        date=dt.date(2026, 1, 2),
        currency="EUR",
        total=Decimal("11475.00"),
        payment_terms="lc",
        lines=lines,
    )
    values.update(overrides)
    return cc.Invoice(**values)


def declared(**overrides) -> cc.Declared:
    values = dict(
        mrn=MRN,
        status=cc.GOODS_EXITED,
        status_label="Goods exited",
        invoice_number="INV-2026-041",
        invoice_amount=Decimal("11475.00"),
        currency="EUR",
        export_date=dt.date(2026, 2, 1),
        items=(
            cc.DeclaredItem(1, Decimal("1500"), "KGM", Decimal("1500"), Decimal("9300.00"), "EUR"),
            cc.DeclaredItem(2, Decimal("1500"), "KGM", Decimal("1500"), Decimal("2175.00"), "EUR"),
        ),
    )
    values.update(overrides)
    return cc.Declared(**values)


def paid(*amounts: str, currency: str = "EUR", on: dt.date = dt.date(2026, 2, 15)) -> tuple[cc.Received, ...]:
    return tuple(
        cc.Received(Decimal(amount), currency, on, f"BANK-{n}") for n, amount in enumerate(amounts, start=1)
    )


EXPORTER = cc.Exporter(name="Anacarde Abidjan SARL", identifiers={"tax": "CI1234567890", "vat": "CI0012345A"})


def check(kind: str = cc.VAT, **overrides) -> list[cc.Mismatch]:
    values = dict(
        invoice=invoice(),
        declaration=declared(),
        payments=paid("6000.00", "5475.00"),
        exporter=EXPORTER,
        rules=cc.Rules(),
        today=TODAY,
    )
    values.update(overrides)
    return cc.crosscheck(kind, **values)


def codes(mismatches: list[cc.Mismatch]) -> list[str]:
    return [m.code for m in mismatches]


def replace(obj, **changes):
    return dataclasses.replace(obj, **changes)
