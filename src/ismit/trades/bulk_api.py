"""API of bulk import: a CSV or XLSX file of trades, read through a column mapping (mounted at
/api/v1/trades/imports).

`POST` a multipart form with `file` and either `mapping_id` (a saved mapping), `mapping` (a JSON object
{our field: your column header, "_options": {"date_format": "%d/%m/%Y", "decimal_comma": true}}), or
neither (your headers are our field names, as in the template CSV of the pages). A file with any error
creates nothing and answers 422 with `errors: [{row, column, field, message, value}]`: `row` as your
spreadsheet shows it (the header is row 1; null for the file as a whole), `column` your header.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from ismit.accounts.api import actor_of, organisation_for_write
from ismit.lib.api import PagePagination, problem
from ismit.trades import bulk, queries

router = Router(tags=["bulk import"])


class RowErrorOut(Schema):
    row: int | None = Field(description="Row as the spreadsheet shows it (header = 1); null: the whole file")
    column: str = Field(description="Your column header; empty when no column holds the field")
    field: str = Field(description="Our field name (see the template CSV)")
    message: str
    value: str


class ImportProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[RowErrorOut]


class CreatedTradeOut(Schema):
    id: int
    reference: str


class ImportOut(Schema):
    file: str
    rows: int
    trades: list[CreatedTradeOut]


class MappingIn(Schema):
    name: str = Field(max_length=100)
    mapping: dict[str, Any] = Field(
        description='{our field: your column header, "_options": {"date_format": "%d/%m/%Y", '
        '"decimal_comma": true}}'
    )
    organisation: int | None = Field(
        None, description="The organisation's id; else the X-ISMIT-Organisation header, else your first one"
    )


class MappingOut(Schema):
    id: int
    organisation: int = Field(alias="organisation_id")
    name: str
    mapping: dict[str, Any]
    created_at: dt.datetime


def _mapping_from_form(mapping_id: int | None, mapping: str) -> Any:
    if mapping_id is not None and mapping:
        raise ValidationError({"mapping": [_("Give either mapping_id or mapping, not both.")]})
    if mapping:
        try:
            return json.loads(mapping)
        except ValueError:
            raise ValidationError({"mapping": [_("The mapping is not valid JSON.")]})
    return None


@router.post("", response={201: ImportOut, 422: ImportProblemOut})
def import_trades(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping_id: Form[int | None] = None,
    mapping: Form[str] = "",
    sheet: Form[str] = "",
    organisation: Form[int | None] = None,
):
    """Create every trade of the file, or none (422 with the row errors)."""
    actor = actor_of(request)
    columns = _mapping_from_form(mapping_id, mapping)
    if mapping_id is not None:
        columns = bulk.get_mapping_for(actor, mapping_id)
    target = organisation_for_write(request, organisation)
    try:
        result = bulk.import_trades(actor=actor, organisation=target, file=file, mapping=columns, sheet=sheet)
    except bulk.BulkImportError as exc:
        return problem(
            request,
            status=422,
            kind="bulk-import",
            title=_("The file was not imported"),
            detail=_("Nothing was saved: correct these rows and send the whole file again."),
            errors=[e.as_dict() for e in exc.errors],
        )
    trades = [{"id": t.pk, "reference": t.reference} for t in result.trades]
    return Status(201, {"file": result.file_name, "rows": result.rows, "trades": trades})


@router.get("/mappings", response=list[MappingOut])
@paginate(PagePagination)
def list_mappings(request: HttpRequest):
    return queries.mappings_visible_to(actor_of(request))


@router.post("/mappings", response={201: MappingOut})
def save_mapping(request: HttpRequest, payload: MappingIn):
    """Save a mapping under a name; a mapping of the same name is replaced."""
    target = organisation_for_write(request, payload.organisation)
    return bulk.save_mapping(
        actor=actor_of(request), organisation=target, name=payload.name, mapping=payload.mapping
    )


@router.get("/mappings/{int:mapping_id}", response=MappingOut)
def get_mapping(request: HttpRequest, mapping_id: int):
    return bulk.get_mapping_for(actor_of(request), mapping_id)


@router.delete("/mappings/{int:mapping_id}", response={204: None})
def delete_mapping(request: HttpRequest, mapping_id: int):
    actor = actor_of(request)
    mapping = bulk.get_mapping_for(actor, mapping_id)
    bulk.delete_mapping(actor=actor, mapping=mapping)
