"""Need-to-know sharing: which of the trade's data a provider under contract receives, by service.

The trade's data are cut into field groups; each service names the groups it needs (`SERVICE_SCOPES`) and
a contract stores them (`Contract.data_scope`) when it is made. `shared_view(contract)` projects the trade
onto those groups only: the provider's page and `GET /marketplace/contracts/{id}/shared-data` show that
projection and nothing else of the trade (no id, no reference, no other party, no document).

A group names the keys it contributes at the top level and in each goods line. The projection builds
the keys of the contract's groups and no others, so a key outside the scope is never computed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import Contract, ServiceType
from ismit.trades.models import GoodsItem, Party, Trade

PARTIES = "parties"
ROUTE = "route"
INCOTERM = "incoterm"
PACKAGES = "packages"
MASS = "mass"
VOLUME = "volume"
DATES = "dates"
DESCRIPTION = "description"
HS_CODES = "hs_codes"
ORIGIN = "origin"
VALUES = "values"
INVOICE = "invoice"
PAYMENT_TERMS = "payment_terms"

#: group -> (label, top-level keys, keys of each goods line)
FIELD_GROUPS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    PARTIES: (_("Shipper and consignee: names and addresses"), ("shipper", "consignee"), ()),
    ROUTE: (
        _("Route: countries, places of loading and discharge, transport mode"),
        ("origin_country", "destination_country", "place_of_loading", "place_of_discharge", "transport_mode"),
        (),
    ),
    INCOTERM: (_("Incoterms rule and named place"), ("incoterm", "incoterm_place"), ()),
    PACKAGES: (_("Packages"), ("packages",), ("packages_count", "package_type")),
    MASS: (_("Gross mass"), ("gross_mass_kg",), ("gross_mass_kg",)),
    VOLUME: (
        _("Volume, containers, dangerous goods, temperature"),
        ("volume_m3", "containers", "dangerous_goods", "temperature_control"),
        (),
    ),
    DATES: (_("Dates: ready and planned departure"), ("ready_date", "planned_departure"), ()),
    DESCRIPTION: (_("Goods description"), ("goods_description",), ("description",)),
    HS_CODES: (_("HS codes"), (), ("hs_code",)),
    ORIGIN: (_("Country of origin of the goods"), (), ("origin_country",)),
    VALUES: (
        _("Values: quantities, prices and total"),
        ("currency", "goods_value"),
        ("quantity", "unit", "net_mass_kg", "unit_price", "amount"),
    ),
    INVOICE: (_("Invoice number and date"), ("invoice_number", "invoice_date"), ()),
    PAYMENT_TERMS: (_("Payment terms"), ("payment_terms", "payment_days"), ()),
}

_CARRIAGE = (PARTIES, ROUTE, INCOTERM, PACKAGES, MASS, VOLUME, DATES, DESCRIPTION)

#: the field groups a contract for each service shares
SERVICE_SCOPES: dict[str, tuple[str, ...]] = {
    ServiceType.CARRIAGE: _CARRIAGE,
    ServiceType.CUSTOMS: (*_CARRIAGE, HS_CODES, ORIGIN, VALUES, INVOICE),
    ServiceType.INSURANCE: (DESCRIPTION, VALUES, ROUTE, DATES),
    ServiceType.WAREHOUSING: (PACKAGES, MASS, DATES, DESCRIPTION),
    ServiceType.FINANCE: (PARTIES, VALUES, PAYMENT_TERMS, DATES),
}


def scope_of(service_type: str) -> list[str]:
    return list(SERVICE_SCOPES[service_type])


def group_labels(groups: list[str]) -> list[tuple[str, str]]:
    return [(g, str(FIELD_GROUPS[g][0])) for g in groups if g in FIELD_GROUPS]


def allowed_keys(groups: list[str]) -> tuple[set[str], set[str]]:
    """The top-level keys and the goods-line keys that a projection onto `groups` may hold."""
    top: set[str] = set()
    line: set[str] = set()
    for group in groups:
        if group in FIELD_GROUPS:
            top.update(FIELD_GROUPS[group][1])
            line.update(FIELD_GROUPS[group][2])
    return top, line


# -- the values of each key ----------------------------------------------------------------------------


def _party(party: Party | None) -> dict[str, str] | None:
    if party is None:
        return None
    return {
        "name": party.name,
        "street": party.street,
        "city": party.city,
        "postcode": party.postcode,
        "country": party.country_id,
    }


def _place(location) -> dict[str, str]:
    return {"code": location.code, "name": location.name}


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _top_values(trade: Trade, items: list[GoodsItem], cargo: CargoSpec) -> dict[str, Callable[[], Any]]:
    return {
        "shipper": lambda: _party(trade.seller),
        "consignee": lambda: _party(trade.consignee or trade.buyer),
        "origin_country": lambda: trade.place_of_loading.country,
        "destination_country": lambda: trade.place_of_discharge.country,
        "place_of_loading": lambda: _place(trade.place_of_loading),
        "place_of_discharge": lambda: _place(trade.place_of_discharge),
        "transport_mode": lambda: trade.transport_mode_id,
        "incoterm": lambda: trade.incoterm_id,
        "incoterm_place": lambda: _place(trade.incoterm_place),
        "packages": lambda: sum(i.packages_count for i in items),
        "gross_mass_kg": lambda: str(sum((i.gross_mass_kg for i in items), Decimal(0))),
        "volume_m3": lambda: str(cargo.volume_m3),
        "containers": lambda: dict(cargo.containers),
        "dangerous_goods": lambda: cargo.dangerous_goods,
        "temperature_control": lambda: cargo.temperature_control,
        "ready_date": lambda: cargo.ready_date.isoformat() if cargo.ready_date else None,
        "planned_departure": lambda: trade.planned_departure.isoformat() if trade.planned_departure else None,
        "goods_description": lambda: cargo.description,
        "currency": lambda: trade.currency_id,
        "goods_value": lambda: _money(sum((i.line_amount for i in items), Decimal(0))),
        "invoice_number": lambda: trade.invoice_number,
        "invoice_date": lambda: trade.invoice_date.isoformat() if trade.invoice_date else None,
        "payment_terms": lambda: trade.payment_terms,
        "payment_days": lambda: trade.payment_days,
    }


def _line_values(item: GoodsItem) -> dict[str, Callable[[], Any]]:
    return {
        "packages_count": lambda: item.packages_count,
        "package_type": lambda: item.package_type_id,
        "gross_mass_kg": lambda: str(item.gross_mass_kg),
        "description": lambda: item.description,
        "hs_code": lambda: item.hs_code_id,
        "origin_country": lambda: item.origin_country_id,
        "quantity": lambda: str(item.quantity),
        "unit": lambda: item.unit_id,
        "net_mass_kg": lambda: str(item.net_mass_kg),
        "unit_price": lambda: str(item.unit_price),
        "amount": lambda: _money(item.line_amount),
    }


def project(trade: Trade, items: list[GoodsItem], cargo: CargoSpec, groups: list[str]) -> dict[str, Any]:
    """The trade's data of `groups` only: {key: value, …, "goods": [{"line_no": n, key: value, …}]}."""
    top_keys, line_keys = allowed_keys(groups)
    values = _top_values(trade, items, cargo)
    view: dict[str, Any] = {key: values[key]() for key in sorted(top_keys)}
    if line_keys:
        goods = []
        for item in items:
            line = _line_values(item)
            goods.append({"line_no": item.line_no, **{key: line[key]() for key in sorted(line_keys)}})
        view["goods"] = goods
    return view


def shared_view(contract: Contract) -> dict[str, Any]:
    """The projection of the contract's trade onto its data scope (read without any actor: callers have
    checked that the actor is a party to the contract)."""
    trade = Trade.objects.select_related(
        "seller",
        "buyer",
        "consignee",
        "place_of_loading",
        "place_of_discharge",
        "incoterm_place",
    ).get(pk=contract.trade_id)
    items = list(GoodsItem.objects.filter(trade_id=trade.pk).order_by("line_no"))
    cargo = CargoSpec.from_json(contract.rfq.cargo)
    return project(trade, items, cargo, list(contract.data_scope))
