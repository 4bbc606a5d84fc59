"""What a provider needs to know to match and price a request: the cargo summary of an RFQ.

It is all an invited provider sees of the MSME's trade before a contract: no parties, no prices of the
goods' lines, no documents. Stored as JSON on the RFQ (`Rfq.cargo`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any


@dataclasses.dataclass(frozen=True)
class CargoSpec:
    origin_country: str  # ISO 3166 alpha-2
    destination_country: str
    origin_location: str = ""  # UN/LOCODE without the space ("CIABJ"), or empty
    destination_location: str = ""
    mode: str = ""  # Rec 19 code ("1" sea, "4" air …), or empty: any
    gross_mass_kg: Decimal = Decimal(0)
    volume_m3: Decimal = Decimal(0)
    packages: int = 0
    # {"20": n, "40": n, "40HC": n}: containers for full-container-load requests, empty otherwise
    containers: dict[str, int] = dataclasses.field(default_factory=dict)
    dangerous_goods: bool = False
    temperature_control: bool = False
    goods_value: Decimal = Decimal(0)  # for insurance and finance, in value_currency
    value_currency: str = ""
    incoterm: str = ""
    ready_date: dt.date | None = None
    description: str = ""  # a short description of the goods (e.g. "cashew kernels, HS 0801.32")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("gross_mass_kg", "volume_m3", "goods_value"):
            data[key] = str(data[key])
        data["ready_date"] = self.ready_date.isoformat() if self.ready_date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CargoSpec:
        values = dict(data)
        for key in ("gross_mass_kg", "volume_m3", "goods_value"):
            values[key] = Decimal(str(values.get(key) or 0))
        ready = values.get("ready_date")
        values["ready_date"] = dt.date.fromisoformat(ready) if ready else None
        values["containers"] = {str(k): int(v) for k, v in (values.get("containers") or {}).items()}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})
