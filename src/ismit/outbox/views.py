"""The operators' outbox page: messages by status and topic, one message with its attempts, replay."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ismit.lib.errors import error_dict
from ismit.lib.scoping import CHANGE
from ismit.outbox import queries, services
from ismit.outbox.forms import MessageFilterForm
from ismit.outbox.models import Status

PAGE_SIZE = 50
PAYLOAD_PREVIEW_BYTES = 20_000


def _operator_only(request: HttpRequest) -> None:
    if not request.actor.is_operator:
        raise Http404


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    _operator_only(request)
    actor = request.actor
    filters = MessageFilterForm(request.GET or None, topics=queries.topics_visible_to(actor))
    rows = queries.messages_visible_to(actor, status=filters.value("status"), topic=filters.value("topic"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = queries.status_counts(actor)
    return render(
        request,
        "outbox/list.html",
        {
            "filters": filters,
            "page": page,
            "counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
        },
    )


@login_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _operator_only(request)
    message = queries.get_message_for(request.actor, pk)
    payload = bytes(message.payload)
    return render(
        request,
        "outbox/detail.html",
        {
            "message": message,
            "attempts": queries.attempts_of(message),
            "payload_preview": payload[:PAYLOAD_PREVIEW_BYTES].decode("utf-8", errors="replace"),
            "payload_truncated": len(payload) > PAYLOAD_PREVIEW_BYTES,
            "payload_size": len(payload),
        },
    )


@login_required
@require_POST
def message_replay(request: HttpRequest, pk: int) -> HttpResponse:
    _operator_only(request)
    message = queries.get_message_for(request.actor, pk, CHANGE)
    try:
        services.replay_message(actor=request.actor, message=message)
    except ValidationError as exc:
        for errors in error_dict(exc).values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("The message will be delivered again."))
    return redirect("outbox:detail", pk=message.pk)
