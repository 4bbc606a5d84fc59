"""What the outbox did with a declaration: sent (the conversation noted, the answers that waited for it
attached), or failed."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from ismit import outbox
from ismit.audit.services import events_for_statement, link_soon, record_event
from ismit.audit.services import insert_sql as audit_insert_sql
from ismit.customs import connectors
from ismit.customs.answers import attach_waiting
from ismit.customs.applying import attach_pending
from ismit.customs.checklist import after_status
from ismit.customs.connectors import SendResult
from ismit.customs.models import Declaration, DeclarationStatus
from ismit.customs.queries import answers_held, answers_held_statement
from ismit.lib import returning

S = DeclarationStatus


# -- the send noted ---------------------------------------------------------------------------------------


# The first time a declaration is noted sent (queued, or failed then replayed, and not sent before): its
# conversation and LRN unless it has them, status sent, in one conditional UPDATE (its lock) that returns
# the row, and whether answers of the conversation wait for it (arrived before it was noted).
_SENT = (
    'UPDATE "customs_declaration" SET "sent_at" = %s, '
    '"conversation_id" = COALESCE(NULLIF("customs_declaration"."conversation_id", \'\'), %s), '
    '"lrn" = COALESCE(NULLIF("customs_declaration"."lrn", \'\'), %s), '
    '"status" = %s, "status_at" = %s, "reasons" = \'[]\' '
    'WHERE "customs_declaration"."id" = %s AND "customs_declaration"."sent_at" IS NULL '
    'AND "customs_declaration"."status" IN (%s, %s) '
    'RETURNING {columns}, EXISTS (SELECT 1 FROM "customs_declarationevent" e '
    'INNER JOIN "customs_singlewindow" ew ON ew."id" = e."window_id" '
    'INNER JOIN "customs_singlewindow" dw ON dw."id" = "customs_declaration"."window_id" '
    'WHERE e."declaration_id" IS NULL AND e."conversation_id" = "customs_declaration"."conversation_id" '
    'AND ew."base_url" = dw."base_url" AND ew."client_id" = dw."client_id")'
)
_DECLARATION = returning.Returning(Declaration)


def _note_first_send(declaration: Declaration, result: SendResult, now) -> tuple[Declaration, bool] | None:
    """(the declaration as noted, whether answers wait for it), or None when it is not its first send
    (or the database cannot return an updated row): the caller reads it locked and decides."""
    if not returning.supported():
        return None
    with connection.cursor() as cursor:
        cursor.execute(*_sent_sql(declaration, result, now))
        row = cursor.fetchone()
    return _noted(declaration, row) if row is not None else None


# The first send, as one statement (PostgreSQL): the request and answer stored (always), the declaration
# noted sent as _SENT notes it, and its audit event written if it was.
_SENT_ALONE = (
    "WITH message AS ({messages}), noted AS ({sent}), audited AS ({audit}) "
    "SELECT noted.*, m.ids FROM (SELECT array_agg(id ORDER BY id) AS ids FROM message) AS m "
    "LEFT JOIN noted ON TRUE"
)


def _sent_event(declaration: Declaration, result: SendResult, moved: bool) -> None:
    record_event(
        actor=None,
        organisation_id=declaration.organisation_id,
        action="customs.declaration_sent",
        obj=declaration,
        changes={
            "conversation_id": result.conversation_id,
            "lrn": result.lrn,
            "status_code": result.status_code,
            "request_sha256": result.request.sha256,
            "moved_to_sent": moved,
        },
    )


def _note_first_send_alone(
    declaration: Declaration, result: SendResult, now
) -> tuple[Declaration, bool] | None:
    """_note_first_send with the messages the send left unsaved and the audit event, in one statement (no
    transaction of its own); None when it is not the first send (the messages are stored all the same)."""
    messages = [m for m in (result.request, result.response) if m.pk is None]
    messages_sql, messages_params = (
        connectors.insert_sql(*messages) if messages else ("SELECT NULL::bigint AS id WHERE FALSE", [])
    )
    with events_for_statement() as events:
        _sent_event(declaration, result, True)
    audit_sql, audit_params = audit_insert_sql(events, only_if="EXISTS (SELECT 1 FROM noted)")
    sent_sql, sent_params = _sent_sql(declaration, result, now)
    sql = _SENT_ALONE.format(messages=messages_sql, sent=sent_sql, audit=audit_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*messages_params, *sent_params, *audit_params])
        row = cursor.fetchone()
    connectors.stored(messages, row[-1] or [])
    if row[0] is None:
        return None
    link_soon()
    return _noted(declaration, row[:-1])


def _sent_sql(declaration: Declaration, result: SendResult, now) -> tuple[str, list]:
    adapt = connection.ops.adapt_datetimefield_value
    return _SENT.format(columns=_DECLARATION.columns()), [
        adapt(now),
        result.conversation_id,
        result.lrn,
        S.SENT.value,
        adapt(now),
        declaration.pk,
        S.QUEUED.value,
        S.FAILED.value,
    ]


def _noted(declaration: Declaration, row) -> tuple[Declaration, bool]:
    noted = _DECLARATION.instance(row[:-1])
    if noted.window_id == declaration.window_id and "window" in declaration._state.fields_cache:
        noted.window = declaration.window
    return noted, bool(row[-1])


def record_sent(*, declaration: Declaration, result: SendResult, look_later: bool = False) -> Declaration:
    """The window took the declaration (202): note its conversation, and apply the answers that arrived
    before this was noted (held as pending). The request and answer were stored with the conversation by
    the connector, or are stored here (left unsaved by `send(..., store=False)`).

    On PostgreSQL a first send is one statement (messages, the declaration, its audit event); answers held
    for it are then applied in a transaction of their own. Answers stored meanwhile are looked for once
    this commits; `look_later`: the caller looks for them later (held_answers_look)."""
    alone = connection.vendor == "postgresql"
    if alone:
        noted = _note_first_send_alone(declaration, result, timezone.now())
        if noted is not None:
            declaration, held = noted
            conversation, window = declaration.conversation_id, declaration.window
            if held:
                attach_waiting(conversation, window.base_url, window.client_id)
            elif not look_later:
                _attach_waiting_on_commit(declaration)
            return declaration
    with transaction.atomic():
        connectors.store(result.request, result.response)
        now = timezone.now()
        noted = None if alone else _note_first_send(declaration, result, now)  # alone: it was not the first
        if noted is not None:
            declaration, held = noted
            first = moved = True
        else:
            declaration, first, moved = _note_send(declaration, result, now)
            held = True
        if first:
            _sent_event(declaration, result, moved)
        if held:
            if noted is not None:  # what applying an answer reads, as the long way reads it
                declaration = Declaration.objects.select_related("trade", "window").get(pk=declaration.pk)
            attach_pending(declaration)
        if not look_later:
            _attach_waiting_on_commit(declaration)
    return declaration


def held_answers_look(declaration: Declaration) -> outbox.Then:
    """The look for answers stored while the declaration's send was noted (record_sent(look_later=True)),
    made once the delivery is recorded, by the outbox's statement that records it: held answers found are
    applied then."""
    window = declaration.window
    args = (declaration.conversation_id, window.base_url, window.client_id)
    sql, params = answers_held_statement(*args)

    def then(found) -> None:
        if found is not None:
            attach_waiting(*args)

    return outbox.Then(sql=sql, params=tuple(params), then=then)


def _attach_waiting_on_commit(declaration: Declaration) -> None:
    # An answer stored meanwhile by a callback that did not see this conversation yet (its own look for it,
    # after its commit, came before this commit) is applied once this commits.
    conversation, window = declaration.conversation_id, declaration.window
    transaction.on_commit(
        lambda: _attach_waiting(conversation, window.base_url, window.client_id), robust=True
    )


def _note_send(declaration: Declaration, result: SendResult, now) -> tuple[Declaration, bool, bool]:
    """Note a send that is not the first (a task delivered again) or whose status moved meanwhile, the row
    read locked; (the declaration, whether it was its first send, whether it moved to sent)."""
    declaration = (
        Declaration.objects.select_for_update(of=("self",), no_key=True)
        .select_related("trade", "window")
        .get(pk=declaration.pk)
    )
    fields = {"sent_at": now}
    if not declaration.conversation_id:
        fields["conversation_id"] = result.conversation_id
    if result.lrn and not declaration.lrn:
        fields["lrn"] = result.lrn
    first = declaration.sent_at is None
    # Queued (or failed, then replayed by an operator): now sent. An answer applied meanwhile stays.
    moved = declaration.status in (S.QUEUED, S.FAILED)
    if moved:
        fields.update(status=S.SENT, status_at=now, reasons=[])
    Declaration.objects.filter(pk=declaration.pk).update(**fields)
    for name, value in fields.items():
        setattr(declaration, name, value)
    return declaration, first, moved


def _attach_waiting(conversation_id: str, base_url: str, client_id: str) -> None:
    if answers_held(conversation_id, base_url, client_id):  # most often none: they came after it was noted
        attach_waiting(conversation_id, base_url, client_id)


def record_failed(*, declaration: Declaration, reason: str) -> None:
    """The outbox gave up on the declaration (refused by the window, or too many failed attempts)."""
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(of=("self",), no_key=True)
            .select_related("trade")
            .get(pk=declaration.pk)
        )
        if declaration.status not in (S.QUEUED, S.SENT):
            return
        old = declaration.status
        declaration.status = S.FAILED
        declaration.status_at = timezone.now()
        declaration.reasons = [{"code": "", "text": reason[:500], "item": None, "tag": None, "pointer": ""}]
        declaration.save(update_fields=["status", "status_at", "reasons"])
        after_status(declaration, S.FAILED, event=None)
        record_event(
            actor=None,
            organisation_id=declaration.organisation_id,
            action="customs.declaration_failed",
            obj=declaration,
            changes={"status": [old, S.FAILED], "reason": reason[:500]},
        )
