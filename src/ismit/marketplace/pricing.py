"""Instant indicative prices from a provider's rate card.

A rate card is the offering's RateLines. Each line is charged on the quantity its basis reads from the
cargo (docs/marketplace.md, "Catalogue and rate cards"):

- ``shipment``: 1;  ``kg``: the gross mass in kg;  ``m3``: the volume in m³;
- ``container_20`` / ``container_40`` / ``container_40hc``: the number of containers of that type asked for;
- ``value_percent``: the goods' value, converted into the offering's currency when it is in another one
  (``ismit.refdata.queries.convert``, the rate of the day ``on``); the line's amount is value × rate / 100;
- ``minimum``: not charged itself; the minimum of the base charges.

A line whose quantity is zero does not apply (a per-container line for a groupage request). The base lines
that apply are summed, and lifted to the minimum charge by a line "MIN" that makes up the difference; then
each surcharge that applies is added, itemised. Every amount is rounded to the cent, half up, and the total
is the sum of the rounded lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext

from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import RateBasis, RateLine, ServiceOffering
from ismit.refdata.queries import NoExchangeRate, convert

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)

_CONTAINER_OF_BASIS = {
    RateBasis.CONTAINER_20: "20",
    RateBasis.CONTAINER_40: "40",
    RateBasis.CONTAINER_40HC: "40HC",
}


@dataclasses.dataclass(frozen=True)
class PriceLine:
    code: str
    description: str
    basis: str  # RateBasis value
    quantity: Decimal
    rate: Decimal
    amount: Decimal  # rounded to the cent

    def to_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class Price:
    currency: str
    lines: tuple[PriceLine, ...]
    total: Decimal  # the sum of the lines' amounts
    # When a value-percent line converted the goods' value: the rate used (offering currency per unit of
    # the value's currency) and its date, to show beside the price.
    value_rate: Decimal | None = None
    value_rate_date: dt.date | None = None

    def lines_json(self) -> list[dict[str, str]]:
        return [line.to_json() for line in self.lines]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


class _CannotPrice(Exception):
    pass


def _quantity(basis: str, cargo: CargoSpec, value: Decimal | None) -> Decimal:
    if basis == RateBasis.SHIPMENT:
        return Decimal(1)
    if basis == RateBasis.KG:
        return max(cargo.gross_mass_kg, ZERO)
    if basis == RateBasis.M3:
        return max(cargo.volume_m3, ZERO)
    if basis in _CONTAINER_OF_BASIS:
        return Decimal(max(int(cargo.containers.get(_CONTAINER_OF_BASIS[basis], 0)), 0))
    if basis == RateBasis.VALUE_PERCENT:
        if value is None:
            raise _CannotPrice
        return value
    return ZERO


def _line(rate_line: RateLine, quantity: Decimal) -> PriceLine:
    amount = quantity * rate_line.amount
    if rate_line.basis == RateBasis.VALUE_PERCENT:
        amount = amount / HUNDRED
    return PriceLine(
        code=rate_line.code,
        description=rate_line.description,
        basis=rate_line.basis,
        quantity=quantity,
        rate=rate_line.amount,
        amount=cents(amount),
    )


def price_offering(*, offering: ServiceOffering, cargo: CargoSpec, on: dt.date | None = None) -> Price | None:
    """The all-in indicative price of `offering` for `cargo`, itemised: base lines summed and lifted to the
    minimum charge (a line "MIN" makes up the difference), then each surcharge. None when the rate card
    cannot price this cargo (e.g. only per-container rates and no containers asked for)."""
    # .all() uses the rate lines prefetched by matching when there are some
    return price_rate_card(
        rate_lines=offering.rate_lines.all(), currency=offering.currency_id, cargo=cargo, on=on
    )


def price_rate_card(
    *, rate_lines: Iterable[RateLine], currency: str, cargo: CargoSpec, on: dt.date | None = None
) -> Price | None:
    """price_offering for rate lines that need not be saved (the "price a sample cargo" preview)."""
    rate_lines = list(rate_lines)
    value: Decimal | None = None
    value_rate: Decimal | None = None
    value_rate_date: dt.date | None = None
    if any(rl.basis == RateBasis.VALUE_PERCENT for rl in rate_lines) and cargo.goods_value > 0:
        value, value_rate, value_rate_date = _goods_value_in(currency, cargo, on)

    minimum: Decimal | None = None
    base: list[PriceLine] = []
    surcharges: list[PriceLine] = []
    has_base_rates = False
    try:
        for rate_line in rate_lines:
            if rate_line.basis == RateBasis.MINIMUM:
                minimum = max(minimum or ZERO, cents(rate_line.amount))
                continue
            if not rate_line.is_surcharge:
                has_base_rates = True
            if rate_line.basis == RateBasis.VALUE_PERCENT and value is None:
                if rate_line.is_surcharge:
                    continue
                return None  # a value-based premium with no value (or no rate to convert it)
            quantity = _quantity(rate_line.basis, cargo, value)
            if quantity <= 0:
                continue
            (surcharges if rate_line.is_surcharge else base).append(_line(rate_line, quantity))
    except _CannotPrice:
        return None
    if has_base_rates and not base:
        return None  # none of the card's rates applies to this cargo
    if not has_base_rates and minimum is None:
        return None  # an empty card, or only surcharges
    subtotal = sum((line.amount for line in base), ZERO)
    if minimum is not None and subtotal < minimum:
        base.append(
            PriceLine(
                code="MIN",
                description=gettext("Minimum charge"),
                basis=RateBasis.MINIMUM,
                quantity=Decimal(1),
                rate=minimum,
                amount=minimum - subtotal,
            )
        )
    lines = tuple(base + surcharges)
    return Price(
        currency=currency,
        lines=lines,
        total=sum((line.amount for line in lines), ZERO),
        value_rate=value_rate,
        value_rate_date=value_rate_date,
    )


def _goods_value_in(
    currency: str, cargo: CargoSpec, on: dt.date | None
) -> tuple[Decimal | None, Decimal | None, dt.date | None]:
    """The goods' value in `currency` with the rate and its date (None, None, None: no rate known)."""
    source = (cargo.value_currency or currency).upper()
    if source == currency:
        return cargo.goods_value, None, None
    try:
        conversion = convert(cargo.goods_value, source, currency, on)
    except NoExchangeRate:
        return None, None, None
    return conversion.amount, conversion.rate, conversion.rate_date
