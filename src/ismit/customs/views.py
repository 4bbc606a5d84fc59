"""Pages of the customs app: a trade's Customs tab (submit, follow, answer queries, download the messages
exchanged), and the callback the single windows post their answers to."""

from __future__ import annotations

import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ismit.customs import answers, queries, services
from ismit.customs.forms import AnswerForm, SubmitForm
from ismit.customs.models import QueryStatus
from ismit.lib import hmac_auth
from ismit.lib.api import problem
from ismit.lib.errors import error_dict
from ismit.trades.models import GoodsItem

logger = logging.getLogger("ismit.customs")


def _error_messages(request: HttpRequest, exc: ValidationError) -> None:
    for found in error_dict(exc).values():  # the messages name their field ("Line 1: the gross mass…")
        for message in found:
            messages.error(request, message)


@login_required
@require_http_methods(["GET", "POST"])
def trade_customs(request: HttpRequest, pk: int) -> HttpResponse:
    """The trade's Customs tab; POST submits its declaration."""
    trade = queries.get_trade_for(request.actor, pk)
    if request.method == "POST":
        form = SubmitForm(request.POST)
        channel = form.cleaned_data["channel"] if form.is_valid() else ""
        try:
            services.submit_declaration(actor=request.actor, trade=trade, channel=channel or None)
        except ValidationError as exc:
            _error_messages(request, exc)
        else:
            messages.success(request, _("Declaration queued: it is being sent to customs."))
        return redirect("customs:trade", pk=trade.pk)
    view = queries.customs_view(request.actor, trade)
    return render(
        request,
        "customs/trade.html",
        {"trade": trade, "organisation": trade.organisation, "view": view, "form": SubmitForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def answer_query(request: HttpRequest, pk: int, query_id: int) -> HttpResponse:
    """A question from customs, and the form that answers it with a correction."""
    trade = queries.get_trade_for(request.actor, pk)
    query = queries.get_query_for(request.actor, query_id, trade_pk=trade.pk)
    goods = GoodsItem.objects.filter(trade_id=trade.pk, line_no=query.item_no or 1).first()
    form = AnswerForm(
        request.POST if request.method == "POST" else None,
        initial={"description": goods.description if goods else ""},
    )
    if request.method == "POST" and form.is_valid():
        description = form.cleaned_data["description"].strip()
        if goods is not None and description == goods.description:
            description = ""
        try:
            services.answer_query(
                actor=request.actor,
                query=query,
                answer=form.cleaned_data["answer"],
                description=description or None,
            )
        except ValidationError as exc:
            for field, found in error_dict(exc).items():
                for message in found:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Answer sent to customs as a correction of the declaration."))
            return redirect("customs:trade", pk=trade.pk)
    return render(
        request,
        "customs/answer.html",
        {
            "trade": trade,
            "query": query,
            "goods": goods,
            "form": form,
            "open": query.status == QueryStatus.OPEN,
            "may_declare": queries.may_declare(request.actor, trade),
        },
    )


@login_required
@require_GET
def download_message(request: HttpRequest, pk: int, message_id: int) -> FileResponse:
    """A message exchanged with the single window, byte for byte as sent or received."""
    trade = queries.get_trade_for(request.actor, pk)
    message = queries.get_message_for(request.actor, message_id, trade_pk=trade.pk)
    if not message.has_body:
        raise Http404
    try:
        stream = io.BytesIO(bytes(message.content)) if message.content else message.body.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"{trade.reference}-{message.filename}",
        content_type=message.content_type or "application/octet-stream",
    )


# -- the single windows' callback ---------------------------------------------------------------------------


def _refused(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return problem(request, status=status, kind="callback", title=_("Refused"), detail=detail)


@csrf_exempt
@require_POST
def callback(request: HttpRequest, window_id: int) -> HttpResponse:
    """A single window's notification (docs/single-window-protocol.md): signed with the window's secret,
    answered 204 once stored (a worker applies it: answers.apply_soon). 401 for a bad signature; 400 without
    the notification headers."""
    notification_id = (request.headers.get("X-Notification-ID") or "").strip()
    # An inactive window takes no new declaration, but the answers about those it has still come.
    window, stored = queries.window_for_notification(window_id, notification_id)
    if window is None:
        return _refused(request, 404, "no such single window")
    body = request.body
    try:
        hmac_auth.check_request(
            {window.client_id: window.secret}, "POST", request.get_full_path(), request.headers, body
        )
    except hmac_auth.HmacAuthError as exc:
        logger.warning("callback for window %s refused: %s", window_id, exc.reason)
        return _refused(request, 401, exc.reason)
    sequence = (request.headers.get("X-Notification-Sequence") or "").strip()
    if not notification_id or not sequence.isdigit():
        return _refused(request, 400, "X-Notification-ID and X-Notification-Sequence are required")
    answers.receive(
        window,
        answers.Incoming(
            notification_id=notification_id,
            conversation_id=(request.headers.get("X-Conversation-ID") or "").strip(),
            sequence=int(sequence),
            content_type=request.content_type or request.headers.get("Content-Type", ""),
            body=body,
            headers=dict(request.headers),
            via="callback",
        ),
        stored=stored,
    )
    return HttpResponse(status=204)
