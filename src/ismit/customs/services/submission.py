"""Submitting a declaration (who submits, to which window, the trade locked and the writes of one
submission), and answering a customs query with a correction."""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation
from ismit.audit.services import batched_events, record_event
from ismit.compliance.check import run_check
from ismit.customs.checklist import STEP_CODES, STEP_FIELDS, move_step
from ismit.customs.connectors import CONNECTORS, connector_for
from ismit.customs.models import (
    CLOSED_STATUSES,
    Channel,
    CustomsQuery,
    Declaration,
    DeclarationStatus,
    QueryStatus,
    SingleWindow,
)
from ismit.customs.queries import declaration_country, windows_for
from ismit.documents.data import trade_for_documents
from ismit.documents.generators.wco import default_lrn
from ismit.documents.models import IssuedDocument, SigningKey
from ismit.documents.queries import read_content
from ismit.documents.services import (
    LANGUAGES,
    USABLE_KEY_STATUSES,
    PreparedIssue,
    discard_stored,
    issue_documents,
    key_revoked,
    prepare_issue,
    store_issue,
    usable_key,
)
from ismit.lib.errors import FieldErrors, error_dict
from ismit.lib.prepared import (
    Prepared,
    concrete_attnames,
    converted,
    instance,
    prefixed,
    row_converters,
    split,
)
from ismit.lib.rows import (
    deferred,
    insert_objects,
)
from ismit.lib.scoping import CHANGE
from ismit.outbox.models import OutboxMessage
from ismit.outbox.services import enqueue
from ismit.trades.models import ChecklistStep, Direction, GoodsItem, GrantScope, StepStatus, Trade
from ismit.trades.queries import grant_for
from ismit.trades.services import (
    GoodsItemData,
    save_moved_steps,
    update_goods_item,
)

_UNREAD = object()  # a _Locked's step: not read with the lock (read by _locked_step)

TOPIC = "customs.declaration"
S = DeclarationStatus
PROCEDURE_CODES = {Direction.EXPORT: "1040", Direction.IMPORT: "4000"}  # DE 1/10, as the WCO generator writes
MAX_ANSWER = 512  # characters of an answer to a query (WCO StatementDescription an..512)


class DeclarationConflict(ValidationError):
    """A declaration of the trade is already on its way (answer 409)."""


# -- who submits ----------------------------------------------------------------------------------------


def submitter_for(actor: Actor, trade: Trade) -> Organisation:
    """The organisation that submits in its own name: the trade's owner (a member who may change it), or
    the customs broker appointed on the trade. PermissionDenied for anyone else."""
    if actor.can(CHANGE, trade.organisation_id):
        return trade.organisation  # read with the trade by the views, else read now
    grant = grant_for(actor, trade, GrantScope.CUSTOMS)
    if grant is None:
        raise PermissionDenied(
            _("Only the trade's organisation or its appointed customs broker may declare it.")
        )
    return grant.organisation


def _require_verified(organisation: Organisation) -> None:
    if not organisation.can_submit_to_third_parties:
        raise ValidationError(
            {
                "__all__": [
                    _(
                        "%(org)s is not verified yet: declarations can be sent to customs only once an "
                        "operator has verified the organisation."
                    )
                    % {"org": organisation.legal_name}
                ]
            }
        )


# -- windows ---------------------------------------------------------------------------------------------


def choose_window(trade: Trade, channel: str | None) -> SingleWindow:
    windows = windows_for(trade)
    if channel:
        windows = [w for w in windows if w.connector == channel]
    if windows:
        return windows[0]
    country = declaration_country(trade)
    if channel:
        message = _("No single window of %(country)s takes declarations as %(format)s.") % {
            "country": country,
            "format": Channel(channel).label if channel in Channel.values else channel,
        }
        raise ValidationError({"channel": [message]})
    raise ValidationError(
        {
            "__all__": [
                _("No single window is configured for %(country)s yet: ask the platform operator.")
                % {"country": country}
            ]
        }
    )


# -- submitting ------------------------------------------------------------------------------------------


def current_declaration(trade: Trade) -> Declaration | None:
    """The trade's newest declaration version (not scoped: for the services)."""
    return Declaration.objects.filter(trade_id=trade.pk).order_by("-version").first()


_DECLARATION_FIELDS = concrete_attnames(Declaration)
# Prepared (lib.prepared): every submission reads them, before its transaction and under the trade's lock.
_DECLARATION_ROWS = Prepared(
    lambda trade_id: (
        Declaration.objects.filter(trade_id=trade_id).order_by("-version").values_list(*_DECLARATION_FIELDS)
    ),
    "trade_id",
)
_LOCKED_TRADE_ROWS = Prepared(
    # The trade locked with its declarations joined (one row with NULLs when it has none), and whether the
    # document's signing key is still usable: the lock taken and what it protects read in one statement.
    # Only the trade is locked (OF), never a declaration.
    lambda trade_id, key_id: (
        Trade.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=trade_id)
        .annotate(key_usable=Exists(usable_key(key_id)))
        .order_by("-declarations__version")
        .values_list("status", "key_usable", *prefixed("declarations", _DECLARATION_FIELDS))
    ),
    "trade_id",
    "key_id",
)
_LOCKED_STEP_ROWS = Prepared(
    lambda trade_id, code: (
        ChecklistStep.objects.select_for_update()
        .filter(trade_id=trade_id, code=code)
        .order_by()
        .values_list(*STEP_FIELDS)[:1]
    ),
    "trade_id",
    text=("code",),
)


def _declarations_of(trade: Trade) -> list[Declaration]:
    """The trade's declarations, the newest version first (a trade has a few at most); as prefetched with
    the trade (customs.queries.get_trade_to_declare), else read."""
    prefetched = getattr(trade, "_prefetched_objects_cache", {}).get("declarations")
    if prefetched is not None:
        return sorted(prefetched, key=lambda d: d.version, reverse=True)
    return [
        instance(Declaration, _DECLARATION_FIELDS, row) for row in _DECLARATION_ROWS.rows(trade_id=trade.pk)
    ]


def _lock_trade(trade: Trade, prepared: PreparedIssue) -> tuple[list[Declaration], bool]:
    """Lock the trade's row for the caller's transaction (one submission of a trade at a time) and read
    under that lock its declarations, the newest first, and whether the prepared document's signing key is
    still usable (documents.services.store_issue); notes the trade's status as it is now."""
    rows = _LOCKED_TRADE_ROWS.rows(trade_id=trade.pk, key_id=prepared.key.pk)
    if not rows:
        raise Trade.DoesNotExist(f"no trade {trade.pk}")
    trade.status, key_usable = rows[0][0], bool(rows[0][1])
    declarations = [instance(Declaration, _DECLARATION_FIELDS, row[2:]) for row in rows if row[2] is not None]
    return declarations, key_usable


_DOCUMENT_FIELDS = concrete_attnames(IssuedDocument)
_RESERVED = (IssuedDocument, Declaration, OutboxMessage)  # the rows a submission inserts: ids reserved


@dataclass
class _Locked:
    """What a submission reads under the trade's lock (_lock_for_submission)."""

    declarations: list[Declaration]  # the newest first
    key_usable: bool
    step: ChecklistStep | object | None = _UNREAD  # the declaration's checklist step, locked
    previous: dict | None = None  # (kind, format) -> the document's newest version, locked (store_issue)
    ids: dict = field(default_factory=dict)  # model -> ids reserved for its new rows (lib.rows.deferred)


def _columns(alias: str, model: type, attnames) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(model._meta.get_field(name).column)}" for name in attnames)


@functools.cache
def _submission_lock_sql() -> str:
    """PostgreSQL: the trade locked with its declarations joined (one row with NULLs when it has none),
    whether the signing key is still usable, the declaration's checklist step and the newest version of
    its document (each locked: FOR UPDATE inside its LATERAL), and the ids of the rows the submission
    will insert (nextval, once): the lock and all that the write needs in one statement. Only the trade,
    the step and the document are locked, never a declaration."""
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def next_id(model) -> str:
        return f"nextval(pg_get_serial_sequence('{model._meta.db_table}', '{model._meta.pk.column}'))"

    key = SigningKey._meta
    return (
        f"WITH ids AS MATERIALIZED (SELECT {', '.join(next_id(m) for m in _RESERVED)}) "  # noqa: S608 - model names
        f"SELECT t.{quote('status')}, EXISTS(SELECT 1 FROM {table(SigningKey)} k "
        f"WHERE k.{quote(key.pk.column)} = %s AND k.{quote('status')} = ANY(%s)), ids.*, "
        f"{_columns('s', ChecklistStep, STEP_FIELDS)}, {_columns('p', IssuedDocument, _DOCUMENT_FIELDS)}, "
        f"{_columns('d', Declaration, _DECLARATION_FIELDS)} "
        f"FROM {table(Trade)} t CROSS JOIN ids "
        f"LEFT JOIN LATERAL (SELECT * FROM {table(ChecklistStep)} WHERE trade_id = t.id AND code = %s "
        f"LIMIT 1 FOR UPDATE) s ON TRUE "
        f"LEFT JOIN LATERAL (SELECT * FROM {table(IssuedDocument)} WHERE trade_id = t.id AND kind = %s "
        f"AND format = %s ORDER BY version DESC LIMIT 1 FOR UPDATE) p ON TRUE "
        f"LEFT JOIN {table(Declaration)} d ON d.trade_id = t.id "
        f"WHERE t.id = %s ORDER BY d.version DESC FOR NO KEY UPDATE OF t"
    )


@functools.cache
def _submission_converters() -> tuple[list, list, list]:
    return (
        row_converters(ChecklistStep, STEP_FIELDS),
        row_converters(IssuedDocument, _DOCUMENT_FIELDS),
        row_converters(Declaration, _DECLARATION_FIELDS),
    )


def _lock_for_submission(trade: Trade, prepared: PreparedIssue, step_code: str) -> _Locked:
    """Lock the trade's row for the caller's transaction (one submission of a trade at a time) and read
    under that lock its declarations, the newest first, and whether the prepared document's signing key is
    still usable (documents.services.store_issue); notes the trade's status as it is now. On PostgreSQL,
    one statement that also locks and reads the step and the document's previous version and reserves the
    new rows' ids (_submission_lock_sql)."""
    if connection.vendor != "postgresql":
        declarations, key_usable = _lock_trade(trade, prepared)
        return _Locked(declarations=declarations, key_usable=key_usable)
    generator = prepared.signed[0][0]
    with connection.cursor() as cursor:
        cursor.execute(
            _submission_lock_sql(),
            [
                prepared.key.pk,
                list(USABLE_KEY_STATUSES),
                step_code,
                generator.kind,
                generator.format,
                trade.pk,
            ],
        )
        rows = cursor.fetchall()
    if not rows:
        raise Trade.DoesNotExist(f"no trade {trade.pk}")
    first = rows[0]
    trade.status, key_usable = first[0], bool(first[1])
    ids = {model: [first[2 + n]] for n, model in enumerate(_RESERVED)}
    step_conv, document_conv, declaration_conv = _submission_converters()
    step_row, document_row, _ = split(
        first[2 + len(_RESERVED) :], len(STEP_FIELDS), len(_DOCUMENT_FIELDS), len(_DECLARATION_FIELDS)
    )
    step = None
    if step_row[0] is not None:
        step = instance(ChecklistStep, STEP_FIELDS, converted(step_row, step_conv))
        ChecklistStep.trade.field.set_cached_value(step, trade)
    document = None
    if document_row[0] is not None:
        document = instance(IssuedDocument, _DOCUMENT_FIELDS, converted(document_row, document_conv))
    width = 2 + len(_RESERVED) + len(STEP_FIELDS) + len(_DOCUMENT_FIELDS)
    declarations = [
        instance(Declaration, _DECLARATION_FIELDS, converted(row[width:], declaration_conv))
        for row in rows
        if row[width] is not None
    ]
    return _Locked(
        declarations=declarations,
        key_usable=key_usable,
        step=step,
        previous={(generator.kind, generator.format): document},
        ids=ids,
    )


def _locked_step(trade: Trade, code: str) -> ChecklistStep | None:
    """The trade's step `code`, locked for the caller's transaction (with the trade given)."""
    rows = _LOCKED_STEP_ROWS.rows(trade_id=trade.pk, code=code)
    if not rows:
        return None
    step = instance(ChecklistStep, STEP_FIELDS, rows[0])
    ChecklistStep.trade.field.set_cached_value(step, trade)
    return step


def _with_key(declarations: list[Declaration], key: str) -> Declaration | None:
    return next((d for d in declarations if d.idempotency_key == key), None)


def _in_flight(current: Declaration | None) -> DeclarationConflict | None:
    """The conflict of a submission while the trade's newest declaration is on its way, if it is."""
    if current is None or current.status in CLOSED_STATUSES:
        return None
    if current.status in (S.CLEARED, S.GOODS_EXITED):
        message = _("This trade's declaration was released by customs already.")
    else:
        message = _(
            "A declaration of this trade is already with customs (%(status)s): follow it, or answer "
            "its query."
        ) % {"status": current.get_status_display()}
    return DeclarationConflict({"__all__": [message]})


def _refuse_in_flight(current: Declaration | None) -> None:
    conflict = _in_flight(current)
    if conflict is not None:
        raise conflict


def _refuse_check_errors(trade: Trade, language: str) -> None:
    result = run_check(trade, language=language)
    if not result.has_errors:
        return
    errors = FieldErrors()
    for finding in result.findings:
        if finding.severity == "error":
            errors.add(finding.field or "__all__", finding.message)
    errors.raise_if_any()


def _language() -> str:
    language = (translation.get_language() or "en")[:2]
    return language if language in LANGUAGES else "en"


def _key_for(trade: Trade, idempotency_key: str | None) -> str:
    if not idempotency_key:
        return f"customs-{uuid.uuid4().hex}"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"customs-t{trade.pk}-{digest}"


def _issue(actor: Actor, trade: Trade, channel: str, lrn: str):
    """The declaration document, issued (signed, a new version) by the documents app with the LRN given, and
    its bytes."""
    connector = connector_for(channel)
    # The caller ran the compliance check (_refuse_check_errors): issue_documents need not run it again.
    document = issue_documents(
        actor=actor,
        trade=trade,
        kinds=[connector.document_kind],
        language=_language(),
        checked=True,
        declaration_reference=lrn,
    )[0]
    return document, read_content(document)


def _enqueue(declaration: Declaration, body: bytes, *, fresh_key: bool = False) -> OutboxMessage:
    connector = connector_for(declaration.channel)
    headers = {"Content-Type": connector.content_type}
    if declaration.corrects_id:
        headers["X-Correction-Of"] = declaration.conversation_id
    return enqueue(
        topic=TOPIC,
        payload=body,
        idempotency_key=declaration.idempotency_key,
        organisation_id=declaration.organisation_id,
        headers=headers,
        target=declaration.window.url(connector.path),
        fresh_key=fresh_key,
    )


def _write_declaration(
    *,
    actor: Actor,
    trade: Trade,
    submitter: Organisation,
    window: SingleWindow,
    version: int,
    key: str,
    prepared: PreparedIssue,
    body: bytes,
    locked: _Locked,
) -> Declaration:
    """What a submission writes, under the trade's lock (its signing key found usable under it): the
    document, the declaration, its audit event, the checklist step and the outbox message (with it on the
    declaration, as `queued_message`)."""
    document = store_issue(prepared, key_usable=True, previous=locked.previous)[0]
    now = timezone.now()
    declaration = Declaration(
        trade=trade,
        organisation_id=trade.organisation_id,
        submitted_by_organisation=submitter,
        submitted_by=actor.user,
        window=window,
        kind=trade.direction,
        procedure=PROCEDURE_CODES.get(trade.direction, ""),
        channel=window.connector,
        document=document,
        version=version,
        lrn=default_lrn(trade.reference, version),
        status=S.QUEUED,
        status_at=now,
        idempotency_key=key,
        created_at=now,
    )
    insert_objects([declaration])
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="customs.declaration_submitted",
        obj=declaration,
        changes={
            "trade": trade.reference,
            "version": version,
            "window": window.pk,
            "channel": window.connector,
            "submitted_by": submitter.legal_name,
            "document": document.pk,
            "sha256": document.sha256,
            "idempotency_key": key,
        },
    )
    code = STEP_CODES[trade.direction][0]
    step = _locked_step(trade, code) if locked.step is _UNREAD else locked.step
    if move_step(
        trade_id=trade.pk,
        code=code,
        status=StepStatus.IN_PROGRESS,
        note=_("Sent to customs (%(window)s).") % {"window": window.name},
        organisation=submitter,
        actor=actor,
        step=step,
        locked=True,
    ):
        save_moved_steps([step])
    # The declaration's key is unique: no savepoint.
    declaration.queued_message = _enqueue(declaration, body, fresh_key=True)
    return declaration


def submit_declaration(
    *,
    actor: Actor,
    trade: Trade,
    channel: str | None = None,
    idempotency_key: str | None = None,
    loaded: bool = False,
) -> Declaration:
    """Send the trade's declaration to its country's single window.

    Checks who submits (the owner, or the appointed customs broker in its own name) and that it is
    verified, that no declaration of the trade is on its way (DeclarationConflict), and that the
    compliance check reports no error; renders and signs the declaration document; then, in one
    transaction, stores the document and writes the declaration (queued), its outbox message, the audit
    events and the checklist step. A second call with the same `idempotency_key` returns the declaration
    the first one made. `loaded`: the trade was just read by documents.data.trade_for_documents (or its
    scoped form), and is not read again.

    A declaration made here is returned with its window, submitter, document and outbox message
    (`queued_message`): what the API answers, without reading it again.
    """
    submitter = submitter_for(actor, trade)
    key = _key_for(trade, idempotency_key)
    declarations = _declarations_of(trade)
    existing = _with_key(declarations, key) if idempotency_key else None
    if existing is not None:
        return existing
    _require_verified(submitter)
    if channel and channel not in CONNECTORS:
        raise ValidationError({"channel": [_("Choose WCO XML or UN/EDIFACT.")]})
    window = choose_window(trade, channel)
    _refuse_in_flight(declarations[0] if declarations else None)
    # Read once for the compliance check and the document: parties, terms, places and goods lines.
    if not loaded:
        trade = trade_for_documents(trade.pk)
    _refuse_check_errors(trade, _language())
    # A new declaration after a rejection has an LRN of its own (a window refuses one used again).
    version = (declarations[0].version if declarations else 0) + 1
    # The caller ran the compliance check (_refuse_check_errors): prepare_issue need not run it again.
    prepared = prepare_issue(
        actor=actor,
        trade=trade,
        kinds=[connector_for(window.connector).document_kind],
        language=_language(),
        checked=True,
        organisation=submitter,  # the trade's own organisation, unless a broker submits
        loaded=True,
        declaration_reference=default_lrn(trade.reference, version) if version > 1 else "",
    )
    body = prepared.signed[0][1].data  # the signed declaration, as stored and as sent
    try:
        # The audit events of the transaction are written in one statement at its end (batched_events). No
        # savepoint inside a caller's transaction (the API's, under an idempotency key): what refuses the
        # submission under the lock (a declaration on its way, the key revoked meanwhile) is raised once the
        # block is left, nothing written; any other error fails the caller's transaction with it.
        with transaction.atomic(savepoint=False):
            # One submission at a time.
            locked = _lock_for_submission(trade, prepared, STEP_CODES[trade.direction][0])
            declarations = locked.declarations
            existing = _with_key(declarations, key) if idempotency_key else None
            refusal = None if existing is not None else _in_flight(declarations[0] if declarations else None)
            if existing is None and refusal is None and not locked.key_usable:
                refusal = key_revoked()
            if (
                existing is None
                and refusal is None
                and version != (declarations[0].version if declarations else 0) + 1
            ):
                refusal = DeclarationConflict(
                    {"__all__": [_("Another declaration of this trade came in meanwhile.")]}
                )
            if existing is None and refusal is None:
                # On PostgreSQL every row of the write goes in one statement at the end (lib.rows.deferred).
                with deferred(ids=locked.ids), batched_events(write=insert_objects):
                    declaration = _write_declaration(
                        actor=actor,
                        trade=trade,
                        submitter=submitter,
                        window=window,
                        version=version,
                        key=key,
                        prepared=prepared,
                        body=body,
                        locked=locked,
                    )
    except BaseException:
        discard_stored(prepared)
        raise
    if existing is not None:
        return existing
    if refusal is not None:
        raise refusal
    return declaration


# -- queries and corrections ------------------------------------------------------------------------------


def answer_query(
    *, actor: Actor, query: CustomsQuery, answer: str, description: str | None = None
) -> Declaration:
    """Answer customs' question: a correction (a new declaration version that `corrects` the queried one
    and continues its conversation, sent with X-Correction-Of), carrying the answer and the trade's data as
    they are now. `description` first amends the queried goods line (the trade's owner only)."""
    answer = " ".join((answer or "").split())
    errors = FieldErrors()
    if not answer and not (description or "").strip():
        errors.add("answer", _("Answer the question, or correct the goods description."))
    if len(answer) > MAX_ANSWER:
        errors.add("answer", _("Use at most %(max)s characters.") % {"max": MAX_ANSWER})
    errors.raise_if_any()
    original = Declaration.objects.select_related("window", "trade").get(pk=query.declaration_id)
    trade = Trade.objects.select_related("place_of_loading", "place_of_discharge").get(pk=original.trade_id)
    submitter = submitter_for(actor, trade)
    _require_verified(submitter)
    _refuse_unanswerable(query, original)
    if description is not None and description.strip():
        _amend_description(actor=actor, trade=trade, query=query, description=description)
    _refuse_check_errors(trade, _language())
    document, body = _issue(actor, trade, original.channel, original.lrn)
    if answer:
        body = connector_for(original.channel).with_explanation(body, answer)
    with transaction.atomic():
        Trade.objects.select_for_update().filter(pk=trade.pk).first()
        query = CustomsQuery.objects.select_for_update().get(pk=query.pk)
        original = Declaration.objects.select_related("window").get(pk=original.pk)
        _refuse_unanswerable(query, original)
        declarations = _declarations_of(trade)
        version = (declarations[0].version if declarations else 0) + 1
        now = timezone.now()
        correction = Declaration.objects.create(
            trade=trade,
            organisation_id=trade.organisation_id,
            submitted_by_organisation=submitter,
            submitted_by=actor.user,
            window=original.window,
            kind=original.kind,
            procedure=original.procedure,
            channel=original.channel,
            document=document,
            version=version,
            corrects=original,
            lrn=original.lrn,
            # The window answers a correction under the original's conversation: its answers apply here.
            conversation_id=original.conversation_id,
            mrn=original.mrn,
            last_sequence=original.last_sequence,
            status=S.QUEUED,
            status_at=now,
            idempotency_key=_key_for(trade, None),
            created_at=now,
        )
        query.status = QueryStatus.ANSWERED
        query.answer = answer
        query.answered_by = actor.user
        query.answered_by_organisation = submitter
        query.answered_at = now
        query.correction = correction
        query.save(
            update_fields=[
                "status",
                "answer",
                "answered_by",
                "answered_by_organisation",
                "answered_at",
                "correction",
            ]
        )
        _enqueue(correction, body)
        record_event(
            actor=actor,
            organisation_id=trade.organisation_id,
            action="customs.query_answered",
            obj=query,
            changes={
                "trade": trade.reference,
                "declaration": original.pk,
                "correction": correction.pk,
                "version": version,
                "answer": answer,
                "description_amended": bool((description or "").strip()),
                "document": document.pk,
            },
        )
    return correction


def _refuse_unanswerable(query: CustomsQuery, original: Declaration) -> None:
    if query.status != QueryStatus.OPEN:
        raise DeclarationConflict({"__all__": [_("This question has been answered already.")]})
    newest = current_declaration(original.trade)
    if (
        newest is None
        or newest.pk != original.pk
        or original.status != S.QUERY
        or not original.conversation_id
    ):
        raise DeclarationConflict({"__all__": [_("Customs no longer waits for an answer to this question.")]})


def _amend_description(*, actor: Actor, trade: Trade, query: CustomsQuery, description: str) -> None:
    if not actor.can(CHANGE, trade.organisation_id):
        raise PermissionDenied(_("Only the trade's organisation may change its goods lines."))
    line = query.item_no or 1
    goods = GoodsItem.objects.select_related("trade").filter(trade_id=trade.pk, line_no=line).first()
    if goods is None:
        goods = (
            GoodsItem.objects.select_related("trade")
            .filter(trade_id=trade.pk)
            .order_by("line_no")[max(line - 1, 0) : line]
            .first()
        )
    if goods is None:
        raise ValidationError({"description": [_("The trade has no such goods line.")]})
    item = GoodsItemData(
        description=description.strip(),
        hs_code=goods.hs_code_id,
        origin_country=goods.origin_country_id,
        quantity=goods.quantity,
        unit=goods.unit_id,
        packages_count=goods.packages_count,
        package_type=goods.package_type_id,
        net_mass_kg=goods.net_mass_kg,
        gross_mass_kg=goods.gross_mass_kg,
        unit_price=goods.unit_price,
    )
    try:
        with transaction.atomic():
            update_goods_item(actor=actor, goods=goods, item=item)
    except ValidationError as exc:
        raise ValidationError({"description": [m for ms in error_dict(exc).values() for m in ms]})
