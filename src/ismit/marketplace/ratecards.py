"""Rate cards as CSV: export a provider's catalogue (or one offering), and import it back.

Format (UTF-8, comma-separated, a header row; docs/marketplace.md shows an example): one row per rate
line, with the offering's columns repeated on each row of the offering. Rows with the same `offering` name
form one offering.

=====================  ====================================================================================
column                 content
=====================  ====================================================================================
offering               the offering's name (rows with the same name are one offering)
service_type           carriage, customs_brokerage, warehousing, insurance, trade_finance
modes                  Rec 19 transport mode codes separated by spaces ("1 4"); empty: any mode
lanes                  routes separated by spaces, each ORIGIN>DESTINATION where an end is a country
                       ("CI") or a UN/LOCODE ("CIABJ"): "CIABJ>FRMRS CI>FR"
currency               ISO 4217 code of the rates
valid_from, valid_until  dates, YYYY-MM-DD
max_mass_kg, max_volume_m3  limits of the cargo; empty: none
dangerous_goods, temperature_control  yes or no
transit_days           whole days; may be empty
terms                  free text
code                   the rate line's code (FRT, BAF, THC, DOC, INS …)
description            the rate line's description
basis                  shipment, kg, m3, container_20, container_40, container_40hc, value_percent, minimum
amount                 the rate (a percentage for value_percent), at most 4 decimals, "." as separator
surcharge              yes or no
=====================  ====================================================================================

Import is all or nothing: every row is checked (with the same checks as the pages and the API) and a file
with any error saves nothing and lists the errors by row and column, like the bulk import of trades. An
offering of the file whose name matches one of the organisation's offerings replaces it (fields, lanes and
rate card); any other is created. Offerings not in the file are left as they are.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.lib.errors import error_dict
from ismit.marketplace import catalogue_services as services
from ismit.marketplace.models import ServiceOffering
from ismit.trades.bulk import RowError

COLUMNS = [
    "offering",
    "service_type",
    "modes",
    "lanes",
    "currency",
    "valid_from",
    "valid_until",
    "max_mass_kg",
    "max_volume_m3",
    "dangerous_goods",
    "temperature_control",
    "transit_days",
    "terms",
    "code",
    "description",
    "basis",
    "amount",
    "surcharge",
]
OFFERING_COLUMNS = COLUMNS[:13]
REQUIRED = {
    "offering",
    "service_type",
    "lanes",
    "currency",
    "valid_from",
    "valid_until",
    "code",
    "basis",
    "amount",
}
YES = {"yes", "y", "true", "1", "oui", "x"}
NO = {"no", "n", "false", "0", "non", ""}
_END = re.compile(r"^[A-Z]{2}([A-Z0-9]{3})?$")

#: where an error of validate_offering_data is shown: its field path's column
_FIELD_COLUMN = {
    "name": "offering",
    "currency": "currency",
    "service_type": "service_type",
    "modes": "modes",
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "max_mass_kg": "max_mass_kg",
    "max_volume_m3": "max_volume_m3",
    "transit_days": "transit_days",
    "terms": "terms",
    "lanes": "lanes",
    "rate_lines": "code",
}


class RateCardError(Exception):
    """Nothing was saved; `errors` are placed by row (the header is row 1) and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: (e.row or 0, e.column, e.field))
        super().__init__(f"{len(self.errors)} error(s)")


@dataclasses.dataclass(frozen=True)
class ImportResult:
    created: list[ServiceOffering]
    updated: list[ServiceOffering]
    rows: int


# -- export ----------------------------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _number(value) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return text


def export_csv(offerings) -> str:
    """The offerings' rate cards as CSV (offerings' lanes and rate lines read with them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for offering in offerings:
        lanes = " ".join(
            f"{ln.origin_location or ln.origin_country}>{ln.destination_location or ln.destination_country}"
            for ln in offering.lanes.all()
        )
        head = [
            offering.name,
            offering.service_type,
            " ".join(offering.modes),
            lanes,
            offering.currency_id,
            offering.valid_from.isoformat(),
            offering.valid_until.isoformat(),
            _number(offering.max_mass_kg),
            _number(offering.max_volume_m3),
            _yes_no(offering.dangerous_goods),
            _yes_no(offering.temperature_control),
            "" if offering.transit_days is None else str(offering.transit_days),
            offering.terms,
        ]
        for line in offering.rate_lines.all():
            writer.writerow(
                [
                    *[_safe_cell(v) for v in head],
                    line.code,
                    _safe_cell(line.description),
                    line.basis,
                    _number(line.amount),
                    _yes_no(line.is_surcharge),
                ]
            )
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# -- import ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Group:
    name: str
    first_row: int
    head: dict[str, str]
    rows: list[int] = dataclasses.field(default_factory=list)
    data: services.OfferingData | None = None


def _read(data: bytes | str) -> list[tuple[int, dict[str, str]]]:
    if isinstance(data, bytes):
        if len(data) > settings.BULK_IMPORT_MAX_BYTES:
            raise RateCardError([RowError(None, "", "", _("The file is too large."))])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RateCardError([RowError(None, "", "", _("The file is not UTF-8 text."))]) from None
    else:
        text = data.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # comma, or the semicolon of some spreadsheets' CSV
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RateCardError([RowError(None, "", "", _("The file is empty."))]) from None
    except csv.Error:
        raise RateCardError([RowError(None, "", "", _("The file is not a CSV file."))]) from None
    missing = [c for c in COLUMNS if c in REQUIRED and c not in header]
    if missing:
        raise RateCardError([RowError(1, c, c, _("This column is missing.")) for c in missing])
    rows = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= settings.BULK_IMPORT_MAX_ROWS:
                raise RateCardError(
                    [
                        RowError(
                            None, "", "", _("Use at most %(n)d rows.") % {"n": settings.BULK_IMPORT_MAX_ROWS}
                        )
                    ]
                )
            rows.append(
                (number, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)})
            )
    except csv.Error:
        raise RateCardError([RowError(None, "", "", _("The file is not a CSV file."))]) from None
    if not rows:
        raise RateCardError([RowError(None, "", "", _("The file has no rate lines."))])
    return rows


def _flag(value: str, row: int, column: str, errors: list[RowError]) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text not in NO:
        errors.append(RowError(row, column, column, _("Enter yes or no."), value))
    return False


def _lanes(value: str, row: int, errors: list[RowError]) -> list[services.LaneData]:
    lanes = []
    for part in value.split():
        ends = [e.strip().upper() for e in part.split(">")]
        if len(ends) != 2 or not all(_END.match(e) for e in ends):
            errors.append(
                RowError(
                    row,
                    "lanes",
                    "lanes",
                    _("Write each lane as ORIGIN>DESTINATION (country or UN/LOCODE)."),
                    part,
                )
            )
            continue
        (o, d) = ends
        lanes.append(
            services.LaneData(
                origin_country=o[:2],
                origin_location=o if len(o) == 5 else "",
                destination_country=d[:2],
                destination_location=d if len(d) == 5 else "",
            )
        )
    return lanes


def parse_csv(data: bytes | str) -> list[_Group]:
    """The offerings of the file, each with its OfferingData; RateCardError with every problem otherwise."""
    rows = _read(data)
    errors: list[RowError] = []
    groups: dict[str, _Group] = {}
    for number, cells in rows:
        name = cells.get("offering", "")
        if not name:
            errors.append(RowError(number, "offering", "name", _("This field is required.")))
            continue
        head = {c: cells.get(c, "") for c in OFFERING_COLUMNS}
        group = groups.get(name.casefold())
        if group is None:
            group = groups[name.casefold()] = _Group(name=name, first_row=number, head=head)
        else:
            for column in OFFERING_COLUMNS:
                if head[column] and head[column] != group.head[column]:
                    errors.append(
                        RowError(
                            number,
                            column,
                            column,
                            _("Differs from row %(row)d of the same offering.") % {"row": group.first_row},
                            head[column],
                        )
                    )
        group.rows.append(number)
    by_row = dict(rows)
    for group in groups.values():
        head, first = group.head, group.first_row
        data = services.OfferingData(
            name=group.name,
            service_type=head["service_type"].strip().lower(),
            currency=head["currency"],
            valid_from=head["valid_from"],
            valid_until=head["valid_until"],
            modes=head["modes"].split(),
            max_mass_kg=head["max_mass_kg"] or None,
            max_volume_m3=head["max_volume_m3"] or None,
            dangerous_goods=_flag(head["dangerous_goods"], first, "dangerous_goods", errors),
            temperature_control=_flag(head["temperature_control"], first, "temperature_control", errors),
            transit_days=head["transit_days"] or None,
            terms=head["terms"],
            lanes=_lanes(head["lanes"], first, errors),
        )
        for number in group.rows:
            cells = by_row[number]
            data.rate_lines.append(
                services.RateLineData(
                    code=cells.get("code", ""),
                    description=cells.get("description", ""),
                    basis=cells.get("basis", "").strip().lower(),
                    amount=cells.get("amount", ""),
                    is_surcharge=_flag(cells.get("surcharge", ""), number, "surcharge", errors),
                )
            )
        group.data = data
        try:
            services.validate_offering_data(data)
        except ValidationError as exc:
            errors.extend(_row_errors(exc, group, by_row))
    if errors:
        raise RateCardError(errors)
    return list(groups.values())


def _row_errors(exc: ValidationError, group: _Group, by_row: dict[int, dict[str, str]]) -> list[RowError]:
    """A service's field errors placed on the file's rows and columns."""
    found = []
    for path, messages in error_dict(exc).items():
        row, column = group.first_row, ""
        match = re.match(r"^rate_lines\[(\d+)\]\.(\w+)$", path)
        if match:
            row = group.rows[int(match.group(1))]
            column = {"is_surcharge": "surcharge"}.get(match.group(2), match.group(2))
        elif path.startswith("lanes"):
            column = "lanes"
        else:
            column = _FIELD_COLUMN.get(path, "")
        value = by_row.get(row, {}).get(column, "") if column else ""
        found.extend(RowError(row, column, path, message, value) for message in messages)
    return found


def import_catalogue(*, actor: Actor, organisation: Organisation, data: bytes | str) -> ImportResult:
    """Create or replace the organisation's offerings from a CSV file; all or nothing."""
    groups = parse_csv(data)
    existing: dict[str, ServiceOffering] = {}
    for offering in ServiceOffering.objects.filter(organisation=organisation).order_by("id"):
        existing[offering.name.casefold()] = offering
    created, updated = [], []
    errors: list[RowError] = []
    with transaction.atomic():
        for group in groups:
            current = existing.get(group.name.casefold())
            try:
                with transaction.atomic():
                    if current is None:
                        created.append(
                            services.create_offering(actor=actor, organisation=organisation, data=group.data)
                        )
                    else:
                        updated.append(
                            services.update_offering(actor=actor, offering=current, data=group.data)
                        )
            except ValidationError as exc:
                errors.extend(_row_errors(exc, group, {}))
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise RateCardError(errors)
    return ImportResult(created=created, updated=updated, rows=sum(len(g.rows) for g in groups))


def import_offering_rates(*, actor: Actor, offering: ServiceOffering, data: bytes | str) -> ServiceOffering:
    """Replace one offering (fields, lanes, rate card) from a CSV file holding that offering only."""
    groups = parse_csv(data)
    if len(groups) != 1:
        raise RateCardError(
            [
                RowError(
                    None,
                    "offering",
                    "name",
                    _("The file must hold one offering (one name in the offering column)."),
                )
            ]
        )
    try:
        return services.update_offering(actor=actor, offering=offering, data=groups[0].data)
    except ValidationError as exc:
        raise RateCardError(_row_errors(exc, groups[0], {})) from None


def errors_as_dicts(exc: RateCardError) -> list[dict[str, Any]]:
    return [e.as_dict() for e in exc.errors]
