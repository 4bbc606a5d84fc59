"""Pages of the documents app: a trade's Documents tab, downloads, and the public verification page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from ismit.documents import keys, queries, services, verification
from ismit.documents.coverage import coverage
from ismit.documents.data import document_data
from ismit.documents.forms import VerifyForm
from ismit.documents.generators import all_generators
from ismit.documents.models import kind_label
from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE


def _language(request: HttpRequest) -> str:
    chosen = request.POST.get("language") or (get_language() or "en")[:2]
    return chosen if chosen in services.LANGUAGES else "en"


def _issue(request: HttpRequest, pk: int) -> HttpResponse:
    trade = queries.get_trade_header_for(request.actor, pk, CHANGE)
    try:
        issued = services.issue_documents(actor=request.actor, trade=trade, language=_language(request))
    except ValidationError as exc:
        for message in (m for ms in error_dict(exc).values() for m in ms):
            messages.error(request, message)
        return redirect("documents:list", pk=trade.pk)
    count = len(issued)
    messages.success(
        request,
        ngettext("%(count)s document issued and signed.", "%(count)s documents issued and signed.", count)
        % {"count": count},
    )
    kinds = {d.kind for d in issued}
    left_out = [kind_label(g.kind) for g in all_generators() if g.is_declaration and g.kind not in kinds]
    if left_out:
        messages.warning(
            request,
            _(
                "Not issued while the compliance check reports errors: %(documents)s. "
                "Correct the trade, then issue again."
            )
            % {"documents": ", ".join(left_out)},
        )
    return redirect("documents:list", pk=trade.pk)


def _groups(documents) -> list[dict]:
    groups: dict[tuple[str, str], dict] = {}
    for document in documents:
        group = groups.setdefault(
            (document.kind, document.format),
            {"kind": document.kind, "label": document.label, "format": document.format, "versions": []},
        )
        group["versions"].append(document)
    return list(groups.values())


@login_required
@require_http_methods(["GET", "POST"])
def document_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The trade's Documents tab: every version of each document, the issue button, the single entry ratio."""
    if request.method == "POST":
        return _issue(request, pk)
    trade = queries.get_trade_header_for(request.actor, pk)
    language = (get_language() or "en")[:2]
    context = {
        "trade": trade,
        "organisation": trade.organisation,
        "groups": _groups(queries.documents_of_trade(request.actor, trade.pk)),
        "coverage": coverage(document_data(trade, language=language)),
        "can_change": request.actor.can(CHANGE, trade.organisation_id),
        "signing_key": keys.active_key(trade.organisation),
        "language": language,
        "languages": services.LANGUAGES,
    }
    return render(request, "documents/list.html", context)


def _file(field: FieldFile, *, filename: str, media_type: str) -> FileResponse:
    try:
        stream = field.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=media_type)


@login_required
@require_GET
def download(request: HttpRequest, pk: int, doc_id: int) -> FileResponse:
    document = queries.get_document_for(request.actor, doc_id, trade_pk=pk)
    name = f"{document.trade.reference}-v{document.version}-{document.filename}"
    return _file(document.file, filename=name, media_type=document.media_type)


@login_required
@require_GET
def download_signature(request: HttpRequest, pk: int, doc_id: int) -> FileResponse:
    document = queries.get_document_for(request.actor, doc_id, trade_pk=pk)
    if not document.signature:
        raise Http404
    name = f"{document.trade.reference}-v{document.version}-{document.signature_filename}"
    return _file(document.signature, filename=name, media_type=document.signature_media_type)


# -- public: no log-in ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Anyone holding a copy of a document checks here that the platform issued it and that it is intact."""
    posted = request.method == "POST"
    form = VerifyForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    if posted and form.is_valid():
        result = verification.verify(
            data=form.cleaned_data["document_bytes"],
            sha256=form.cleaned_data["sha256"] or None,
            signature=form.cleaned_data["signature_bytes"],
            actor=request.user,
            channel="page",
        )
    return render(request, "documents/verify.html", {"form": form, "result": result})


@require_GET
@cache_control(public=True, max_age=3600)
def ca_certificate(request: HttpRequest) -> HttpResponse:
    """The platform CA's certificate (PEM): what every organisation's signing certificate chains to."""
    response = HttpResponse(keys.ca_bundle_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'inline; filename="ismit-ca.pem"'
    return response
