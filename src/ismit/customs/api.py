"""JSON API of the customs app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

    POST /api/v1/trades/{trade_id}/declarations                        submit (Idempotency-Key honoured)
    GET  /api/v1/trades/{trade_id}/declarations                        every version, newest first
    GET  /api/v1/declarations/{declaration_id}                         one version, with its answers
    POST /api/v1/declarations/{declaration_id}/queries/{query_id}/answer   answer customs: a correction

A trade or declaration the actor may not see answers 404; a member who may see but not declare (a
read-only member), 403. A declaration already on its way answers 409; compliance errors, 422.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of
from ismit.customs import queries, reasons, services
from ismit.customs.models import CustomsQuery, Declaration, DeclarationEvent, ExchangedMessage
from ismit.lib.api import PagePagination, problem
from ismit.lib.idempotency import HEADER, idempotent

router = Router(tags=["customs"])


class SubmitIn(Schema):
    channel: str | None = Field(
        None, max_length=10, description="wco-xml or edifact; by default the country's preferred format"
    )


class AnswerIn(Schema):
    answer: str = Field("", max_length=2000, description="The answer to customs' question (at most 512 used)")
    description: str | None = Field(
        None, max_length=300, description="A corrected description of the goods line the question is about"
    )


class ReasonOut(Schema):
    code: str = Field(description="The single window's code, as received")
    message: str = Field(description="What it means, in the request's language")
    received: str = Field(description="The text the single window sent")
    item: int | None = Field(description="The goods line it is about")
    field: str = Field(description="The trade field to fix (items[0].hs_code…), or empty")
    pointer: str


class EventOut(Schema):
    sequence: int
    notification_id: str
    status: str
    mrn: str
    applied: bool = Field(description="False: it came late, after a later answer, and changed nothing")
    via: str = Field(description="callback or poll")
    arrivals: int
    received_at: dt.datetime
    sha256: str

    @staticmethod
    def resolve_sha256(obj: DeclarationEvent) -> str:
        return obj.message.sha256


class QueryOut(Schema):
    id: int
    declaration_id: int
    text: str
    item_no: int | None
    limit_at: dt.datetime | None
    status: str = Field(description="open, answered or closed")
    answer: str
    answered_at: dt.datetime | None
    correction_id: int | None
    answer_url: str

    @staticmethod
    def resolve_answer_url(obj: CustomsQuery) -> str:
        return reverse(
            "api:declaration_query_answer", kwargs={"declaration_id": obj.declaration_id, "query_id": obj.pk}
        )


class MessageOut(Schema):
    id: int
    direction: str = Field(description="out (sent) or in (received)")
    kind: str
    method: str
    path: str
    status_code: int | None
    content_type: str
    sha256: str
    size: int
    error: str
    at: dt.datetime


class DeliveryOut(Schema):
    state: str = Field(description="pending, sending, delivered or dead (the outbox message)")
    attempts: int
    retrying: bool = Field(description="Queued, will retry: an attempt failed and another one is due")
    last_error: str
    next_attempt_at: dt.datetime | None


class DeclarationOut(Schema):
    id: int
    trade_id: int
    version: int
    corrects_id: int | None
    kind: str
    procedure: str
    channel: str
    window: str
    status: str
    status_label: str
    status_at: dt.datetime
    lrn: str
    mrn: str
    conversation_id: str
    submitted_by_organisation: str
    document_id: int | None
    document_url: str | None
    reasons: list[ReasonOut]
    delivery: DeliveryOut | None
    sent_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_window(obj: Declaration) -> str:
        return obj.window.name

    @staticmethod
    def resolve_status_label(obj: Declaration) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_submitted_by_organisation(obj: Declaration) -> str:
        return obj.submitted_by_organisation.legal_name

    @staticmethod
    def resolve_document_url(obj: Declaration) -> str | None:
        if not obj.document_id:
            return None
        return reverse("api:document_content", kwargs={"document_id": obj.document_id})

    @staticmethod
    def resolve_reasons(obj: Declaration) -> list[dict]:
        return reasons.described(obj.reasons)

    @staticmethod
    def resolve_delivery(obj: Declaration):
        return queries.delivery_of(obj)


class DeclarationDetailOut(DeclarationOut):
    events: list[EventOut]
    queries: list[QueryOut]
    messages: list[MessageOut]

    @staticmethod
    def resolve_events(obj: Declaration) -> list[DeclarationEvent]:
        return list(obj.events.all())

    @staticmethod
    def resolve_queries(obj: Declaration) -> list[CustomsQuery]:
        return list(obj.queries.all())

    @staticmethod
    def resolve_messages(obj: Declaration) -> list[ExchangedMessage]:
        return list(obj.messages.all())


def _conflict(request, exc: services.DeclarationConflict):
    return problem(
        request,
        status=409,
        kind="conflict",
        title=_("Conflict"),
        detail=" ".join(exc.messages),
    )


@router.post(
    "/trades/{int:trade_id}/declarations", response={201: DeclarationDetailOut}, url_name="trade_declarations"
)
@idempotent
def submit_declaration(request, trade_id: int, payload: SubmitIn | None = None):
    """Send the trade's declaration to its country's single window (queued: a worker delivers it)."""
    actor = actor_of(request)
    trade = queries.get_trade_to_declare(actor, trade_id)
    try:
        declaration = services.submit_declaration(
            actor=actor,
            trade=trade,
            channel=(payload.channel if payload else None) or None,
            idempotency_key=request.headers.get(HEADER),
            loaded=True,
        )
    except services.DeclarationConflict as exc:
        return _conflict(request, exc)
    return queries.declaration_submitted(declaration)


@router.get("/trades/{int:trade_id}/declarations", response=list[DeclarationOut])
@paginate(PagePagination)
def list_declarations(request, trade_id: int):
    """Every declaration version of the trade (corrections included), newest first."""
    actor = actor_of(request)
    trade = queries.get_trade_for(actor, trade_id)
    return queries.declarations_of_trade(actor, trade.pk)


@router.get("/declarations/{int:declaration_id}", response=DeclarationDetailOut, url_name="declaration")
def get_declaration(request, declaration_id: int):
    """One declaration version with every answer of the single window, the queries and the messages."""
    declaration = queries.get_declaration_for(actor_of(request), declaration_id)
    return queries.declaration_detail(declaration)


@router.post(
    "/declarations/{int:declaration_id}/queries/{int:query_id}/answer",
    response={201: DeclarationDetailOut},
    url_name="declaration_query_answer",
)
@idempotent
def answer_query(request, declaration_id: int, query_id: int, payload: AnswerIn):
    """Answer customs' question: sends a correction (a new version) referencing the original."""
    actor = actor_of(request)
    query = queries.get_query_for(actor, query_id, declaration_id=declaration_id)
    try:
        correction = services.answer_query(
            actor=actor, query=query, answer=payload.answer, description=payload.description
        )
    except services.DeclarationConflict as exc:
        return _conflict(request, exc)
    return queries.declaration_detail(correction)
