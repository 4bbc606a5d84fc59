"""The landed-cost estimate: customs value, duty, VAT and total, with every assumption stated.

Pure arithmetic on a trade's goods lines (no database), so that it can be tested on its own:

- The customs value is taken on a CIF basis (cost, insurance and freight to the place of import), as
  the EU and most WTO members value imports. Where the Incoterms rule leaves main carriage or insurance
  to the buyer (EXW, FCA, FAS, FOB; and insurance under CPT and CFR) they are added as estimates: freight
  as a percentage of the goods value for the mode of transport, insurance as a premium rate on 110 % of
  the value with freight (the minimum cover of CIF and CIP).
- Duty is the line's ad valorem rate on its customs value (freight and insurance shared out in proportion
  to the line amounts); VAT is charged on the customs value plus duty.
- Under DDP the seller pays duty and VAT, so the price is taken to include them: the customs value of a
  line is its amount divided by (1 + duty rate) × (1 + VAT rate).
Amounts are rounded to the cent, line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
INSURED_SHARE = Decimal("1.10")  # Incoterms 2020 CIF/CIP: at least 110 % of the contract price

# Freight to the place of import as a percentage of the goods value, per UNECE Rec 19 mode of transport.
# Orders of magnitude for planning, not quotes; settings.COMPLIANCE_FREIGHT_PERCENT overrides them.
DEFAULT_FREIGHT_PERCENT = {
    "0": Decimal(7),  # not specified
    "1": Decimal(5),  # maritime
    "2": Decimal(6),  # rail
    "3": Decimal(7),  # road
    "4": Decimal(12),  # air
    "5": Decimal(10),  # mail
    "6": Decimal(7),  # multimodal
    "7": Decimal(1),  # fixed installations
    "8": Decimal(5),  # inland water
    "9": Decimal(7),  # not applicable
}
DEFAULT_INSURANCE_PERCENT = Decimal("0.3")  # cargo insurance premium, settings.COMPLIANCE_INSURANCE_PERCENT


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def percent(value: Decimal) -> str:
    """A rate as people write it, in the active language: 5.500 -> "5.5" ("5,5" in French), 12.000 -> "12"."""
    return formats.number_format(Decimal(format(value.normalize(), "f")))


def amount(value: Decimal) -> str:
    """An amount to the cent, in the active language: 5012.5 -> "5,012.50" ("5 012,50" in French)."""
    return formats.number_format(value, 2, force_grouping=True)


def freight_percent(mode: str) -> Decimal:
    table = {**DEFAULT_FREIGHT_PERCENT, **getattr(settings, "COMPLIANCE_FREIGHT_PERCENT", {})}
    return Decimal(str(table.get(mode, table["0"])))


def insurance_percent() -> Decimal:
    return Decimal(str(getattr(settings, "COMPLIANCE_INSURANCE_PERCENT", DEFAULT_INSURANCE_PERCENT)))


@dataclass(frozen=True)
class Terms:
    """What the landed cost needs to know of the Incoterms rule (S = seller, B = buyer)."""

    code: str
    main_carriage: str
    insurance: str
    import_clearance: str

    @property
    def buyer_pays_freight(self) -> bool:
        return self.main_carriage == "B"

    @property
    def buyer_insures(self) -> bool:
        return self.insurance == "B"

    @property
    def seller_pays_duties(self) -> bool:
        return self.import_clearance == "S"

    @property
    def delivered(self) -> bool:
        return self.code in ("DAP", "DPU", "DDP")


@dataclass(frozen=True)
class CostLine:
    line_no: int
    description: str
    hs_code: str
    amount: Decimal  # quantity x unit price, in the trade currency
    duty_rate: Decimal | None  # per cent; None: no rule known
    vat_rate: Decimal | None


@dataclass(frozen=True)
class LandedCostLine:
    line_no: int
    description: str
    hs_code: str
    goods_value: Decimal
    customs_value: Decimal
    duty_rate: Decimal | None
    duty: Decimal
    vat_rate: Decimal | None
    vat: Decimal

    @property
    def duty_percent(self) -> str:
        return "" if self.duty_rate is None else percent(self.duty_rate)

    @property
    def vat_percent(self) -> str:
        return "" if self.vat_rate is None else percent(self.vat_rate)


@dataclass(frozen=True)
class Assumption:
    code: str
    text: str


@dataclass(frozen=True)
class LandedCost:
    currency: str
    incoterm: str
    goods_value: Decimal  # the invoice amount
    freight: Decimal  # estimated freight added to reach the customs value (0 when in the price)
    insurance: Decimal  # estimated insurance added
    customs_value: Decimal
    duty: Decimal
    vat: Decimal
    total: Decimal  # customs value + duty + VAT
    duties_paid_by: str  # "buyer", or "seller" under DDP
    lines: tuple[LandedCostLine, ...]
    assumptions: tuple[Assumption, ...]
    destination_currency: str = ""
    destination_total: Decimal | None = None
    conversion: object | None = None  # refdata.queries.Conversion


def _shares(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` split in proportion to `weights`, to the cent, the remainder on the largest line."""
    if not weights:
        return []
    whole = sum(weights, Decimal(0))
    if whole <= 0 or total == 0:
        return [Decimal(0)] * len(weights)
    parts = [money(total * w / whole) for w in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    parts[largest] += total - sum(parts, Decimal(0))
    return parts


def estimate(
    lines: list[CostLine],
    *,
    currency: str,
    terms: Terms,
    mode: str,
    mode_name: str = "",
    duty_relief: bool = False,
) -> LandedCost:
    """The landed cost of the lines under the Incoterms rule and mode of transport (see the module)."""
    goods = sum((line.amount for line in lines), Decimal(0))
    assumptions = [
        Assumption(
            "cif_basis", _("Customs value: the price plus freight and insurance to the place of import.")
        ),
    ]
    freight = insurance = Decimal(0)
    if terms.buyer_pays_freight:
        rate = freight_percent(mode)
        freight = money(goods * rate / HUNDRED)
        assumptions.append(
            Assumption(
                "freight",
                _(
                    "Freight is not in the %(incoterm)s price: estimated at %(percent)s%% of the goods value"
                    " for %(mode)s, %(amount)s %(currency)s."
                )
                % {
                    "incoterm": terms.code,
                    "percent": percent(rate),
                    "mode": mode_name or mode,
                    "amount": amount(freight),
                    "currency": currency,
                },
            )
        )
    else:
        assumptions.append(
            Assumption("freight", _("Freight is in the %(incoterm)s price.") % {"incoterm": terms.code})
        )
    if terms.buyer_insures:
        rate = insurance_percent()
        insurance = money((goods + freight) * INSURED_SHARE * rate / HUNDRED)
        assumptions.append(
            Assumption(
                "insurance",
                _(
                    "Insurance is not in the %(incoterm)s price: estimated at %(percent)s%% of 110%% of the"
                    " value with freight, %(amount)s %(currency)s."
                )
                % {
                    "incoterm": terms.code,
                    "percent": percent(rate),
                    "amount": amount(insurance),
                    "currency": currency,
                },
            )
        )
    else:
        assumptions.append(
            Assumption("insurance", _("Insurance is in the %(incoterm)s price.") % {"incoterm": terms.code})
        )
    if terms.delivered:
        assumptions.append(
            Assumption(
                "post_border",
                _("Transport after the place of import is in the %(incoterm)s price and is not deducted.")
                % {"incoterm": terms.code},
            )
        )

    amounts = [line.amount for line in lines]
    freight_parts = _shares(freight, amounts)
    insurance_parts = _shares(insurance, amounts)
    out = []
    unknown_duty = [line.line_no for line in lines if line.duty_rate is None]
    unknown_vat = [line.line_no for line in lines if line.vat_rate is None]
    for line, line_freight, line_insurance in zip(lines, freight_parts, insurance_parts, strict=True):
        duty_rate = Decimal(0) if duty_relief or line.duty_rate is None else line.duty_rate
        vat_rate = line.vat_rate or Decimal(0)
        if terms.seller_pays_duties:
            factor = (1 + duty_rate / HUNDRED) * (1 + vat_rate / HUNDRED)
            first_guess = money(line.amount / factor)
            duty = money(first_guess * duty_rate / HUNDRED)
            vat = money((first_guess + duty) * vat_rate / HUNDRED)
            customs_value = line.amount - duty - vat  # the cent lost in rounding stays in the customs value
        else:
            customs_value = line.amount + line_freight + line_insurance
            duty = money(customs_value * duty_rate / HUNDRED)
            vat = money((customs_value + duty) * vat_rate / HUNDRED)
        out.append(
            LandedCostLine(
                line_no=line.line_no,
                description=line.description,
                hs_code=line.hs_code,
                goods_value=line.amount,
                customs_value=customs_value,
                duty_rate=line.duty_rate,
                duty=duty,
                vat_rate=line.vat_rate,
                vat=vat,
            )
        )
    if terms.seller_pays_duties:
        assumptions.append(
            Assumption(
                "ddp",
                _("Under %(incoterm)s the seller pays duty and VAT: the price is taken to include them.")
                % {"incoterm": terms.code},
            )
        )
    assumptions.append(
        Assumption("vat_base", _("VAT is charged on the customs value plus duty; no other import charges."))
    )
    if duty_relief:
        assumptions.append(
            Assumption("de_minimis", _("No duty: the consignment is under the de minimis threshold."))
        )
    if unknown_duty:
        assumptions.append(
            Assumption(
                "duty_unknown",
                _("No duty rate is known for lines %(lines)s: counted as 0.")
                % {"lines": ", ".join(map(str, unknown_duty))},
            )
        )
    if unknown_vat:
        assumptions.append(
            Assumption(
                "vat_unknown",
                _("No VAT rate is known for lines %(lines)s: counted as 0.")
                % {"lines": ", ".join(map(str, unknown_vat))},
            )
        )
    assumptions.append(Assumption("rounding", _("Amounts are rounded to the cent, line by line.")))

    customs_value = sum((line.customs_value for line in out), Decimal(0))
    duty = sum((line.duty for line in out), Decimal(0))
    vat = sum((line.vat for line in out), Decimal(0))
    return LandedCost(
        currency=currency,
        incoterm=terms.code,
        goods_value=goods,
        freight=freight,
        insurance=insurance,
        customs_value=customs_value,
        duty=duty,
        vat=vat,
        total=customs_value + duty + vat,
        duties_paid_by="seller" if terms.seller_pays_duties else "buyer",
        lines=tuple(out),
        assumptions=tuple(assumptions),
    )
