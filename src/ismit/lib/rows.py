"""Many rows of one model inserted or updated in one statement.

`insert_rows`: `bulk_create` makes a model instance of every row and prepares its values field by field;
for the goods lines and the 23 checklist steps of a new trade that was most of the create's time.
`insert_rows` takes the values as they are stored (ids for foreign keys, stripped text, rounded decimals;
None for NULL), prepares only the columns whose type needs it (dates and times, decimals, JSON…), and
answers the new primary keys in the order of the rows. Nothing else of the model runs: no defaults, no
signals, no `save()`. On PostgreSQL several rows go as one array a column (UNNEST); one row, and every row
elsewhere, as VALUES. The SQL of each shape (model, columns, number of rows) is built once per process.

`update_rows`: `QuerySet.bulk_update` writes one `CASE WHEN pk = … THEN …` per row and field: for a hundred
rows Django spends more CPU building those expressions than PostgreSQL spends on the update. On PostgreSQL
it sends `UPDATE … FROM UNNEST(…)` instead (one array a column; one row as `FROM (VALUES …)`), each value
cast to its column's type without its size, so that a value too long fails rather than being cut;
elsewhere it falls back to `bulk_update`.

`deferred`: on PostgreSQL, the inserts and updates of a block are sent together at its end, as one
statement (a data-modifying WITH): one round trip and one statement for the whole write, in the caller's
transaction. A row inserted there gets its primary key from the ids the caller reserved (nextval, read
with something it reads anyway), so that what is written later in the block can refer to it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connections, models, router

# Types whose Python values the database drivers take as they are (text, integers, booleans).
PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _preparer(field: models.Field, connection) -> Any:
    """None for a column passed as it is, else the function that prepares its values."""
    target = field.target_field if field.is_relation else field
    if target.get_internal_type() in PLAIN_TYPES:
        return None
    return functools.partial(field.get_db_prep_save, connection=connection)


def _columns(rows: Sequence[Sequence[Any]], preparers: list) -> list[list[Any]]:
    """The values of `rows` column by column, prepared where their column needs it (None stays NULL)."""
    return [
        [value if prepare is None or value is None else prepare(value) for value in column]
        for column, prepare in zip(zip(*rows, strict=True), preparers, strict=True)
    ]


def _by_column(fields: list[models.Field], connection) -> bool:
    """Whether the rows go as one array a column (PostgreSQL's UNNEST, as bulk_create does there): one
    short statement for any number of rows, whose text the driver parses once."""
    return connection.vendor == "postgresql" and not any(
        (hasattr(field, "get_placeholder") and not _plain_placeholder(field, connection))
        or (field.target_field if field.is_relation else field).get_internal_type()
        not in connection.data_types
        for field in fields
    )


def _plain_placeholder(field: models.Field, connection) -> bool:
    """A binary column whose placeholder is a plain %s on this database (PostgreSQL's bytea): its values
    go in an array like any other's."""
    return isinstance(field, models.BinaryField) and connection.ops.binary_placeholder_sql(None) == "%s"


@functools.lru_cache(maxsize=256)
def _statement(
    model: type[models.Model], names: tuple[str, ...], count: int, alias: str, only_if: str = ""
) -> tuple:
    """(SQL, a preparer a column, whether parameters go by column) for `count` rows."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    # Types without their size: a longer value fails on the column rather than being cut by the cast.
    types = [f.db_type(connection).split("(")[0] for f in fields]
    # One row goes as one VALUES row: the driver dumps scalars in C, while an array a column is dumped
    # element type by element type in Python (most of a one-row write's time in the driver).
    by_column = count != 1 and _by_column(fields, connection)
    if by_column:
        # Arrays in the binary format (%b): psycopg's text format quotes every element through a regex.
        arrays = ", ".join(f"%b::{t}[]" for t in types)
        source = f"SELECT * FROM UNNEST({arrays}) AS v"  # noqa: S608 - types from the model
    elif only_if:  # selected from, the values take their types from the casts, not from the columns
        row = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
        source = f"SELECT * FROM (VALUES {', '.join([row] * count)}) AS v"  # noqa: S608 - types from the model
    else:
        row = f"({', '.join(['%s'] * len(fields))})"
        source = f"VALUES {', '.join([row] * count)}"
    if only_if:
        source += f" WHERE {only_if}"
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) {source} RETURNING {quote(model._meta.pk.column)}"
    return sql, [_preparer(f, connection) for f in fields], by_column


class _Deferred:
    def __init__(self, using: str, ids: dict[type[models.Model], list[Any]]):
        self.using = using
        self.ids = {model: list(keys) for model, keys in ids.items()}
        self.statements: list[tuple[str, list[Any]]] = []


_deferred = threading.local()


def _deferring(alias: str) -> _Deferred | None:
    pending = getattr(_deferred, "pending", None)
    return pending if pending is not None and pending.using == alias else None


@contextmanager
def deferred(
    ids: dict[type[models.Model], Sequence[Any]] | None = None, using: str = "default"
) -> Iterator[None]:
    """Inside a transaction on PostgreSQL: insert_objects() and update_rows() of the block are written in
    one statement when it ends (nothing is written if it raises). insert_objects() gives each new row the
    next of `ids[model]` as its primary key (a model without reserved ids gets none: its rows' keys are
    not known). Elsewhere, or nested, the writes go at once as usual."""
    connection = connections[using]
    if connection.vendor != "postgresql" or getattr(_deferred, "pending", None) is not None:
        yield
        return
    pending = _deferred.pending = _Deferred(using, ids or {})
    try:
        yield
    finally:
        _deferred.pending = None
    _flush(connection, pending.statements)


def _flush(connection, statements: list[tuple[str, list[Any]]]) -> None:
    if statements:
        with connection.cursor() as cursor:
            cursor.execute(*one_statement(*statements))


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]], using: str = "default"
) -> list[Any]:
    """Insert `rows` (values in the order of the attribute names `names`); answers their primary keys."""
    connection = connections[using]
    names = tuple(names)
    size = max(connection.ops.bulk_batch_size([model._meta.get_field(n) for n in names], rows), 1)
    keys: list[Any] = []
    for start in range(0, len(rows), size):
        sql, params = insert_statement(model, names, rows[start : start + size], using)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            keys.extend(key for (key,) in cursor.fetchall())
    return keys


def insert_statement(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    using: str = "default",
    *,
    only_if: str = "",
) -> tuple[str, list[Any]]:
    """(SQL, parameters) of the INSERT insert_rows sends for these rows (one statement, RETURNING the
    primary keys in the order of the rows), for a caller that sends it within a statement of its own (a
    data-modifying WITH query on PostgreSQL). `only_if`: an SQL condition that decides whether the rows are
    written, e.g. "EXISTS (SELECT 1 FROM noted)" (PostgreSQL)."""
    sql, preparers, by_column = _statement(model, tuple(names), len(rows), using, only_if)
    columns = _columns(rows, preparers)
    return sql, columns if by_column else [value for row in zip(*columns, strict=True) for value in row]


def insert_objects(objs: Sequence[models.Model]) -> None:
    """Insert new instances of one model in one statement (insert_rows), as bulk_create writes them: each
    field's value as its pre_save gives it (auto_now_add, files), then each instance's primary key set.
    Like bulk_create, no save() and no signals; unlike it, no query is built."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    alias = router.db_for_write(model)
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    rows = [[field.pre_save(obj, True) for field in fields] for obj in objs]
    pending = _deferring(alias)
    if pending is not None:
        _defer_insert(pending, model, fields, rows, objs)
        return
    keys = insert_rows(model, [f.attname for f in fields], rows, using=alias)
    for obj, key in zip(objs, keys, strict=True):
        if meta.auto_field is not None:
            setattr(obj, meta.auto_field.attname, key)
        obj._state.adding = False
        obj._state.db = alias


def _defer_insert(pending: _Deferred, model, fields: list, rows: list[list[Any]], objs: Sequence) -> None:
    meta = model._meta
    names = tuple(f.attname for f in fields)
    reserved = pending.ids.get(model)
    if reserved is not None and meta.auto_field is not None:
        if len(reserved) < len(objs):
            raise ValueError(f"{meta.label}: {len(objs)} rows deferred, {len(reserved)} ids reserved")
        keys, pending.ids[model] = reserved[: len(objs)], reserved[len(objs) :]
        names = (meta.auto_field.attname, *names)
        rows = [[key, *row] for key, row in zip(keys, rows, strict=True)]
        for obj, key in zip(objs, keys, strict=True):
            setattr(obj, meta.auto_field.attname, key)
    pending.statements.append(insert_statement(model, names, rows, pending.using))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = pending.using


def update_rows(model: type[models.Model], objs: Iterable[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of these saved instances of `model`; returns how many were given."""
    objs = list(objs)
    if not objs:
        return 0
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model.objects.using(alias).bulk_update(objs, fields)
        return len(objs)
    statement = update_statement(model, objs, fields, alias)
    pending = _deferring(alias)
    if pending is not None:
        pending.statements.append(statement)
        return len(objs)
    with connection.cursor() as cursor:
        cursor.execute(*statement)
    return len(objs)


def update_statement(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], using: str = "default"
) -> tuple[str, list[Any]]:
    """(SQL, parameters) of the UPDATE update_rows sends on PostgreSQL, for a caller's own statement."""
    connection = connections[using]
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    if len(objs) > 1 and _by_column(columns, connection):
        # One array a column: the statement's text is the same for any number of rows (and a value too long
        # for its column fails on it rather than being cut by a cast to the column's size). Binary (%b), as
        # in _statement.
        arrays = ", ".join(f"%b::{c.db_type(connection).split('(')[0]}[]" for c in columns)
        params = [[c.get_db_prep_save(getattr(obj, c.attname), connection) for obj in objs] for c in columns]
        sql = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from the model, values bound
            f"FROM UNNEST({arrays}) AS v ({names}) "
            f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
        )
        return sql, params
    # Types without their size here too: a cast to varchar(n) would cut a longer value without a word.
    row = "(" + ", ".join(f"%s::{column.db_type(connection).split('(')[0]}" for column in columns) + ")"
    params = [
        column.get_db_prep_save(getattr(obj, column.attname), connection)
        for obj in objs
        for column in columns
    ]
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from the model, values bound
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({names}) "
        f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    return sql, params


def one_statement(*writes: tuple[str, list[Any]] | None) -> tuple[str, list[Any]]:
    """Writes whose results the caller does not read (statements as the functions above make them; None:
    nothing to write) as one statement, on PostgreSQL: each but the last a data-modifying WITH query. They
    run on one snapshot and none sees another's rows: each must write rows of its own (no row written
    twice), as writes of different tables do."""
    parts = [w for w in writes if w is not None]
    if not parts:
        raise ValueError("nothing to write")
    *first, (last_sql, last_params) = parts
    if not first:
        return last_sql, last_params
    queries = ", ".join(f"write{n} AS ({sql})" for n, (sql, _) in enumerate(first))
    return f"WITH {queries} {last_sql}", [p for _, params in first for p in params] + list(last_params)
