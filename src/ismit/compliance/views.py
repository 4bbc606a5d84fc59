"""Pages of the compliance app: the "Requirements" panel of a trade."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ismit.compliance import services
from ismit.compliance.check import SEVERITIES, run_check
from ismit.lib.scoping import CHANGE
from ismit.trades.models import GoodsItem, Party, Trade
from ismit.trades.queries import get_trade_for

ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(\w+)$")
PARTY_FIELD = re.compile(r"^(seller|buyer|consignee)\.(?:identifiers\.)?(\w+)$")


def field_anchor(path: str) -> str:
    """The id of the entry-form field a finding's path names ("items[0].hs_code" -> "id_items-0-hs_code")."""
    if match := ITEM_FIELD.match(path):
        return f"id_items-{match.group(1)}-{match.group(2)}"
    if match := PARTY_FIELD.match(path):
        return f"id_{match.group(1)}-{match.group(2)}"
    if re.fullmatch(r"\w+", path or ""):
        return f"id_{path}"
    return ""


def _verbose(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name.upper() if name in ("eori", "vat") else name.replace("_", " ")


def field_label(path: str, line_numbers: list[int]) -> str:
    """The field a finding's path names, in words: "items[1].hs_code" -> "Line 2: HS code"."""
    if match := ITEM_FIELD.match(path):
        index = int(match.group(1))
        line = line_numbers[index] if index < len(line_numbers) else index + 1
        return _("Line %(line)s: %(field)s") % {"line": line, "field": _verbose(GoodsItem, match.group(2))}
    if match := PARTY_FIELD.match(path):
        return f"{_verbose(Trade, match.group(1))}: {_verbose(Party, match.group(2))}"
    return _verbose(Trade, path)


def _rows(findings, edit_url: str, line_numbers: list[int]) -> list[dict]:
    """Findings with the field to fix in words, and its link (for those who may edit the trade)."""
    rows = []
    for finding in findings:
        anchor = field_anchor(finding.field) if edit_url and finding.field else ""
        rows.append(
            {
                "finding": finding,
                "label": field_label(finding.field, line_numbers) if finding.field else "",
                "link": f"{edit_url}#{anchor}" if anchor else "",
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def requirements(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the check of the trade; POST ("Check") runs it again and notes it in the audit log."""
    trade = get_trade_for(request.actor, pk)
    result = run_check(trade, language=get_language() or "en")
    is_htmx = request.headers.get("HX-Request") == "true"
    if request.method == "POST":
        with transaction.atomic():
            services.record_check(actor=request.actor, trade=trade, result=result, via="page")
        if not is_htmx:
            messages.success(request, _("Check done."))
            return redirect("compliance:requirements", pk=trade.pk)
    can_change = request.actor.can(CHANGE, trade.organisation_id)
    edit_url = reverse("trades:edit", args=[trade.pk]) if can_change else ""
    by_severity = result.by_severity()
    line_numbers = [line.line_no for line in result.landed_cost.lines] if result.landed_cost else []
    titles = {"error": _("Errors"), "warning": _("Warnings"), "info": _("Information")}
    context = {
        "trade": trade,
        "result": result,
        "groups": [
            {
                "severity": severity,
                "title": titles[severity],
                "rows": _rows(by_severity[severity], edit_url, line_numbers),
            }
            for severity in SEVERITIES
            if by_severity[severity]
        ],
        "documents": _rows(result.documents, edit_url, line_numbers),
        "cost": result.landed_cost,
        "can_change": can_change,
        "checked": request.method == "POST",
    }
    template = "compliance/_results.html" if is_htmx else "compliance/requirements.html"
    return render(request, template, context)
