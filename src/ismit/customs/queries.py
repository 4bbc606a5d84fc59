"""Reads of the customs app, shared by the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.http import Http404

from ismit.accounts.actors import Actor
from ismit.accounts.models import Membership
from ismit.customs import reasons
from ismit.customs.models import (
    CLOSED_STATUSES,
    Channel,
    CustomsQuery,
    Declaration,
    DeclarationEvent,
    DeclarationStatus,
    ExchangedMessage,
    Procedure,
    QueryStatus,
    SingleWindow,
)
from ismit.documents.data import TRADE_ROW_WIDTH, trade_of_row, trade_values
from ismit.lib import returning
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed
from ismit.lib.scoping import CHANGE, VIEW
from ismit.outbox import ClaimRead
from ismit.outbox.queries import message_for_key
from ismit.trades.models import Direction, GrantScope, Trade
from ismit.trades.queries import grant_for

S = DeclarationStatus
CHANNEL_ORDER = (Channel.WCO_XML, Channel.EDIFACT)  # the default when a country has both


def declaration_country(trade: Trade) -> str:
    """The country whose customs the declaration goes to: of export (loading), or of import (discharge)."""
    place = trade.place_of_loading if trade.direction == Direction.EXPORT else trade.place_of_discharge
    return place.country


def windows_for(trade: Trade) -> list[SingleWindow]:
    """The active single windows that take this trade's declaration, the preferred format first."""
    rows = _ACTIVE_WINDOW_ROWS.rows(
        country=declaration_country(trade),
        procedure=Procedure.EXPORT if trade.direction == Direction.EXPORT else Procedure.IMPORT,
    )
    windows = [instance(SingleWindow, _ACTIVE_WINDOW_FIELDS, row) for row in rows]
    return sorted(windows, key=lambda w: (CHANNEL_ORDER.index(w.connector), w.pk))


_ACTIVE_WINDOW_FIELDS = concrete_attnames(SingleWindow)
# Prepared (lib.prepared): every submission reads them.
_ACTIVE_WINDOW_ROWS = Prepared(
    lambda country, procedure: (
        SingleWindow.objects.filter(
            active=True, country=country, procedure=procedure, connector__in=CHANNEL_ORDER
        )
        .order_by()
        .values_list(*_ACTIVE_WINDOW_FIELDS)
    ),
    text=("country", "procedure"),
)


def get_trade_for(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """A trade with what the customs tab needs (its organisation and places), or Http404. A customs broker
    appointed on the trade sees it."""
    return Trade.objects.select_related("organisation", "place_of_loading", "place_of_discharge").get_for(
        actor, action, pk=pk
    )


def declarations_of_trade(actor: Actor, trade_pk: int, action: str = VIEW) -> QuerySet[Declaration]:
    """Every declaration version of a trade the actor may see, newest first."""
    return (
        Declaration.objects.visible_to(actor, action)
        .filter(trade_id=trade_pk)
        .select_related("window", "submitted_by_organisation", "submitted_by", "document", "corrects")
        .order_by("-version")
    )


def get_declaration_for(actor: Actor, pk: int, action: str = VIEW) -> Declaration:
    return Declaration.objects.select_related(
        "window", "submitted_by_organisation", "submitted_by", "document", "corrects", "trade"
    ).get_for(actor, action, pk=pk)


def get_query_for(
    actor: Actor,
    pk: int,
    *,
    declaration_id: int | None = None,
    trade_pk: int | None = None,
    action: str = VIEW,
) -> CustomsQuery:
    lookup: dict = {"pk": pk}
    if declaration_id is not None:
        lookup["declaration_id"] = declaration_id
    if trade_pk is not None:
        lookup["trade_id"] = trade_pk
    return CustomsQuery.objects.select_related("declaration", "trade", "correction").get_for(
        actor, action, **lookup
    )


def get_message_for(actor: Actor, pk: int, *, trade_pk: int) -> ExchangedMessage:
    return ExchangedMessage.objects.get_for(actor, VIEW, pk=pk, trade_id=trade_pk)


def may_declare(actor: Actor, trade: Trade) -> bool:
    """The actor may submit (and answer queries) for the trade: its owner's member, or its broker's."""
    return actor.can(CHANGE, trade.organisation_id) or grant_for(actor, trade, GrantScope.CUSTOMS) is not None


@dataclass
class Delivery:
    """Where the outbox is with a declaration that is not sent yet."""

    state: str  # pending | sending | delivered | dead | unknown
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: object = None

    @property
    def retrying(self) -> bool:
        return self.state in ("pending", "sending") and self.attempts > 0


def delivery_of(declaration: Declaration) -> Delivery | None:
    if declaration.sent_at is not None:
        return None
    known = getattr(declaration, "_delivery", None)  # set by declaration_submitted, for its answer
    if known is not None:
        return known
    return _delivery(message_for_key(declaration.idempotency_key))


def _delivery(message) -> Delivery:
    if message is None:
        return Delivery(state="unknown")
    return Delivery(
        state=message.status,
        attempts=message.attempts,
        last_error=message.last_error,
        next_attempt_at=message.next_attempt_at,
    )


# -- what a delivery reads (prepared: every declaration is delivered once at least) -----------------------

_DELIVERED_FIELDS = concrete_attnames(Declaration)
_DELIVERED_WINDOW_FIELDS = concrete_attnames(SingleWindow)
_DELIVERED_COLUMNS = (
    *_DELIVERED_FIELDS,
    *(f"window__{name}" for name in _DELIVERED_WINDOW_FIELDS),
    "corrects__conversation_id",
)
_TO_DELIVER_ROWS = Prepared(
    lambda key: (
        Declaration.objects.filter(idempotency_key=key).order_by().values_list(*_DELIVERED_COLUMNS)[:1]
    ),
    text=("key",),
)
_HELD_ROWS = Prepared(
    lambda conversation_id, base_url, client_id: (
        DeclarationEvent.objects.filter(
            declaration__isnull=True,
            conversation_id=conversation_id,
            window__base_url=base_url,
            window__client_id=client_id,
        )
        .order_by()
        .values_list("pk")[:1]
    ),
    text=("conversation_id", "base_url", "client_id"),
)


def declaration_to_deliver(idempotency_key: str) -> tuple[Declaration, str | None] | None:
    """The declaration of an outbox message's key, with its window, and the conversation it corrects (None:
    a first version). Not scoped: the worker delivers whoever's declaration the outbox holds."""
    rows = _TO_DELIVER_ROWS.rows(key=idempotency_key)
    if not rows:
        return None
    row, size = rows[0], len(_DELIVERED_FIELDS)
    declaration = instance(Declaration, _DELIVERED_FIELDS, row[:size])
    declaration.window = instance(SingleWindow, _DELIVERED_WINDOW_FIELDS, row[size:-1])
    return declaration, row[-1]


_DELIVERED = returning.Returning(Declaration)
_DELIVERED_WINDOW = returning.Returning(SingleWindow)


def _delivery_read_sql() -> str:
    return (
        f'SELECT {_DELIVERED.columns()}, {_DELIVERED_WINDOW.columns()}, corrected."conversation_id" '  # noqa: S608 - no values
        'FROM "customs_declaration" INNER JOIN "customs_singlewindow" '
        'ON "customs_singlewindow"."id" = "customs_declaration"."window_id" '
        'LEFT JOIN "customs_declaration" AS corrected '
        'ON corrected."id" = "customs_declaration"."corrects_id" '
        'WHERE "customs_declaration"."idempotency_key" = {key} LIMIT 1'
    )


def _delivery_of(values: tuple) -> tuple[Declaration, str | None] | None:
    if values[0] is None:
        return None
    size = len(_DELIVERED.fields)
    declaration = _DELIVERED.instance(values[:size])
    declaration.window = _DELIVERED_WINDOW.instance(values[size:-1])
    return declaration, values[-1]


#: declaration_to_deliver's read, made by the statement that claims the outbox message (outbox.ClaimRead).
DELIVERY_READ = ClaimRead(
    sql=_delivery_read_sql,
    width=len(_DELIVERED.fields) + len(_DELIVERED_WINDOW.fields) + 1,
    load=_delivery_of,
)


def answers_held_statement(conversation_id: str, base_url: str, client_id: str) -> tuple[str, list]:
    """(SQL, parameters) of answers_held's read, for a statement of a caller's (a row: some are held)."""
    return _HELD_ROWS.statement(conversation_id=conversation_id, base_url=base_url, client_id=client_id)


def answers_held(conversation_id: str, base_url: str, client_id: str) -> bool:
    """Whether answers of this conversation with this endpoint wait for their declaration (they came before
    it was noted)."""
    return bool(_HELD_ROWS.rows(conversation_id=conversation_id, base_url=base_url, client_id=client_id))


@dataclass
class TimelineEntry:
    at: object
    label: str
    badge: str
    detail: str = ""
    applied: bool = True
    sequence: int | None = None
    via: str = ""


@dataclass
class CustomsView:
    """Everything the Customs tab (and the API's declaration answer) shows of a trade."""

    trade: Trade
    declarations: list[Declaration]
    current: Declaration | None
    timeline: list[TimelineEntry]
    open_queries: list[CustomsQuery]
    queries: list[CustomsQuery]
    messages: list[ExchangedMessage]
    delivery: Delivery | None
    windows: list[SingleWindow]
    may_declare: bool
    can_submit: bool
    reasons: list[dict] = field(default_factory=list)


def timeline_of(declarations: list[Declaration], events: list[DeclarationEvent]) -> list[TimelineEntry]:
    """What happened to the trade's declarations, oldest first: each version submitted and sent, then every
    answer (with those that came late, shown as not applied). The answer that gave the newest version its
    status is marked as that status is; what came before it is done (a rejection stays a rejection)."""
    from django.utils.translation import gettext as _

    entries: list[TimelineEntry] = []
    for d in declarations:
        label = (
            _("Version %(version)s submitted (correction)") % {"version": d.version}
            if d.corrects_id
            else _("Version %(version)s submitted") % {"version": d.version}
        )
        who = d.submitted_by_organisation.legal_name if d.submitted_by_organisation_id else ""
        badge = "done" if d.sent_at else "pending"
        entries.append(TimelineEntry(at=d.created_at, label=label, badge=badge, detail=who))
        if d.sent_at:
            entries.append(
                TimelineEntry(
                    at=d.sent_at,
                    label=_("Sent to %(window)s") % {"window": d.window.name},
                    badge="done" if d.last_sequence else "in_progress",
                    detail=d.conversation_id,
                )
            )
    newest = max(declarations, key=lambda d: d.version, default=None)
    for e in events:
        current = newest is not None and e.declaration_id == newest.pk and e.sequence == newest.last_sequence
        if not e.applied:
            badge = "not_needed"
        elif current or e.badge == "rejected":
            badge = e.badge
        else:
            badge = "done"
        entries.append(
            TimelineEntry(
                at=e.received_at,
                label=e.status_label or _("Unreadable answer"),
                badge=badge,
                detail=e.mrn
                if e.status == S.ACCEPTED
                else (e.details or {}).get("question") or reasons.statement(e.details or {}),
                applied=e.applied,
                sequence=e.sequence,
                via=e.via,
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries


def customs_view(actor: Actor, trade: Trade) -> CustomsView:
    declarations = list(declarations_of_trade(actor, trade.pk))
    current = declarations[0] if declarations else None
    events = list(
        DeclarationEvent.objects.visible_to(actor, VIEW)
        .filter(declaration__trade_id=trade.pk)
        .order_by("sequence", "id")
    )
    all_queries = list(
        CustomsQuery.objects.visible_to(actor, VIEW)
        .filter(trade_id=trade.pk)
        .select_related("answered_by", "answered_by_organisation", "correction", "declaration")
        .order_by("-created_at", "-id")
    )
    messages = list(
        ExchangedMessage.objects.visible_to(actor, VIEW).filter(trade_id=trade.pk).order_by("at", "id")
    )
    allowed = may_declare(actor, trade)
    return CustomsView(
        trade=trade,
        declarations=declarations,
        current=current,
        timeline=timeline_of(list(reversed(declarations)), events),
        open_queries=[q for q in all_queries if q.status == QueryStatus.OPEN],
        queries=all_queries,
        messages=messages,
        delivery=delivery_of(current) if current is not None else None,
        windows=windows_for(trade),
        may_declare=allowed,
        can_submit=allowed and (current is None or current.status in CLOSED_STATUSES),
        reasons=reasons.described(current.reasons) if current is not None else [],
    )


def get_trade_to_declare(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """A trade the actor may see, or Http404, read as a submission reads it (documents.data.
    trade_for_documents: parties, terms, places, goods lines) with its declarations, the newest first
    (prefetched as `declarations`): the submission does not read them again before its transaction.
    Two prepared queries (lib.prepared), the trade scoped as every read of a trade is."""
    if not actor.is_authenticated or action not in _TRADE_TO_DECLARE_ROWS:
        raise Http404
    try:
        rows = _TRADE_TO_DECLARE_ROWS[action].rows(user_id=actor.user.pk, trade_id=int(pk))
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not rows:
        raise Http404
    trade = trade_of_row(rows[0])
    roles = rows[0][TRADE_ROW_WIDTH]
    if roles is not None:
        actor.roles_read({int(organisation): role for organisation, role in roles})
    start = TRADE_ROW_WIDTH + 1
    trade._prefetched_objects_cache["declarations"] = [
        instance(Declaration, _DECLARATION_FIELDS, row[start:]) for row in rows if row[start] is not None
    ]
    return trade


def _roles(user_id) -> RawSQL:
    """On PostgreSQL, the user's roles as an array of (organisation, role) pairs in the trade's row (who
    submits is decided on them: not read again); elsewhere NULL, and they are read when asked."""
    if connection.vendor != "postgresql":
        return RawSQL("NULL", (), output_field=TextField())
    table = connection.ops.quote_name(Membership._meta.db_table)
    return RawSQL(  # noqa: S611 - names from the model, the value bound
        f"ARRAY(SELECT ARRAY[m.organisation_id::text, m.role] FROM {table} m WHERE m.user_id = %s)",  # noqa: S608
        (user_id,),
        output_field=TextField(),
    )


def _trade_to_declare_rows(action: str) -> Prepared:
    """The trade with its related rows (documents.data.trade_values) and the user's roles, a row per
    declaration (LEFT JOIN)."""
    return Prepared(
        lambda user_id, trade_id: trade_values(
            Trade.objects.visible_to(Actor.of_user_id(user_id), action)
            .filter(pk=trade_id)
            .annotate(actor_roles=_roles(user_id)),
            "actor_roles",
            *prefixed("declarations", _DECLARATION_FIELDS),
        ).order_by("-declarations__version"),
        "user_id",
        "trade_id",
    )


_DECLARATION_FIELDS = concrete_attnames(Declaration)
_TRADE_TO_DECLARE_ROWS = {action: _trade_to_declare_rows(action) for action in (VIEW, CHANGE)}


def declaration_submitted(declaration: Declaration) -> Declaration:
    """The API's answer to a submission: the declaration just made as it is in memory (with its window,
    submitter, document and outbox message; no answer, query or message can be about it yet), else (the
    one an idempotency key found) read as declaration_detail reads it."""
    if getattr(declaration, "queued_message", None) is None:
        return declaration_detail(declaration)
    declaration._prefetched_objects_cache = {"events": [], "queries": [], "messages": []}
    declaration._delivery = _delivery(declaration.queued_message)
    return declaration


def declaration_detail(declaration: Declaration) -> Declaration:
    """The declaration with its answers, queries and messages loaded (for the API)."""
    return (
        Declaration.objects.filter(pk=declaration.pk)
        .select_related("window", "submitted_by_organisation", "document", "corrects")
        .prefetch_related(
            Prefetch("events", queryset=DeclarationEvent.objects.order_by("sequence", "id")),
            Prefetch("queries", queryset=CustomsQuery.objects.order_by("created_at", "id")),
            Prefetch("messages", queryset=ExchangedMessage.objects.order_by("at", "id")),
        )
        .get()
    )


# -- what an answer's callback reads (prepared: every answer reads them) -------------------------------------

_WINDOW_FIELDS = concrete_attnames(SingleWindow)
_WINDOW_ROWS = Prepared(
    lambda window_id, notification_id: (
        SingleWindow.objects.filter(pk=window_id)
        .annotate(
            stored=Exists(
                # nonempty: the unique index of notifications is partial (lib.lookups)
                ExchangedMessage.objects.filter(
                    window_id=OuterRef("pk"), notification_id=notification_id, notification_id__nonempty=True
                )
            )
        )
        .order_by()
        .values_list(*_WINDOW_FIELDS, "stored")
    ),
    "window_id",
    text=("notification_id",),
)
_STORED_ROWS = Prepared(
    lambda window_id, notification_id: (
        ExchangedMessage.objects.filter(
            window_id=window_id, notification_id=notification_id, notification_id__nonempty=True
        )
        .order_by()
        .values_list("pk")[:1]
    ),
    "window_id",
    text=("notification_id",),
)
_HEAD_ROWS = Prepared(
    lambda conversation_id, base_url, client_id: (
        Declaration.objects.filter(
            conversation_id=conversation_id, window__base_url=base_url, window__client_id=client_id
        )
        .order_by("-version")
        .values_list("pk", "organisation_id", "trade_id")[:1]
    ),
    text=("conversation_id", "base_url", "client_id"),
)


def window_for_notification(window_id: int, notification_id: str) -> tuple[SingleWindow | None, bool]:
    """A single window by its id (not scoped: the callback authenticates it by its secret), and whether its
    notification `notification_id` is stored under its row already: one read for both."""
    rows = _WINDOW_ROWS.rows(window_id=window_id, notification_id=notification_id[:64])
    if not rows:
        return None, False
    *row, stored = rows[0]
    return instance(SingleWindow, _WINDOW_FIELDS, row), bool(stored)


def notification_stored(window_id: int, notification_id: str) -> bool:
    """Whether this endpoint's notification is stored already."""
    return bool(_STORED_ROWS.rows(window_id=window_id, notification_id=notification_id))


def notifications_stored(window_id: int, notification_ids: list[str]) -> set[str]:
    """Which of these notifications of the endpoint are stored already (a page read by polling)."""
    wanted = [n[:64] for n in notification_ids if n]
    if not wanted:
        return set()
    return set(
        ExchangedMessage.objects.filter(
            window_id=window_id, notification_id__in=wanted, notification_id__nonempty=True
        ).values_list("notification_id", flat=True)
    )


def head_of_conversation_ids(window: SingleWindow, conversation_id: str) -> tuple[int, int, int] | None:
    """(id, organisation id, trade id) of the newest declaration version of a conversation with this
    window's endpoint, not locked: where an answer received now belongs."""
    if not conversation_id:
        return None
    rows = _HEAD_ROWS.rows(
        conversation_id=conversation_id, base_url=window.base_url, client_id=window.client_id
    )
    return tuple(rows[0]) if rows else None
