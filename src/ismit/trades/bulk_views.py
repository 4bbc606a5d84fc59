"""Pages of bulk import: upload a file, match its columns to our fields (once), see what was created or
the table of row errors. Services and parsing are in trades/bulk.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.accounts.models import Organisation
from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE
from ismit.trades import bulk

# -- forms ------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))
    # Not a ChoiceField: a mapping id that is not the actor's answers 404, like any other lookup.
    mapping = forms.IntegerField(required=False, label=gettext_lazy("Column mapping"))
    sheet = forms.CharField(
        required=False,
        max_length=31,
        label=gettext_lazy("Sheet (XLSX)"),
        help_text=gettext_lazy("Leave empty to read the first sheet."),
    )


class MappingForm(forms.Form):
    """One select per field of ours, listing the file's column headers; and the file's conventions."""

    date_format = forms.ChoiceField(
        choices=bulk.DATE_FORMATS, required=False, label=gettext_lazy("Dates in the file are written as")
    )
    decimal_comma = forms.BooleanField(required=False, label=gettext_lazy("Decimal comma (1.234,50)"))
    save = forms.BooleanField(required=False, label=gettext_lazy("Save this mapping for my next files"))
    name = forms.CharField(required=False, max_length=100, label=gettext_lazy("Name of the mapping"))
    sheet = forms.CharField(required=False, max_length=31, widget=forms.HiddenInput)

    def __init__(self, headers: list[str], *args: Any, suggested: dict[str, Any], **kwargs: Any):
        options = suggested.get(bulk.OPTIONS) or {}
        initial = {
            **{k: v for k, v in suggested.items() if k != bulk.OPTIONS},
            **options,
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, initial=initial, **kwargs)
        choices = [("", "—"), *((h, h) for h in headers if h)]
        for spec in bulk.FIELDS:
            self.fields[spec.name] = forms.ChoiceField(choices=choices, required=False, label=spec.label)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("save") and not (data.get("name") or "").strip():
            self.add_error("name", _("Name the mapping to find it next time."))
        return data

    def groups(self) -> list[tuple[str, list[tuple[bulk.FieldSpec, forms.BoundField]]]]:
        fields = [(spec, self[spec.name]) for spec in bulk.FIELDS]
        return [
            (_("Trade (the same on every row of a trade)"), [f for f in fields if not f[0].item]),
            (_("Goods line (one per row)"), [f for f in fields if f[0].item]),
        ]

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        columns: dict[str, Any] = {spec.name: data[spec.name] for spec in bulk.FIELDS if data.get(spec.name)}
        if data.get("date_format") or data.get("decimal_comma"):
            columns[bulk.OPTIONS] = {
                "date_format": data.get("date_format") or "",
                "decimal_comma": bool(data.get("decimal_comma")),
            }
        return columns

    def add_import_errors(self, errors: list[bulk.RowError]) -> None:
        for error in errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)


# -- helpers ----------------------------------------------------------------------------------------


def _organisation(request: HttpRequest) -> Organisation:
    organisation = request.actor.organisation
    if organisation is None or not request.actor.can(CHANGE, organisation.id):
        raise PermissionDenied(_("You may not create trades for this organisation."))
    return organisation


def _errors(request: HttpRequest, exc: bulk.BulkImportError, back: str = "") -> HttpResponse:
    return render(request, "trades/bulk_errors.html", {"errors": exc.errors, "back": back}, status=422)


def _result(request: HttpRequest, result: bulk.ImportResult) -> HttpResponse:
    return render(request, "trades/bulk_result.html", {"result": result})


# -- pages ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Choose a file and a saved mapping (import at once) or none (match the columns next)."""
    actor, organisation = request.actor, _organisation(request)
    form = UploadForm(
        request.POST or None, request.FILES or None, initial={"mapping": request.GET.get("mapping")}
    )
    if request.method == "POST" and form.is_valid():
        file, sheet, mapping_id = (form.cleaned_data[k] for k in ("file", "sheet", "mapping"))
        try:
            if mapping_id is not None:
                mapping = bulk.get_mapping_for(actor, mapping_id)
                return _result(
                    request,
                    bulk.import_trades(
                        actor=actor, organisation=organisation, file=file, mapping=mapping, sheet=sheet
                    ),
                )
            token = bulk.stage_upload(actor=actor, organisation=organisation, file=file, sheet=sheet)
        except bulk.BulkImportError as exc:
            return _errors(request, exc)
        query = urlencode({"sheet": sheet} if sheet else {})
        return redirect(reverse("trades:bulk_mapping", args=[token]) + (f"?{query}" if query else ""))
    mappings = bulk.mappings_for(actor, organisation)
    return render(request, "trades/bulk_upload.html", {"form": form, "mappings": mappings})


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, token: str) -> HttpResponse:
    """Match the uploaded file's columns to our fields, optionally save the match, and import."""
    actor, organisation = request.actor, _organisation(request)
    staged = bulk.open_staged(actor=actor, organisation=organisation, token=token)
    sheet = request.POST.get("sheet") or request.GET.get("sheet", "")
    saved = bulk.get_mapping_for(actor, request.GET["mapping"]) if request.GET.get("mapping") else None
    try:
        preview = bulk.preview_file(file=staged, sheet=sheet)
    except bulk.BulkImportError as exc:
        return _errors(request, exc)
    suggested = bulk.suggest_mapping(preview.headers, saved.mapping if saved else None)
    form = MappingForm(
        preview.headers,
        request.POST or None,
        suggested=suggested,
        initial={"sheet": sheet, "name": saved.name if saved else ""},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["save"]:
                bulk.save_mapping(
                    actor=actor,
                    organisation=organisation,
                    name=form.cleaned_data["name"],
                    mapping=form.mapping(),
                )
            result = bulk.import_trades(
                actor=actor, organisation=organisation, file=staged, mapping=form.mapping(), sheet=sheet
            )
        except ValidationError as exc:
            for name, errors in error_dict(exc).items():
                form.add_error(name if name in form.fields else None, errors)
        except bulk.BulkImportError as exc:
            if exc.stage != "mapping":
                return _errors(request, exc, back=request.get_full_path())
            form.add_import_errors(exc.errors)
        else:
            bulk.discard_staged(organisation=organisation, token=token)
            return _result(request, result)
        status = 422
    context = {
        "form": form,
        "preview": preview,
        "saved": saved,
        "token": token,
        "mappings": bulk.mappings_for(actor, organisation),
    }
    return render(request, "trades/bulk_mapping.html", context, status=status)


@login_required
@require_GET
def mappings(request: HttpRequest) -> HttpResponse:
    """The organisation's saved mappings."""
    organisation = request.actor.organisation
    context = {
        "mappings": bulk.mappings_for(request.actor, organisation),
        "organisation": organisation,
        "can_change": organisation is not None and request.actor.can(CHANGE, organisation.id),
    }
    return render(request, "trades/bulk_mappings.html", context)


@login_required
@require_POST
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = bulk.get_mapping_for(request.actor, pk)
    bulk.delete_mapping(actor=request.actor, mapping=saved)
    messages.success(request, _("Mapping “%(name)s” deleted.") % {"name": saved.name})
    return redirect("trades:bulk_mappings")


@login_required
@require_GET
def template(request: HttpRequest) -> HttpResponse:
    """A CSV file whose headers are our field names: filled in this layout, a file needs no mapping."""
    response = HttpResponse(bulk.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ismit-trades-template.csv"'
    return response
