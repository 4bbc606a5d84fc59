"""Several code lists checked in one round trip to the database.

A trade names codes from eight lists; looking each list up separately costs eight round trips on every
write. `resolve(...)` asks for all of them with one UNION ALL query and returns model instances that
carry the fields validation and the checklist read (other fields load on access, as deferred fields).

Code lists change only when an operator loads a release (`ismit refdata load`): each process keeps the
codes it found for `CODE_LIST_CACHE_S` seconds (`ISMIT_CODE_LIST_CACHE_S`, 0 turns it off) and asks only
for the others. A code not found is asked again every time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.db import connection, models

from ismit.refdata.models import (
    Country,
    Currency,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    TransportMode,
    UnitOfMeasure,
)

# The fields read for each list (the primary key first). Booleans travel as "1"/"0" text.
FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Country: ("code", "name", "name_fr"),
    HSCode: ("code", "description"),  # the names: what documents write beside the codes
    UnitOfMeasure: ("code", "name"),
    PackageType: ("code", "name"),
    Location: ("code", "country", "name", "functions"),
    Currency: ("code",),
    Incoterm: (
        "code",
        "name",
        "any_mode",
        "export_clearance",
        "main_carriage",
        "insurance",
        "import_clearance",
    ),
    TransportMode: ("code", "name", "locode_function"),
}
WIDTH = max(len(f) for f in FIELDS.values())


@functools.cache
def _names(model: type[models.Model]) -> tuple[str, ...]:
    """FIELDS[model] in the model's field order, as Model.from_db expects them."""
    wanted = set(FIELDS[model])
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


@functools.cache
def _booleans(model: type[models.Model]) -> tuple[bool, ...]:
    """For each of _names(model), whether it is a boolean (read back from "1"/"0")."""
    return tuple(isinstance(model._meta.get_field(n), models.BooleanField) for n in _names(model))


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    column = connection.ops.quote_name(field.column)
    if isinstance(field, models.BooleanField):
        return f"CASE WHEN {column} THEN '1' ELSE '0' END"
    return f"CAST({column} AS TEXT)"


def getattr_pk(model: type[models.Model], names: Sequence[str], values: list) -> str:
    return values[names.index(model._meta.pk.attname)]


# (model, code) -> (monotonic time until which it holds, instance); cleared when it grows past CACHE_LIMIT.
_CACHE: dict[tuple[type[models.Model], str], tuple[float, models.Model]] = {}
CACHE_LIMIT = 20_000


def clear_cache() -> None:
    _CACHE.clear()


def resolve(
    wanted: Mapping[type[models.Model], Iterable[str]],
) -> dict[type[models.Model], dict[str, models.Model]]:
    """{model: codes} -> {model: {code: instance}} for the codes that exist; one query at most."""
    found: dict[type[models.Model], dict[str, models.Model]] = {model: {} for model in wanted}
    ttl, now = settings.CODE_LIST_CACHE_S, time.monotonic()
    missing: dict[type[models.Model], set[str]] = {}
    for model, codes in wanted.items():
        for code in {c for c in codes if c}:
            kept = _CACHE.get((model, code)) if ttl else None
            if kept is not None and kept[0] > now:
                found[model][code] = kept[1]
            else:
                missing.setdefault(model, set()).add(code)
    if not missing:
        return found
    read = _read(missing)
    if ttl and len(_CACHE) > CACHE_LIMIT:
        _CACHE.clear()
    for model, instances in read.items():
        found[model].update(instances)
        if ttl:
            _CACHE.update({(model, code): (now + ttl, instance) for code, instance in instances.items()})
    return found


def _read(
    wanted: Mapping[type[models.Model], set[str]],
) -> dict[type[models.Model], dict[str, models.Model]]:
    parts, params, order = [], [], []
    for model, codes in wanted.items():
        codes = sorted(codes)
        names = _names(model)
        columns = [_column(model, n) for n in names] + ["NULL"] * (WIDTH - len(names))
        pk = connection.ops.quote_name(model._meta.pk.column)
        placeholders = ", ".join(["%s"] * len(codes))
        parts.append(
            f"SELECT {len(order)}, {', '.join(columns)} "  # noqa: S608 - names from models, values bound
            f"FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {pk} IN ({placeholders})"
        )
        params.extend(codes)
        order.append(model)
    found: dict[type[models.Model], dict[str, models.Model]] = {model: {} for model in wanted}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    for index, *values in rows:
        model = order[index]
        names = _names(model)
        values = [(v == "1") if b else v for b, v in zip(_booleans(model), values[: len(names)], strict=True)]
        found[model][getattr_pk(model, names, values)] = model.from_db(connection.alias, list(names), values)
    return found
