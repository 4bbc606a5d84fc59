"""Consolidation input: the consignments and load types of the optimiser's JSON input, read and checked.

Pure Python (no Django). `parse_problem` turns the input (format in docs/consolidation.md) into a
`Problem`; anything wrong raises `InputError`, whose message names the consignment (or load type) and
the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .loads import AIR, DEFAULT_LOAD_TYPES, DEFAULTS_BY_CODE, MODES, LoadType

DEFAULT_STOWAGE_FACTOR = 0.85
AIR_KG_PER_M3 = 167  # IATA volumetric ratio: 6,000 cm3 per kg

GENERAL, FOOD, CHEMICALS = "general", "food", "chemicals"
CATEGORIES = (GENERAL, FOOD, CHEMICALS)
DG_CLASSES = ("1", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5.1", "5.2", "6.1", "6.2", "7", "8", "9")
#: never in a load with food (IMDG 7.3.4.2: toxic, infectious, corrosive "away from foodstuffs")
DG_NOT_WITH_FOOD = frozenset({"6.1", "6.2", "8"})
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


class InputError(ValueError):
    """Bad optimiser input; the message names the consignment and the field."""


@dataclass(frozen=True)
class Package:
    count: int
    length_cm: float
    width_cm: float
    height_cm: float
    mass_kg: float  # each
    stackable: bool = True


@dataclass(frozen=True)
class Consignment:
    id: str
    owner: str
    origin: str
    destination: str
    mode: str
    ready_from: date
    ready_to: date
    packages: tuple[Package, ...]
    dangerous_goods: str | None = None
    category: str = GENERAL
    temperature: tuple[float, float] | None = None  # (min °C, max °C) when temperature-controlled

    @property
    def mass_kg(self) -> float:
        return sum(p.count * p.mass_kg for p in self.packages)

    @property
    def volume_m3(self) -> float:
        return sum(p.count * p.length_cm * p.width_cm * p.height_cm for p in self.packages) / 1e6

    @property
    def stackable_volume_m3(self) -> float:
        return (
            sum(p.count * p.length_cm * p.width_cm * p.height_cm for p in self.packages if p.stackable) / 1e6
        )

    @property
    def floor_m2(self) -> float:
        """Floor taken by non-stackable packages (nothing stands on them)."""
        return sum(p.count * p.length_cm * p.width_cm for p in self.packages if not p.stackable) / 1e4

    @property
    def package_count(self) -> int:
        return sum(p.count for p in self.packages)

    def chargeable(self) -> float:
        """Sea: revenue tonnes, max(tonnes, m3). Air: chargeable kilograms, max(kg, m3 x 167)."""
        if self.mode == AIR:
            return max(self.mass_kg, self.volume_m3 * AIR_KG_PER_M3)
        return max(self.mass_kg / 1000, self.volume_m3)


@dataclass(frozen=True)
class Problem:
    consignments: tuple[Consignment, ...]
    load_types: tuple[LoadType, ...] = DEFAULT_LOAD_TYPES
    stowage_factor: float = DEFAULT_STOWAGE_FACTOR
    currency: str = "USD"
    seed: int = 0


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _positive(where: str, name: str, value: Any) -> float:
    number = _num(value)
    if number is None or number <= 0:
        raise InputError(f"{where}: {name} must be a positive number")
    return number


def _date(where: str, name: str, value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a date (YYYY-MM-DD)")


def parse_package(where: str, i: int, raw: Any) -> Package:
    name = f"packages[{i}]"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: {name} must be an object")
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"{where}: {name}.count must be a positive integer")
    dims = [_positive(where, f"{name}.{key}", raw.get(key)) for key in ("length_cm", "width_cm", "height_cm")]
    mass = _positive(where, f"{name}.mass_kg", raw.get("mass_kg"))
    stackable = raw.get("stackable", True)
    if not isinstance(stackable, bool):
        raise InputError(f"{where}: {name}.stackable must be true or false")
    return Package(count, *dims, mass, stackable)


def parse_consignment(i: int, raw: Any) -> Consignment:
    where = f"consignments[{i}]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be an object")
    cid = raw.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise InputError(f"{where}: id must be a non-empty string")
    where = f'consignment "{cid}"'
    owner = raw.get("owner", "")
    if not isinstance(owner, str):
        raise InputError(f"{where}: owner must be a string")
    places = {}
    for key in ("origin", "destination"):
        value = raw.get(key)
        if not isinstance(value, str) or not _LOCODE.match(value.replace(" ", "").upper()):
            raise InputError(f"{where}: {key} must be a UN/LOCODE (e.g. NLRTM)")
        places[key] = value.replace(" ", "").upper()
    mode = raw.get("mode")
    if mode not in MODES:
        raise InputError(f"{where}: mode must be one of {', '.join(MODES)}")
    ready_from = _date(where, "ready_from", raw.get("ready_from"))
    ready_to = _date(where, "ready_to", raw.get("ready_to"))
    if ready_to < ready_from:
        raise InputError(f"{where}: ready_to must not be before ready_from")
    dg = raw.get("dangerous_goods")
    if dg is not None:
        dg = str(dg).strip()
        if re.fullmatch(r"1(\.[1-6])?[A-S]?", dg):
            dg = "1"  # every division of class 1 is handled alike
        if dg not in DG_CLASSES:
            raise InputError(f"{where}: dangerous_goods must be a UN class ({', '.join(DG_CLASSES)}) or null")
    category = raw.get("category", GENERAL)
    if category not in CATEGORIES:
        raise InputError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
    if category == FOOD and dg in DG_NOT_WITH_FOOD:
        raise InputError(f"{where}: category food cannot carry dangerous goods of class {dg}")
    temperature = raw.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, dict):
            raise InputError(f"{where}: temperature must be an object with min_c and max_c, or null")
        low, high = _num(temperature.get("min_c")), _num(temperature.get("max_c"))
        if low is None or high is None or low > high:
            raise InputError(f"{where}: temperature.min_c and max_c must be numbers with min_c <= max_c")
        temperature = (low, high)
    packages = raw.get("packages")
    if not isinstance(packages, list) or not packages:
        raise InputError(f"{where}: packages must be a non-empty list")
    return Consignment(
        id=cid,
        owner=owner,
        origin=places["origin"],
        destination=places["destination"],
        mode=mode,
        ready_from=ready_from,
        ready_to=ready_to,
        packages=tuple(parse_package(where, j, p) for j, p in enumerate(packages)),
        dangerous_goods=dg,
        category=category,
        temperature=temperature,
    )


def _price(where: str, value: Any) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InputError(f"{where}: price must be a non-negative amount")
    if not price.is_finite() or price < 0:
        raise InputError(f"{where}: price must be a non-negative amount")
    return price


def parse_load_type(i: int, raw: Any) -> LoadType:
    where = f"load_types[{i}]"
    if isinstance(raw, str):
        if raw not in DEFAULTS_BY_CODE:
            raise InputError(f"{where}: unknown load type {raw!r} (defaults: {', '.join(DEFAULTS_BY_CODE)})")
        return DEFAULTS_BY_CODE[raw]
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
        raise InputError(f"{where}: a load type is a default's code or an object with a code")
    where = f'load type "{raw["code"]}"'
    base = DEFAULTS_BY_CODE.get(raw["code"])
    values: dict[str, Any] = {}
    for key in ("length_cm", "width_cm", "height_cm", "door_width_cm", "door_height_cm", "payload_kg"):
        if key in raw or base is None:
            values[key] = _positive(where, key, raw.get(key))
    if "volume_m3" in raw:
        values["volume_m3"] = _positive(where, "volume_m3", raw["volume_m3"])
    elif base is None or any(k in values for k in ("length_cm", "width_cm", "height_cm")):
        values["volume_m3"] = 0.0  # recomputed from the dimensions
    if "price" in raw or base is None:
        values["price"] = _price(where, raw.get("price"))
    if "mode" in raw or base is None:
        if raw.get("mode") not in MODES:
            raise InputError(f"{where}: mode must be one of {', '.join(MODES)}")
        values["mode"] = raw["mode"]
    if "temperature_control" in raw:
        if not isinstance(raw["temperature_control"], bool):
            raise InputError(f"{where}: temperature_control must be true or false")
        values["temperature_control"] = raw["temperature_control"]
    values["name"] = str(raw.get("name") or (base.name if base else raw["code"]))
    if base is not None:
        return replace(base, **values)
    return LoadType(code=raw["code"], **values)


def parse_problem(data: Any) -> Problem:
    """The optimiser's input (docs/consolidation.md) as a Problem; InputError names what is wrong."""
    if not isinstance(data, dict):
        raise InputError("the input must be a JSON object with a consignments list")
    raw_consignments = data.get("consignments")
    if not isinstance(raw_consignments, list):
        raise InputError("consignments must be a list")
    consignments = tuple(parse_consignment(i, raw) for i, raw in enumerate(raw_consignments))
    seen: set[str] = set()
    for c in consignments:
        if c.id in seen:
            raise InputError(f'consignment "{c.id}": id is used by another consignment')
        seen.add(c.id)
    stowage = data.get("stowage_factor", DEFAULT_STOWAGE_FACTOR)
    if _num(stowage) is None or not 0 < stowage <= 1:
        raise InputError("stowage_factor must be a number above 0 and at most 1")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError("seed must be an integer")
    currency = data.get("currency", "USD")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise InputError("currency must be an ISO 4217 code (e.g. USD)")
    load_types = DEFAULT_LOAD_TYPES
    if data.get("load_types") is not None:
        if not isinstance(data["load_types"], list) or not data["load_types"]:
            raise InputError("load_types must be a non-empty list (or left out for the defaults)")
        load_types = tuple(parse_load_type(i, raw) for i, raw in enumerate(data["load_types"]))
        codes = [t.code for t in load_types]
        if len(set(codes)) != len(codes):
            raise InputError("load_types: every code must be unique")
    return Problem(consignments, load_types, float(stowage), currency, seed)
