"""A realistic trade data set: cashew from Abidjan to Marseille. Used by the demo seed and the tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ismit.trades.services import GoodsItemData, PartyData, TradeData


def cashew_export(
    *,
    seller_name: str = "Anacarde Abidjan SARL",
    reference: str = "",
    invoice_date: dt.date = dt.date(2026, 11, 2),
    planned_departure: dt.date = dt.date(2026, 12, 1),
) -> TradeData:
    """Two lines of cashew (kernels and raw nuts), CIF Marseille by sea, paid by letter of credit."""
    return TradeData(
        direction="export",
        reference=reference,
        seller=PartyData(name=seller_name, country="CI", city="Abidjan", street="Zone 4"),
        buyer=PartyData(
            name="Provence Fruits Secs SAS",
            country="FR",
            city="Marseille",
            street="12 quai de la Joliette",
            identifiers={"vat": "FR40303265045"},
        ),
        invoice_number="INV-2026-041",
        invoice_date=invoice_date,
        currency="EUR",
        incoterm="CIF",
        incoterm_place="FRMRS",
        transport_mode="1",
        place_of_loading="CIABJ",
        place_of_discharge="FRMRS",
        planned_departure=planned_departure,
        payment_terms="lc",
        payment_days=60,
        items=[
            GoodsItemData(
                description="Cashew kernels W320, shelled",
                hs_code="080132",
                origin_country="CI",
                quantity=Decimal("15000"),
                unit="KGM",
                packages_count=750,
                package_type="BG",
                net_mass_kg=Decimal("15000"),
                gross_mass_kg=Decimal("15450"),
                unit_price=Decimal("6.20"),
            ),
            GoodsItemData(
                description="Cashew nuts in shell",
                hs_code="080131",
                origin_country="CI",
                quantity=Decimal("5000"),
                unit="KGM",
                packages_count=62,
                package_type="BG",
                net_mass_kg=Decimal("5000"),
                gross_mass_kg=Decimal("5120"),
                unit_price=Decimal("1.45"),
            ),
        ],
    )
