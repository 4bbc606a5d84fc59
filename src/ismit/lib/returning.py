"""Model instances from the rows a write returns (`UPDATE … RETURNING`): one statement changes a row and
reads it, where the ORM sends an UPDATE and then a SELECT, each built and compiled anew.

    MESSAGE = Returning(OutboxMessage)
    sql = f"UPDATE … WHERE … RETURNING {MESSAGE.columns()}"
    message = MESSAGE.instance(cursor.fetchone())

`columns()` lists the model's concrete columns, table-qualified; `instance()` makes a row of them the model
instance the ORM would make, the database's and the fields' converters applied (JSON decoded, SQLite's
dates parsed). Where RETURNING is not supported (`supported()`), the caller reads the row as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models


def supported(using: str = "default") -> bool:
    """Whether the database returns the rows an UPDATE changes: PostgreSQL, SQLite from 3.35."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        return bool(connection.features.can_return_columns_from_insert)  # the same version
    return connection.vendor == "postgresql"


class Returning:
    def __init__(self, model: type[models.Model]):
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self._columns: dict[str, str] = {}
        self._converters: dict[str, list] = {}

    def columns(self, using: str = "default") -> str:
        columns = self._columns.get(using)
        if columns is None:
            quote = connections[using].ops.quote_name
            table = quote(self.model._meta.db_table)
            columns = self._columns[using] = ", ".join(f"{table}.{quote(f.column)}" for f in self.fields)
        return columns

    def _converters_for(self, using: str) -> list:
        converters = self._converters.get(using)
        if converters is None:
            connection = connections[using]
            converters = []
            for i, field in enumerate(self.fields):
                col = field.get_col(self.model._meta.db_table)
                fns = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if fns:
                    converters.append((i, fns, col))
            self._converters[using] = converters
        return converters

    def instance(self, row: Sequence[Any], using: str = "default") -> models.Model:
        values = list(row)
        connection = connections[using]
        for i, fns, col in self._converters_for(using):
            value = values[i]
            for fn in fns:
                value = fn(value, col, connection)
            values[i] = value
        return self.model.from_db(using, self.attnames, values)
