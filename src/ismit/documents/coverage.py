"""The single entry ratio: how many data element occurrences a trade's documents carry, for each field the
MSME typed once.

Numerator: for every generator, every path it `reads`, counted once per goods line for `items[].…` paths,
and only where the trade has a value. Denominator: the fields of the trade form (data.TYPED_HEADER_FIELDS,
and data.TYPED_ITEM_FIELDS once per goods line) that hold a value. A ratio of 12 means each field typed once
reaches twelve places in the documents, none of them typed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ismit.documents.data import ITEM_FIELDS, TYPED_HEADER_FIELDS, TYPED_ITEM_FIELDS, DocumentData
from ismit.documents.generators import all_generators
from ismit.documents.generators.base import Generator
from ismit.documents.models import kind_label

ITEMS = "items[]."


def _present(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return len(value) > 0
    return True  # numbers (zero included), dates, parties and places


def _resolve(obj, dotted: str, path: str):
    value = obj
    for name in dotted.split("."):
        if value is None:
            return None
        if not hasattr(value, name):
            raise ValueError(f"{path!r} is not a DocumentData field path (see documents/data.py)")
        value = getattr(value, name)
    return value


def occurrences(data: DocumentData, path: str) -> int:
    """How many values `path` has in the trade: 0 or 1 for a header path, up to one per line for items."""
    if path.startswith(ITEMS):
        field = path[len(ITEMS) :]
        if field.split(".")[0] not in ITEM_FIELDS:
            raise ValueError(f"{path!r} is not a goods item field path (see documents/data.py)")
        return sum(1 for item in data.items if _present(_resolve(item, field, path)))
    return 1 if _present(_resolve(data, path, path)) else 0


@dataclass(frozen=True)
class CoverageRow:
    kind: str
    format: str
    fields: int  # paths the generator reads
    occurrences: int  # values of this trade it carries

    @property
    def label(self) -> str:
        return kind_label(self.kind)


@dataclass(frozen=True)
class CoverageReport:
    rows: tuple[CoverageRow, ...]
    typed: int  # values the MSME typed

    @property
    def carried(self) -> int:
        return sum(row.occurrences for row in self.rows)

    @property
    def ratio(self) -> float:
        return round(self.carried / self.typed, 2) if self.typed else 0.0


def typed_values(data: DocumentData) -> int:
    header = sum(occurrences(data, path) for path in TYPED_HEADER_FIELDS)
    return header + sum(occurrences(data, ITEMS + field) for field in TYPED_ITEM_FIELDS)


def coverage(data: DocumentData, generators: Iterable[Generator] | None = None) -> CoverageReport:
    rows = tuple(
        CoverageRow(
            kind=g.kind,
            format=g.format,
            fields=len(g.reads),
            occurrences=sum(occurrences(data, path) for path in g.reads),
        )
        for g in (all_generators() if generators is None else generators)
    )
    return CoverageReport(rows=rows, typed=typed_values(data))
