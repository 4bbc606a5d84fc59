"""Querysets of a fixed shape compiled to SQL once per process, then run with new values.

Building and compiling a queryset costs more CPU than PostgreSQL spends answering a small indexed read:
on the API's hottest reads (a trade with its goods and steps, the bearer token) the ORM's query
construction was most of the request. A `Prepared` query is written as an ordinary queryset — scoped
with `visible_to` like every other read, so who sees what is still decided in one place — built once
with placeholder values; the SQL it compiles to is kept, and later calls substitute their values into
the parameter list. Only the values change, never the SQL, so a shape whose SQL would depend on a value
(a list whose length varies, a branch on None) is refused when it is prepared.

The cache is a per-process memo of compiled SQL (per database alias): nothing another process needs.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Placeholder integers: far outside any id a table will hold, distinct per argument.
_BASE = -7_385_113_000_000


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class Prepared:
    """`Prepared(build, "user_id", "trade_id")` where `build(user_id=…, trade_id=…)` returns a queryset
    (use values_list: rows come back as tuples); `rows(user_id=3, trade_id=9)` runs it. Arguments are
    integers (ids), except those named in `text`, which are strings."""

    def __init__(self, build: Callable[..., QuerySet], *arguments: str, text: tuple[str, ...] = ()):
        self.build = build
        self.arguments = (*arguments, *text)
        self.text = text
        self._compiled: dict[str, tuple[str, tuple[Any, ...], list]] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple[str, tuple[Any, ...], list]:
        placeholders = {
            name: f"\x00{name}\x00" if name in self.text else _BASE - n
            for n, name in enumerate(self.arguments)
        }
        queryset = self.build(**placeholders)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        # What the ORM would do to each value read (JSON decoding, SQLite's dates and decimals …).
        converters = [
            (i, fns, expr)
            for i, (fns, expr) in compiler.get_converters([c[0] for c in compiler.select]).items()
        ]
        by_value = {value: name for name, value in placeholders.items()}
        template = tuple(_Slot(by_value[p]) if type(p) in (int, str) and p in by_value else p for p in params)
        used = {slot.name for slot in template if isinstance(slot, _Slot)}
        if used != set(self.arguments):
            missing = ", ".join(sorted(set(self.arguments) - used))
            raise ValueError(
                f"prepared query: no parameter carries {missing} (the SQL depends on its value?)"
            )
        return sql, template, converters

    def sql(self, alias: str = "default") -> tuple[str, tuple[Any, ...], list]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        return compiled

    def statement(self, *, using: str = "default", **values: int) -> tuple[str, list]:
        """(SQL, parameters) of the query with these values, for a caller that sends it within a statement
        of its own (the values it reads are not converted)."""
        sql, template, _ = self.sql(using)
        return sql, [values[p.name] if isinstance(p, _Slot) else p for p in template]

    def rows(self, *, using: str = "default", **values: int) -> list[tuple]:
        sql, template, converters = self.sql(using)
        params = [values[p.name] if isinstance(p, _Slot) else p for p in template]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for i, fns, expr in converters:
                value = row[i]
                for fn in fns:
                    value = fn(value, expr, connection)
                row[i] = value
            converted.append(tuple(row))
        return converted


def instance(model: type, attnames: Sequence[str], row: Sequence[Any], using: str = "default"):
    """A model instance from a row of `attnames` values, as the ORM makes it (Model.from_db)."""
    return model.from_db(using, list(attnames), list(row))


def row_converters(
    model: type, attnames: Sequence[str], using: str = "default"
) -> list[tuple[int, list, Any]]:
    """(index, functions, expression) of the columns of `attnames` whose values the ORM converts when it
    reads them (JSON decoding, SQLite's dates and decimals …): for rows read with a cursor, see converted."""
    connection = connections[using]
    found = []
    for index, name in enumerate(attnames):
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            found.append((index, functions, column))
    return found


def converted(row: Sequence[Any], converters: list[tuple[int, list, Any]], using: str = "default") -> list:
    """The values of a row read with a cursor as the ORM would give them (row_converters)."""
    row = list(row)
    connection = connections[using]
    for index, functions, expression in converters:
        value = row[index]
        for function in functions:
            value = function(value, expression, connection)
        row[index] = value
    return row


def concrete_attnames(model: type) -> tuple[str, ...]:
    """The attribute names of a model's concrete fields, in their declaration order."""
    return tuple(f.attname for f in model._meta.concrete_fields)


def prefixed(prefix: str, names: Sequence[str]) -> list[str]:
    """Lookup paths of a related model's fields (`seller__name`…) from its attnames (`name`, `country_id`)."""
    return [f"{prefix}__{name}" for name in names]


def split(row: Sequence[Any], *sizes: int) -> list[Sequence[Any]]:
    """Cut a row into consecutive pieces of the given sizes."""
    bounds = list(itertools.accumulate(sizes, initial=0))
    return [row[a:b] for a, b in itertools.pairwise(bounds)]
