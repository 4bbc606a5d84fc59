"""Bulk entry of trades from the trader's own spreadsheet (CSV or XLSX), through a saved column mapping.

One row per goods line; rows with the same trade reference (or, without one, the same invoice number)
form one trade. Header fields (parties, terms, places, dates) are repeated on each row of a trade and
must agree; a blank header cell on a later row takes the trade's value. Every trade is checked by
`services.validate_trade_data`; its field paths are translated back to the file's rows and column
headers. A file with any error saves nothing; a clean file creates all its trades in one transaction.

The uploaded file is read in memory and never trusted: formulas are not evaluated (an XLSX cell gives
its cached value, a CSV cell is text), sizes and row counts are capped by settings. Between the upload
step and the mapping step of the pages, the file waits in the default storage under
"imports/<organisation id>/<random token>.upload", so any web process can serve the next step.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import record_event
from ismit.lib.errors import FieldErrors, error_dict
from ismit.lib.scoping import CHANGE, VIEW
from ismit.trades.models import ColumnMapping, Direction, PaymentTerms, Trade
from ismit.trades.services import (
    GoodsItemData,
    PartyData,
    TradeData,
    create_trade,
    validate_trade_data,
)

OPTIONS = "_options"
MAX_COLUMNS = 200
PREVIEW_ROWS = 5
#: An XLSX is a zip: refuse one that claims to inflate beyond this multiple of the upload limit.
MAX_XLSX_INFLATION = 40

# -- our fields -------------------------------------------------------------------------------------

TEXT, CODE, DATE, DECIMAL, INTEGER, CHOICE = "text", "code", "date", "decimal", "integer", "choice"


@dataclass(frozen=True)
class FieldSpec:
    name: str  # TradeData / GoodsItemData field name; parties as "buyer.name"
    label: Any  # lazy translation
    kind: str = TEXT
    item: bool = False  # a goods-line field (else a trade header field)
    required: bool = False  # must be mapped to a column
    max_length: int | None = None
    max_value: int | None = None  # for numbers: the largest integer part the database holds


def _party_fields(prefix: str, title: Any) -> list[FieldSpec]:
    return [
        FieldSpec(f"{prefix}.name", title["name"], max_length=200),
        FieldSpec(f"{prefix}.country", title["country"], CODE, max_length=2),
        FieldSpec(f"{prefix}.street", title["street"], max_length=200),
        FieldSpec(f"{prefix}.city", title["city"], max_length=100),
        FieldSpec(f"{prefix}.postcode", title["postcode"], max_length=20),
        FieldSpec(f"{prefix}.email", title["email"], max_length=254),
    ]


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("reference", gettext_lazy("Trade reference"), max_length=40),
    FieldSpec("direction", gettext_lazy("Direction (export or import)"), CHOICE),
    *_party_fields(
        "seller",
        {
            "name": gettext_lazy("Seller name"),
            "country": gettext_lazy("Seller country"),
            "street": gettext_lazy("Seller street address"),
            "city": gettext_lazy("Seller city"),
            "postcode": gettext_lazy("Seller postcode"),
            "email": gettext_lazy("Seller e-mail"),
        },
    ),
    *_party_fields(
        "buyer",
        {
            "name": gettext_lazy("Buyer name"),
            "country": gettext_lazy("Buyer country"),
            "street": gettext_lazy("Buyer street address"),
            "city": gettext_lazy("Buyer city"),
            "postcode": gettext_lazy("Buyer postcode"),
            "email": gettext_lazy("Buyer e-mail"),
        },
    ),
    *_party_fields(
        "consignee",
        {
            "name": gettext_lazy("Consignee name"),
            "country": gettext_lazy("Consignee country"),
            "street": gettext_lazy("Consignee street address"),
            "city": gettext_lazy("Consignee city"),
            "postcode": gettext_lazy("Consignee postcode"),
            "email": gettext_lazy("Consignee e-mail"),
        },
    ),
    FieldSpec("invoice_number", gettext_lazy("Invoice number"), max_length=40),
    FieldSpec("invoice_date", gettext_lazy("Invoice date"), DATE),
    FieldSpec("currency", gettext_lazy("Currency"), CODE, required=True),
    FieldSpec("incoterm", gettext_lazy("Incoterms rule"), CODE, required=True),
    FieldSpec("incoterm_place", gettext_lazy("Incoterms named place (UN/LOCODE)"), CODE, required=True),
    FieldSpec("transport_mode", gettext_lazy("Transport mode (UNECE Rec 19)"), CODE, required=True),
    FieldSpec("place_of_loading", gettext_lazy("Place of loading (UN/LOCODE)"), CODE, required=True),
    FieldSpec("place_of_discharge", gettext_lazy("Place of discharge (UN/LOCODE)"), CODE, required=True),
    FieldSpec("planned_departure", gettext_lazy("Planned departure"), DATE),
    FieldSpec("payment_terms", gettext_lazy("Payment terms"), CHOICE, required=True),
    FieldSpec("payment_days", gettext_lazy("Payment due (days)"), INTEGER),
    FieldSpec("description", gettext_lazy("Description of goods"), item=True, required=True, max_length=300),
    FieldSpec("hs_code", gettext_lazy("HS code"), CODE, item=True, required=True),
    FieldSpec("origin_country", gettext_lazy("Country of origin"), CODE, item=True, required=True),
    FieldSpec("quantity", gettext_lazy("Quantity"), DECIMAL, item=True, required=True, max_value=10**13),
    FieldSpec("unit", gettext_lazy("Unit of measure (UNECE Rec 20)"), CODE, item=True, required=True),
    FieldSpec(
        "packages_count",
        gettext_lazy("Number of packages"),
        INTEGER,
        item=True,
        required=True,
        max_value=2**31 - 1,
    ),
    FieldSpec("package_type", gettext_lazy("Package type (UNECE Rec 21)"), CODE, item=True, required=True),
    FieldSpec(
        "net_mass_kg", gettext_lazy("Net mass (kg)"), DECIMAL, item=True, required=True, max_value=10**11
    ),
    FieldSpec(
        "gross_mass_kg", gettext_lazy("Gross mass (kg)"), DECIMAL, item=True, required=True, max_value=10**11
    ),
    FieldSpec("unit_price", gettext_lazy("Unit price"), DECIMAL, item=True, required=True, max_value=10**12),
)
FIELD_BY_NAME = {spec.name: spec for spec in FIELDS}
PARTIES = ("seller", "buyer", "consignee")
PARTY_ATTRS = ("name", "country", "street", "city", "postcode", "email")
#: A trade is keyed by its reference, else by its invoice number: one of the two must be mapped.
KEY_FIELDS = ("reference", "invoice_number")

DATE_FORMATS = (
    ("", gettext_lazy("YYYY-MM-DD (ISO 8601)")),
    ("%d/%m/%Y", gettext_lazy("DD/MM/YYYY")),
    ("%m/%d/%Y", gettext_lazy("MM/DD/YYYY")),
    ("%d.%m.%Y", gettext_lazy("DD.MM.YYYY")),
    ("%d-%m-%Y", gettext_lazy("DD-MM-YYYY")),
    ("%Y/%m/%d", gettext_lazy("YYYY/MM/DD")),
)

_ALIASES = {
    "direction": {
        "exp": Direction.EXPORT,
        "exportation": Direction.EXPORT,
        "out": Direction.EXPORT,
        "imp": Direction.IMPORT,
        "importation": Direction.IMPORT,
        "in": Direction.IMPORT,
    },
    "payment_terms": {
        "l/c": PaymentTerms.LETTER_OF_CREDIT,
        "letter of credit": PaymentTerms.LETTER_OF_CREDIT,
        "credit documentaire": PaymentTerms.LETTER_OF_CREDIT,
        "crédit documentaire": PaymentTerms.LETTER_OF_CREDIT,
        "cad": PaymentTerms.COLLECTION,
        "d/p": PaymentTerms.COLLECTION,
        "d/a": PaymentTerms.COLLECTION,
        "remise documentaire": PaymentTerms.COLLECTION,
        "open account": PaymentTerms.OPEN_ACCOUNT,
        "compte ouvert": PaymentTerms.OPEN_ACCOUNT,
        "prepayment": PaymentTerms.ADVANCE,
        "advance payment": PaymentTerms.ADVANCE,
        "paiement d'avance": PaymentTerms.ADVANCE,
    },
}
_CHOICES = {"direction": Direction, "payment_terms": PaymentTerms}


# -- results and errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem, placed where the trader sees it: row N of the spreadsheet (header = row 1)."""

    row: int | None  # None: the file as a whole
    column: str  # the trader's column header ("" when no column holds the field)
    field: str  # our field name
    message: str
    value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "value": self.value,
        }


class BulkImportError(Exception):
    """Nothing was saved. `stage`: "file" (unreadable), "mapping" (columns) or "rows" (the data)."""

    def __init__(self, errors: list[RowError], stage: str = "rows"):
        self.errors = sorted(errors, key=lambda e: (e.row or 0, e.column, e.field))
        self.stage = stage
        super().__init__(f"{len(self.errors)} error(s)")


def _file_error(message: str) -> BulkImportError:
    return BulkImportError([RowError(row=None, column="", field="", message=message)], stage="file")


@dataclass
class Table:
    """The first sheet (or the chosen one) of a file: its header row and its non-blank data rows."""

    file_name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells aligned to headers)
    sheet_names: list[str] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 1


@dataclass
class Preview:
    file_name: str
    headers: list[str]
    rows: list[list[str]]
    row_count: int
    sheet_names: list[str]
    sheet: str


@dataclass
class ImportResult:
    file_name: str
    rows: int
    trades: list[Trade]

    @property
    def references(self) -> list[str]:
        return [t.reference for t in self.trades]


# -- reading files ----------------------------------------------------------------------------------


def _read_bytes(file: Any) -> tuple[str, bytes]:
    """The upload's name and content, refusing anything over settings.BULK_IMPORT_MAX_BYTES."""
    limit = settings.BULK_IMPORT_MAX_BYTES
    too_big = _("The file is larger than %(size)s; split it into smaller files.") % {
        "size": _human_size(limit)
    }
    name = _safe_name(getattr(file, "name", ""))
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > limit:
        raise _file_error(too_big)
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limit:
        raise _file_error(too_big)
    if not data.strip():
        raise _file_error(_("The file is empty."))
    return name, data


def _safe_name(name: Any) -> str:
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return get_valid_filename(base)[:200]
    except SuspiciousFileOperation:
        return "upload"


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".0 ", " ")
    return f"{max(1, size // 1024)} KB"


def read_table(*, file: Any, sheet: str = "") -> Table:
    """Parse an uploaded CSV or XLSX file into a header row and data rows (typed cells)."""
    name, data = _read_bytes(file)
    return _parse(name, data, sheet)


def _parse(name: str, data: bytes, sheet: str = "") -> Table:
    if data[:4] == b"PK\x03\x04":
        table = _parse_xlsx(name, data, sheet)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.lower().endswith((".xls", ".ods")):
        raise _file_error(_("This spreadsheet format cannot be read: save the file as XLSX or CSV."))
    elif name.lower().endswith((".xlsx", ".xlsm")):
        raise _file_error(_("The file is not a valid XLSX workbook."))
    else:
        table = _parse_csv(name, data)
    if not table.rows:
        raise _file_error(_("The file has a header row but no data rows."))
    return table


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # "Unicode text" from spreadsheet programs
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _parse_csv(name: str, data: bytes) -> Table:
    text = _decode(data)
    if "\x00" in text:
        raise _file_error(_("The file is neither a CSV file nor an XLSX workbook."))
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table(name, ((n, list(record)) for n, record in enumerate(reader, start=1)))
    except csv.Error as exc:
        raise _file_error(_("The CSV file could not be read: %(reason)s") % {"reason": exc})


def _parse_xlsx(name: str, data: bytes, sheet: str) -> Table:
    import openpyxl  # only needed for XLSX uploads

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _file_error(_("The file is not a valid XLSX workbook."))
    if inflated > MAX_XLSX_INFLATION * settings.BULK_IMPORT_MAX_BYTES:
        raise _file_error(_("The workbook is too large once uncompressed; split it into smaller files."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any malformed workbook: the file is untrusted input
        raise _file_error(_("The file is not a valid XLSX workbook."))
    try:
        names = list(workbook.sheetnames)
        if sheet and sheet not in names:
            raise _file_error(
                _("The workbook has no sheet named %(sheet)s; its sheets are: %(names)s.")
                % {"sheet": sheet, "names": ", ".join(names)}
            )
        worksheet = workbook[sheet] if sheet else (workbook.worksheets or [None])[0]
        if worksheet is None or not hasattr(worksheet, "iter_rows"):
            raise _file_error(_("The chosen sheet holds no table."))
        rows = worksheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        table = _table(name, ((n, [_cell(v) for v in values]) for n, values in enumerate(rows, start=1)))
    except BulkImportError:
        raise
    except Exception:  # a broken sheet deep inside the workbook
        raise _file_error(_("The file is not a valid XLSX workbook."))
    finally:
        workbook.close()
    table.sheet_names, table.sheet = names, worksheet.title
    return table


def _cell(value: Any) -> Any:
    """A spreadsheet cell as str, int, Decimal or date; formulas were never evaluated (cached values)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (dt.date, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        number = Decimal(repr(value))
        return int(number) if number == number.to_integral_value() and abs(number) < 10**15 else number
    return str(value)


def _table(name: str, records: Iterator[tuple[int, list[Any]]]) -> Table:
    max_rows = settings.BULK_IMPORT_MAX_ROWS
    headers: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in records:
        if all(_display(c) == "" for c in cells):
            continue
        if headers is None:
            headers = [_display(c) for c in cells]
            while headers and headers[-1] == "":
                headers.pop()
            if len(headers) > MAX_COLUMNS:
                raise _file_error(_("The file has more than %(max)s columns.") % {"max": MAX_COLUMNS})
            header_row = number
            continue
        if len(rows) >= max_rows:
            raise _file_error(
                _("The file has more than %(max)s rows; split it into smaller files.") % {"max": max_rows}
            )
        cells = cells[: len(headers)] + [""] * (len(headers) - len(cells))
        rows.append((number, [c.strip() if isinstance(c, str) else c for c in cells]))
    if headers is None:
        raise _file_error(_("The file is empty."))
    return Table(file_name=name, headers=headers, rows=rows, header_row=header_row)


def _display(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(value).strip() if value is not None else ""


def preview_file(*, file: Any, sheet: str = "", rows: int = PREVIEW_ROWS) -> Preview:
    """The file's column headers and first rows, for the mapping step."""
    table = read_table(file=file, sheet=sheet)
    return Preview(
        file_name=table.file_name,
        headers=table.headers,
        rows=[[_display(c) for c in cells] for _n, cells in table.rows[:rows]],
        row_count=len(table.rows),
        sheet_names=table.sheet_names,
        sheet=table.sheet,
    )


def template_csv() -> str:
    """A CSV file with only our field names as headers: the layout that needs no mapping."""
    out = io.StringIO()
    csv.writer(out).writerow([spec.name for spec in FIELDS])
    return out.getvalue()


# -- mappings ---------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text).casefold())


def _names_of(spec: FieldSpec) -> set[str]:
    names = {_squash(spec.name)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(_squash(str(spec.label)))
    return names


def suggest_mapping(headers: list[str], saved: dict[str, Any] | None = None) -> dict[str, Any]:
    """Pre-fill the mapping: from a saved mapping where its columns exist, else by matching names."""
    by_key = {}
    for header in headers:
        by_key.setdefault(header.casefold(), header)
        by_key.setdefault(_squash(header), header)
    mapping: dict[str, Any] = {}
    saved = saved or {}
    for spec in FIELDS:
        column = saved.get(spec.name)
        if isinstance(column, str) and column.casefold() in by_key:
            mapping[spec.name] = by_key[column.casefold()]
            continue
        for name in _names_of(spec):
            if name in by_key:
                mapping[spec.name] = by_key[name]
                break
    if isinstance(saved.get(OPTIONS), dict):
        mapping[OPTIONS] = dict(saved[OPTIONS])
    return mapping


def clean_mapping(mapping: Any) -> dict[str, Any]:
    """A mapping as stored: {our field: their header} plus OPTIONS; raises ValidationError if malformed."""
    errors = FieldErrors()
    if not isinstance(mapping, dict):
        raise ValidationError(
            {"mapping": [_("The mapping must be an object of field names to column headers.")]}
        )
    clean: dict[str, Any] = {}
    for key, column in mapping.items():
        if key == OPTIONS:
            continue
        if key not in FIELD_BY_NAME:
            errors.add(f"mapping.{key}", _("Unknown field."))
        elif column in (None, ""):
            continue
        elif not isinstance(column, str) or len(column) > 200:
            errors.add(f"mapping.{key}", _("Give the column header as text (at most 200 characters)."))
        else:
            clean[key] = column.strip()
    options = mapping.get(OPTIONS) or {}
    if not isinstance(options, dict):
        errors.add(f"mapping.{OPTIONS}", _("Options must be an object."))
        options = {}
    date_format = options.get("date_format") or ""
    if date_format and not _valid_date_format(date_format):
        errors.add(f"mapping.{OPTIONS}.date_format", _("Give a date format such as %d/%m/%Y."))
    errors.raise_if_any()
    decimal_comma = options.get("decimal_comma", False)
    if isinstance(decimal_comma, str):
        decimal_comma = decimal_comma.strip().lower() in ("1", "true", "yes", "on")
    if date_format or decimal_comma:
        clean[OPTIONS] = {"date_format": date_format, "decimal_comma": bool(decimal_comma)}
    return clean


def _valid_date_format(fmt: Any) -> bool:
    if (
        not isinstance(fmt, str)
        or len(fmt) > 40
        or not all(d in fmt for d in ("%d", "%m"))
        or "%Y" not in fmt
    ):
        return False
    sample = dt.date(2026, 11, 28)
    try:
        return dt.datetime.strptime(sample.strftime(fmt), fmt).date() == sample
    except ValueError:
        return False


def mappings_for(actor: Actor, organisation: Organisation | None) -> QuerySet[ColumnMapping]:
    """The saved mappings the actor may use for this organisation (read)."""
    queryset = ColumnMapping.objects.visible_to(actor, VIEW).order_by("name")
    return queryset.filter(organisation=organisation) if organisation else queryset.none()


def get_mapping_for(actor: Actor, pk: Any, action: str = VIEW) -> ColumnMapping:
    """One saved mapping, or Http404 if it is not the actor's organisations' (read)."""
    return ColumnMapping.objects.get_for(actor, action, pk=pk)


def _require_change(actor: Actor, organisation: Organisation | None) -> Organisation:
    if organisation is None or not actor.can(CHANGE, organisation.id):
        raise PermissionDenied(_("You may not change this organisation's trades."))
    return organisation


@transaction.atomic
def save_mapping(
    *, actor: Actor, organisation: Organisation, name: str, mapping: dict[str, Any]
) -> ColumnMapping:
    """Save a column mapping under a name (replacing the organisation's mapping of that name)."""
    _require_change(actor, organisation)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the mapping to find it next time.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("Use at most 100 characters.")]})
    clean = clean_mapping(mapping)
    if not any(k != OPTIONS for k in clean):
        raise ValidationError({"mapping": [_("Map at least one column.")]})
    saved, created = ColumnMapping.objects.select_for_update().get_or_create(
        organisation=organisation, name=name, defaults={"mapping": clean}
    )
    if not created:
        saved.mapping = clean
        saved.save(update_fields=["mapping"])
    record_event(
        actor=actor,
        organisation_id=organisation.id,
        action="trade.mapping_saved",
        obj=saved,
        changes={"name": name, "mapping": clean, "replaced": not created},
    )
    return saved


@transaction.atomic
def delete_mapping(*, actor: Actor, mapping: ColumnMapping) -> None:
    _require_change(actor, mapping.organisation)
    record_event(
        actor=actor,
        organisation_id=mapping.organisation_id,
        action="trade.mapping_deleted",
        obj=mapping,
        changes={"name": mapping.name},
    )
    mapping.delete()


# -- staged uploads (between the upload and the mapping pages) --------------------------------------

_TOKEN = re.compile(r"[0-9a-f]{32}")


def _staged_path(organisation: Organisation, token: str) -> str:
    if not _TOKEN.fullmatch(token or ""):
        raise Http404
    return f"imports/{organisation.id}/{token}.upload"


def stage_upload(*, actor: Actor, organisation: Organisation, file: Any, sheet: str = "") -> str:
    """Keep a readable upload in the default storage for the mapping step; returns its token."""
    _require_change(actor, organisation)
    name, data = _read_bytes(file)
    _parse(name, data, sheet)  # refuse now what could never be imported
    token = secrets.token_hex(16)
    path = _staged_path(organisation, token)
    stored = default_storage.save(path, ContentFile(name.encode() + b"\n" + data))
    if stored != path:  # a storage that renamed the file: the token would not find it
        default_storage.delete(stored)
        raise _file_error(_("The file could not be kept for the next step; try again."))
    return token


def open_staged(*, actor: Actor, organisation: Organisation | None, token: str) -> ContentFile:
    """The staged upload as a file (with its original name), or Http404."""
    if organisation is None or not actor.can(CHANGE, organisation.id):
        raise Http404
    path = _staged_path(organisation, token)
    if not default_storage.exists(path):
        raise Http404
    with default_storage.open(path, "rb") as stored:
        name, _sep, data = stored.read().partition(b"\n")
    return ContentFile(data, name=name.decode(errors="replace"))


def discard_staged(*, organisation: Organisation, token: str) -> None:
    path = _staged_path(organisation, token)
    if default_storage.exists(path):
        default_storage.delete(path)


def purge_staged_uploads(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Delete uploads abandoned between the two steps (for a periodic task). Returns how many."""
    cutoff = timezone.now() - older_than
    deleted = 0
    try:
        org_dirs, _files = default_storage.listdir("imports")
    except (FileNotFoundError, NotImplementedError):
        return 0
    for org_dir in org_dirs:
        _dirs, files = default_storage.listdir(f"imports/{org_dir}")
        for name in files:
            path = f"imports/{org_dir}/{name}"
            if name.endswith(".upload") and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
    return deleted


# -- converting cells -------------------------------------------------------------------------------


class _CellError(Exception):
    pass


def _text(value: Any) -> str:
    return _display(value)


def _date(value: Any, fmt: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    if fmt:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T][\d:.]*)?", text):
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    shown = dict(DATE_FORMATS).get(fmt) or fmt or "YYYY-MM-DD"
    raise _CellError(
        _("Enter a date as %(format)s (or choose the date format of your file).") % {"format": shown}
    )


_THOUSANDS_DOT = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d*)?")
_THOUSANDS_COMMA = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def _number(value: Any, decimal_comma: bool) -> Decimal | str:
    """A Decimal, or the text as written (the trade check then says what is wrong with it)."""
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    text = _text(value)
    compact = re.sub(r"[\s\u00a0\u202f']", "", text)
    if decimal_comma:
        if _THOUSANDS_DOT.fullmatch(compact):
            compact = compact.replace(".", "")
        compact = compact.replace(",", ".")
    elif _THOUSANDS_COMMA.fullmatch(compact):
        compact = compact.replace(",", "")
    try:
        number = Decimal(compact)
    except (InvalidOperation, ValueError):
        return text
    return number if number.is_finite() else text


def _whole(value: Any, decimal_comma: bool) -> int | str:
    number = _number(value, decimal_comma)
    if isinstance(number, Decimal) and number == number.to_integral_value():
        return int(number)
    return _text(value)


@functools.cache
def _choice_keys(name: str) -> dict[str, str]:
    """Every way of writing a choice: its code, its label in each language, common aliases."""
    keys = {alias: str(code) for alias, code in _ALIASES[name].items()}
    for code, label in _CHOICES[name].choices:
        keys[code.casefold()] = code
        for lang, _lang_name in settings.LANGUAGES:
            with translation.override(lang):
                keys[str(label).casefold()] = code
    return keys


def _choice(name: str, value: Any) -> str:
    text = _text(value)
    return _choice_keys(name).get(" ".join(text.split()).casefold(), text)


def _hs(value: Any) -> str:
    text = _text(value)
    digits = "".join(ch for ch in text if ch.isdigit())
    # A spreadsheet that took the HS code for a number dropped its leading zero (080132 -> 80132):
    # HS codes have an even number of digits, so an odd count has lost exactly one zero.
    if digits and len(digits) % 2 == 1 and len(digits) <= 9 and re.fullmatch(r"[\d.\s]+", text):
        return "0" + digits
    return text


def _convert(spec: FieldSpec, value: Any, options: dict[str, Any]) -> Any:
    """The cell as the service expects it; raises _CellError for what the service cannot report."""
    if spec.kind == DATE:
        return _date(value, options.get("date_format") or "")
    if spec.kind == DECIMAL:
        number = _number(value, bool(options.get("decimal_comma")))
        if isinstance(number, Decimal) and spec.max_value and abs(number) >= spec.max_value:
            raise _CellError(_("This number is too large."))
        return number if _text(value) else None
    if spec.kind == INTEGER:
        if not _text(value):
            return None
        number = _whole(value, bool(options.get("decimal_comma")))
        if spec.name == "payment_days" and not isinstance(number, int):
            raise _CellError(_("Enter a whole number of days."))
        if isinstance(number, int) and spec.max_value and abs(number) > spec.max_value:
            raise _CellError(_("This number is too large."))
        return number
    if spec.kind == CHOICE:
        return _choice(spec.name, value)
    text = _hs(value) if spec.name == "hs_code" else _text(value)
    if spec.max_length and len(text) > spec.max_length:
        raise _CellError(_("Use at most %(max)s characters.") % {"max": spec.max_length})
    return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return a == b


# -- importing --------------------------------------------------------------------------------------


@dataclass
class _Trade:
    """The rows of one trade in the file, and its values."""

    key: tuple[str, str]
    rows: list[int] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # header field -> converted value
    source_rows: dict[str, int] = field(default_factory=dict)  # header field -> row it came from
    items: list[GoodsItemData] = field(default_factory=list)
    item_rows: list[int] = field(default_factory=list)

    @property
    def first_row(self) -> int:
        return self.rows[0]


class _Importer:
    def __init__(self, organisation: Organisation, table: Table, mapping: dict[str, Any]):
        self.organisation = organisation
        self.table = table
        self.mapping = {k: v for k, v in mapping.items() if k != OPTIONS}
        self.options = mapping.get(OPTIONS) or {}
        self.errors: list[RowError] = []
        self.cells = dict(table.rows)
        self.index: dict[str, int] = {}  # our field -> column index in the file
        self.placed: set[tuple[int | None, str]] = set()

    # errors ---------------------------------------------------------------------------------------

    def error(self, row: int | None, name: str, message: str) -> None:
        if (row, name) in self.placed:
            return  # one error a cell: an unreadable cell is also blank to the checks that follow
        self.placed.add((row, name))
        column = self.mapping.get(name, "")
        value = ""
        if row in self.cells and name in self.index:
            value = _display(self.cells[row][self.index[name]])
        self.errors.append(RowError(row=row, column=column, field=name, message=str(message), value=value))

    # steps ----------------------------------------------------------------------------------------

    def check_columns(self) -> None:
        positions: dict[str, list[int]] = {}
        for i, header in enumerate(self.table.headers):
            positions.setdefault(header.casefold(), []).append(i)
        header_row = self.table.header_row
        for name, column in self.mapping.items():
            found = positions.get(column.casefold(), [])
            if not found:
                self.error(header_row, name, _("The file has no column %(column)s.") % {"column": column})
            elif len(found) > 1:
                self.error(
                    header_row,
                    name,
                    _("Several columns of the file are named %(column)s.") % {"column": column},
                )
            else:
                self.index[name] = found[0]
                self.mapping[name] = self.table.headers[found[0]]  # as the file spells it
        for spec in FIELDS:
            if spec.required and spec.name not in self.mapping:
                self.error(
                    header_row,
                    spec.name,
                    _("Choose the column that holds “%(field)s”.") % {"field": spec.label},
                )
        if not any(name in self.mapping for name in KEY_FIELDS):
            self.error(
                header_row,
                "reference",
                _("Choose the column of the trade reference or of the invoice number."),
            )

    def group(self) -> list[_Trade]:
        trades: dict[tuple[str, str], _Trade] = {}
        for number, cells in self.table.rows:
            values: dict[str, Any] = {}
            for name, i in self.index.items():
                try:
                    values[name] = _convert(FIELD_BY_NAME[name], cells[i], self.options)
                except _CellError as exc:
                    self.error(number, name, str(exc))
                    values[name] = None
            reference, invoice = values.get("reference") or "", values.get("invoice_number") or ""
            if not reference and not invoice:
                self.error(
                    number,
                    "reference" if "reference" in self.mapping else "invoice_number",
                    _(
                        "Enter the trade reference or the invoice number: "
                        "rows with the same one form one trade."
                    ),
                )
                continue
            key = ("reference", reference) if reference else ("invoice_number", invoice)
            trade = trades.setdefault(key, _Trade(key=key))
            trade.rows.append(number)
            self._merge_header(trade, number, values)
            trade.items.append(
                GoodsItemData(
                    **{
                        spec.name: "" if values.get(spec.name) is None else values[spec.name]
                        for spec in FIELDS
                        if spec.item
                    }
                )
            )
            trade.item_rows.append(number)
        return list(trades.values())

    def _merge_header(self, trade: _Trade, number: int, values: dict[str, Any]) -> None:
        for spec in FIELDS:
            if spec.item or spec.name not in values:
                continue
            value = values[spec.name]
            if value in (None, ""):
                continue
            if spec.name not in trade.values:
                trade.values[spec.name] = value
                trade.source_rows[spec.name] = number
            elif not _same(trade.values[spec.name], value):
                self.error(
                    number,
                    spec.name,
                    _(
                        "This differs from row %(row)s (%(value)s) of the same trade: header fields "
                        "must be the same on every row of a trade."
                    )
                    % {"row": trade.source_rows[spec.name], "value": _display(trade.values[spec.name])},
                )

    def check_clashes(self, trades: list[_Trade]) -> None:
        organisation = self.organisation
        references = [t.key[1] for t in trades if t.key[0] == "reference"]
        existing = set()
        for chunk in _chunks(references, 500):
            existing |= set(
                Trade.objects.filter(organisation=organisation, reference__in=chunk).values_list(
                    "reference", flat=True
                )
            )
        invoices_seen: dict[tuple[str, str], int] = {}
        unkeyed = {t.key[1]: t for t in trades if t.key[0] == "invoice_number"}
        known_invoices: dict[str, str] = {}
        for chunk in _chunks(list(unkeyed), 500):
            known_invoices.update(
                Trade.objects.filter(organisation=organisation, invoice_number__in=chunk).values_list(
                    "invoice_number", "reference"
                )
            )
        for trade in trades:
            if trade.key[0] == "reference" and trade.key[1] in existing:
                self.error(
                    trade.first_row,
                    "reference",
                    _("A trade with the reference %(ref)s already exists.") % {"ref": trade.key[1]},
                )
            invoice = trade.values.get("invoice_number") or ""
            if invoice in known_invoices and trade.key[0] == "invoice_number":
                self.error(
                    trade.first_row,
                    "invoice_number",
                    _("A trade with the invoice number %(number)s already exists (%(ref)s).")
                    % {"number": invoice, "ref": known_invoices[invoice]},
                )
            # One seller does not issue two invoices with the same number (imports may come from
            # several suppliers with their own numbering, hence the seller in the key).
            seller = " ".join(str(trade.values.get("seller.name") or "").split()).casefold()
            if invoice and (invoice, seller) in invoices_seen:
                self.error(
                    trade.source_rows.get("invoice_number", trade.first_row),
                    "invoice_number",
                    _("The invoice number %(number)s is also used by the trade on row %(row)s.")
                    % {"number": invoice, "row": invoices_seen[invoice, seller]},
                )
            elif invoice:
                invoices_seen[invoice, seller] = trade.first_row

    def trade_data(self, trade: _Trade) -> TradeData:
        values = trade.values
        direction = values.get("direction") or Direction.EXPORT
        parties: dict[str, PartyData | None] = {}
        for party in PARTIES:
            attrs = {attr: values.get(f"{party}.{attr}") or "" for attr in PARTY_ATTRS}
            parties[party] = PartyData(**attrs) if any(attrs.values()) else None
        own = "seller" if direction == Direction.EXPORT else "buyer" if direction == Direction.IMPORT else ""
        if own and parties[own] is None:
            org = self.organisation
            parties[own] = PartyData(
                name=org.legal_name,
                country=org.country,
                street=org.street,
                city=org.city,
                postcode=org.postcode,
                email=org.email,
            )
        return TradeData(
            direction=direction,
            reference=values.get("reference") or "",
            seller=parties["seller"] or PartyData(),
            buyer=parties["buyer"] or PartyData(),
            consignee=parties["consignee"],
            invoice_number=values.get("invoice_number") or "",
            invoice_date=values.get("invoice_date"),
            currency=values.get("currency") or "",
            incoterm=values.get("incoterm") or "",
            incoterm_place=values.get("incoterm_place") or "",
            transport_mode=values.get("transport_mode") or "",
            place_of_loading=values.get("place_of_loading") or "",
            place_of_discharge=values.get("place_of_discharge") or "",
            planned_departure=values.get("planned_departure"),
            payment_terms=values.get("payment_terms") or "",
            payment_days=values.get("payment_days") or 0,
            items=trade.items,
        )

    def report(self, trade: _Trade, exc: ValidationError) -> None:
        """Place each of the service's field errors on the row and column it came from."""
        for path, messages in error_dict(exc).items():
            match = re.fullmatch(r"items\[(\d+)\]\.(\w+)", path)
            if match and int(match[1]) < len(trade.item_rows):
                row, name = trade.item_rows[int(match[1])], match[2]
            elif path in FIELD_BY_NAME:
                row, name = trade.source_rows.get(path, trade.first_row), path
            else:
                row, name = trade.first_row, "" if path == "__all__" else path
            for message in messages:
                self.error(row, name, message)


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def import_trades(
    *,
    actor: Actor,
    organisation: Organisation,
    file: Any,
    mapping: dict[str, Any] | ColumnMapping | None,
    sheet: str = "",
) -> ImportResult:
    """Create every trade of the file in one transaction, or none: raises BulkImportError with all errors.

    `mapping` is {our field: their column header} (plus OPTIONS), a saved ColumnMapping, or None to
    match the file's headers with our field names.
    """
    _require_change(actor, organisation)
    table = read_table(file=file, sheet=sheet)
    if isinstance(mapping, ColumnMapping):
        mapping = mapping.mapping
    try:
        mapping = clean_mapping(suggest_mapping(table.headers) if mapping is None else mapping)
    except ValidationError as exc:
        raise BulkImportError(
            [
                RowError(row=None, column="", field=path, message=m)
                for path, messages in error_dict(exc).items()
                for m in messages
            ],
            stage="mapping",
        )
    importer = _Importer(organisation, table, mapping)
    importer.check_columns()
    if importer.errors:
        raise BulkImportError(importer.errors, stage="mapping")
    trades = importer.group()
    importer.check_clashes(trades)
    datasets = []
    for trade in trades:
        data = importer.trade_data(trade)
        try:
            validate_trade_data(data)
        except ValidationError as exc:
            importer.report(trade, exc)
        datasets.append((trade, data))
    if importer.errors:
        raise BulkImportError(importer.errors)
    with transaction.atomic():
        created = []
        for trade, data in datasets:
            try:
                created.append(create_trade(actor=actor, organisation=organisation, data=data))
            except ValidationError as exc:  # e.g. a reference taken meanwhile: roll everything back
                importer.report(trade, exc)
                raise BulkImportError(importer.errors)
        record_event(
            actor=actor,
            organisation_id=organisation.id,
            action="trade.bulk_imported",
            object_type="trades.trade",
            changes={
                "file": table.file_name,
                "rows": len(table.rows),
                "references": [t.reference for t in created],
            },
        )
    return ImportResult(file_name=table.file_name, rows=len(table.rows), trades=created)
