"""The trade data set as JSON: the whole DocumentData, for programs (a buyer's ERP, a bank, a forwarder).

Field names are DocumentData's own; decimals are strings (no binary rounding), dates and times ISO 8601.
The derived totals follow the goods lines. Signed with a detached JWS like every JSON document.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal

from ismit.documents.data import DocumentData, ItemView, PartyView, PlaceView
from ismit.documents.generators import register

SCHEMA = "urn:ismit:trade-dataset:1"
TOTALS = ("total_amount", "total_net_mass_kg", "total_gross_mass_kg", "total_packages")
PARTIES = ("issuer", "seller", "buyer", "consignee")
PLACES = ("incoterm_place", "place_of_loading", "place_of_discharge")


def _paths() -> tuple[str, ...]:
    """Every field path of DocumentData, in its order (see documents/data.py for the notation)."""
    party_fields = [f.name for f in fields(PartyView)]
    place_fields = [f.name for f in fields(PlaceView)]
    paths: list[str] = []
    for f in fields(DocumentData):
        if f.name in PARTIES:
            paths += [f"{f.name}.{p}" for p in party_fields]
        elif f.name in PLACES:
            paths += [f"{f.name}.{p}" for p in place_fields]
        elif f.name == "items":
            paths += [f"items[].{i.name}" for i in fields(ItemView)]
        else:
            paths.append(f.name)
    return (*paths, *TOTALS)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def dataset(data: DocumentData, *, language: str) -> dict:
    body = {"schema": SCHEMA, "language": language, **_plain(data)}
    for party in PARTIES:
        if body.get(party) is not None:
            body[party]["identifiers"] = body[party]["identifiers"] or {}
    body.update({name: _plain(getattr(data, name)) for name in TOTALS})
    return body


@dataclass(frozen=True)
class TradeDatasetGenerator:
    kind: str = "trade_dataset"
    format: str = "json"
    media_type: str = "application/json"
    is_declaration: bool = False
    reads: tuple[str, ...] = _paths()

    def render(self, data: DocumentData, *, language: str) -> bytes:
        text = json.dumps(dataset(data, language=language), ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")


register(TradeDatasetGenerator())
