"""Many rows of one model updated in one statement.

`QuerySet.bulk_update` writes one `CASE WHEN pk = … THEN …` per row and field: for a hundred rows Django
spends more CPU building those expressions than PostgreSQL spends on the update. On PostgreSQL,
`update_rows` sends `UPDATE … FROM (VALUES …)` instead, each value cast to its column's type; elsewhere it
falls back to `bulk_update`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections, models, router


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
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    params = [
        column.get_db_prep_save(getattr(obj, column.attname), connection)
        for obj in objs
        for column in columns
    ]
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from the model, values bound
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({names}) "
        f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return len(objs)
