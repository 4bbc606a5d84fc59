"""The single window's answers: read them (WCO RES XML, CUSRES interchanges, JSON), store each one once, and
have it applied — by callback (views.callback) or by polling (poll_window), the same way.

    receive(window, Incoming(...)) -> DeclarationEvent | None

Each notification is stored once (ExchangedMessage, its body and SHA-256 in the row) with its answer
(DeclarationEvent, pending): a second arrival of a notification id only counts the arrival. A worker applies
the answers waiting (tasks.apply_answers_task, sent by apply_soon; the beat's polling pass catches up on a
lost task), each declaration's under its lock in the order the window issued them
(X-Notification-Sequence): a late one is kept but changes nothing, and a final status never changes
(applying.apply_pending_answers, applying.apply_event). An answer that arrives before the platform noted
the conversation it belongs to (the window answers fast) is held, and applied when the conversation is
noted.

JSON answers (FX settlement reports, VAT refund claims) go to the handler registered for their "kind":

    register_answer_handler("fx_settlement", func)    # func(window, payload: dict, notification_id: str)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from lxml import etree

from ismit.customs import applying, queries
from ismit.customs.connectors import get_json, record_message
from ismit.customs.models import (
    FINAL_STATUSES,
    Declaration,
    DeclarationEvent,
    DeclarationStatus,
    Direction,
    ExchangedMessage,
    SingleWindow,
)
from ismit.customs.reasons import item_in_question
from ismit.lib.prepared import concrete_attnames, instance

logger = logging.getLogger("ismit.customs")
S = DeclarationStatus

# -- reading ------------------------------------------------------------------------------------------------

RES = {
    "md": "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2",
    "r": "urn:wco:datamodel:WCO:RES-DMS:2",
    "rds": "urn:wco:datamodel:WCO:Response_DS:DMS:2",
}
# WCO RES Response/FunctionCode -> status (as the UK's DMS notifications use them; 17 is the protocol's
# query, docs/single-window-protocol.md).
FUNCTION_CODES = {
    "01": S.ACCEPTED,
    "02": S.RECEIVED,
    "03": S.REJECTED,
    "05": S.CONTROL,
    "06": S.DOCUMENTS_REQUIRED,
    "09": S.CLEARED,
    "16": S.GOODS_EXITED,
    "17": S.QUERY,
}
# parse_cusres's status names -> ours.
CUSRES_STATUSES = {
    "received": S.RECEIVED,
    "accepted": S.ACCEPTED,
    "rejected": S.REJECTED,
    "query": S.QUERY,
    "documents_required": S.DOCUMENTS_REQUIRED,
    "examination": S.CONTROL,
    "released": S.CLEARED,
    "exited": S.GOODS_EXITED,
}
# The window's codes for what it says beside a status (why a check, the exit): not errors.
STATEMENT_CODE = re.compile(r"NSW3\d{4}")
QUERY_CODE = "NSW90001"  # the CUSRES error code that carries a query's question


@dataclass
class Answer:
    """What one notification says about a declaration."""

    status: str = ""
    raw_code: str = ""
    mrn: str = ""
    lrn: str = ""
    version: int | None = None
    reasons: list[dict] = field(default_factory=list)
    question: str = ""
    text: str = ""
    code: str = ""  # the window's code for `text` (a check's reason, the exit), which pages translate
    item: int | None = None
    limit_at: str = ""

    def details(self) -> dict:
        return {
            "reasons": self.reasons,
            "question": self.question,
            "text": self.text,
            "code": self.code,
            "item": self.item,
            "limit_at": self.limit_at,
            "lrn": self.lrn,
            "version": self.version,
        }


def _stamp(element) -> str:
    """An ISO datetime from a WCO DateTimeString (format 304, YYYYMMDDhhmmssZ), or ""."""
    text = element.findtext("rds:DateTimeString", namespaces=RES) if element is not None else None
    try:
        return (
            dt.datetime.strptime((text or "").strip()[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC).isoformat()
        )
    except ValueError:
        return ""


def _pointer(pointers) -> tuple[str, int | None, str | None]:
    """(pointer path, goods item number, tag) of an error's pointers: 42A/67A/68A#2/23A:145."""
    parts, item, tag = [], None, None
    for p in pointers:
        section = (p.findtext("r:DocumentSectionCode", namespaces=RES) or "").strip()
        sequence = (p.findtext("r:SequenceNumeric", namespaces=RES) or "").strip()
        tag = (p.findtext("r:TagID", namespaces=RES) or "").strip() or tag
        if section == "68A" and sequence.isdigit():
            item = int(sequence)
        parts.append(f"{section}#{sequence}" if sequence else section)
    path = "/".join(parts) + (f":{tag}" if tag else "")
    return path, item, tag


def parse_res(body: bytes) -> Answer:
    """A WCO RES notification (md:MetaData around a Response, or a bare Response)."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    response = root if etree.QName(root).localname == "Response" else root.find("r:Response", RES)
    if response is None:
        raise ValueError("no WCO RES Response in the notification")
    code = (response.findtext("r:FunctionCode", namespaces=RES) or "").strip()
    declaration = response.find("r:Declaration", RES)
    answer = Answer(status=FUNCTION_CODES.get(code, ""), raw_code=code[:8])
    if declaration is not None:
        answer.mrn = (declaration.findtext("r:ID", namespaces=RES) or "").strip()[:35]
        answer.lrn = (declaration.findtext("r:FunctionalReferenceID", namespaces=RES) or "").strip()[:35]
        version = (declaration.findtext("r:VersionID", namespaces=RES) or "").strip()
        answer.version = int(version) if version.isdigit() else None
    for error in response.findall("r:Error", RES):
        path, item, tag = _pointer(error.findall("r:Pointer", RES))
        answer.reasons.append(
            {
                "code": (error.findtext("r:ValidationCode", namespaces=RES) or "").strip(),
                "text": (error.findtext("r:Description", namespaces=RES) or "").strip(),
                "item": item,
                "tag": tag,
                "pointer": path,
            }
        )
    for info in response.findall("r:AdditionalInformation", RES):
        kind = (info.findtext("r:StatementTypeCode", namespaces=RES) or "").strip()
        text = (info.findtext("r:StatementDescription", namespaces=RES) or "").strip()
        limit = _stamp(info.find("r:LimitDateTime", RES))
        _, item, _ = _pointer(info.findall("r:Pointer", RES))
        if kind == "QRY" or (answer.status == S.QUERY and not answer.question):
            answer.question = text
            answer.limit_at = limit
            answer.item = item or item_in_question(text)
            continue
        answer.limit_at = answer.limit_at or limit
        code = (info.findtext("r:StatementCode", namespaces=RES) or "").strip()
        code = code if STATEMENT_CODE.fullmatch(code) else ""  # not the UK's ACA, A2…
        if (text or code) and not (answer.text or answer.code):
            answer.text, answer.code, answer.item = text, code, answer.item or item
    return answer


def parse_cusres_answer(body: bytes) -> Answer:
    """A CUSRES interchange answering a CUSDEC (ismit.documents.edifact_cusres)."""
    from ismit.documents.edifact_cusres import parse_cusres

    parsed = parse_cusres(body, validate=False)
    answer = Answer(
        status=CUSRES_STATUSES.get(parsed.get("status") or "", ""),
        raw_code=str(parsed.get("status_code") or "")[:8],
        mrn=str(parsed.get("customs_reference") or "")[:35],
        lrn=str(parsed.get("reference") or "")[:35],
    )
    for error in parsed.get("errors") or []:
        if answer.status == S.QUERY and error.get("code") == QUERY_CODE and not answer.question:
            answer.question = error.get("text") or ""
            answer.item = error.get("item") or item_in_question(answer.question)
            continue
        if STATEMENT_CODE.fullmatch(error.get("code") or ""):  # said beside the status: never a fault to fix
            if not answer.code:
                answer.code, answer.item = error["code"], error.get("item")
                answer.text = error.get("text") or ""
            continue
        answer.reasons.append(
            {
                "code": error.get("code") or "",
                "text": error.get("text") or "",
                "item": error.get("item"),
                "tag": None,
                "pointer": "",
            }
        )
    return answer


def format_of(content_type: str, body: bytes) -> str:
    """ "res", "cusres" or "json": what a notification is, from its Content-Type (or its first bytes)."""
    kind = (content_type or "").lower()
    if "json" in kind:
        return "json"
    if "edifact" in kind:
        return "cusres"
    if "xml" in kind:
        return "res"
    start = body.lstrip()[:3]
    if start in (b"UNA", b"UNB"):
        return "cusres"
    return "json" if start[:1] in (b"{", b"[") else "res"


def parse(content_type: str, body: bytes) -> Answer:
    """What a declaration's notification says; an Answer without status when it cannot be read."""
    try:
        if format_of(content_type, body) == "cusres":
            return parse_cusres_answer(body)
        return parse_res(body)
    except (ValueError, etree.XMLSyntaxError, LookupError, IndexError, TypeError) as exc:
        logger.warning("a single window notification could not be read: %s", exc)
        return Answer()


# -- JSON answers: a registry other apps fill (finance) -----------------------------------------------------

AnswerHandler = Callable[[SingleWindow, dict, str], None]
_HANDLERS: dict[str, AnswerHandler] = {}


def register_answer_handler(kind: str, func: AnswerHandler) -> None:
    """Hand JSON notifications whose "kind" is `kind` to func(window, payload, notification_id), called
    once per notification, inside the transaction that stores it (call it from an AppConfig.ready())."""
    _HANDLERS[kind] = func


def answer_handler(kind: str) -> AnswerHandler | None:
    return _HANDLERS.get(kind)


# -- receiving ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    notification_id: str
    conversation_id: str
    sequence: int
    content_type: str
    body: bytes
    headers: dict
    via: str  # callback | poll


# (base URL, client id) -> (pk, created_at) of the endpoint's window row, which stays the endpoint's first
# row (rows are added, not renumbered): a window that is that row needs no query. Any other is looked up.
_ENDPOINTS: dict[tuple[str, str], tuple] = {}


def endpoint_of(window: SingleWindow) -> SingleWindow:
    """The window row that stands for the window's endpoint (its base URL and client): rows of one
    client (e.g. its XML and EDIFACT rows) share one stream of notifications, deduplicated together."""
    key = (window.base_url, window.client_id)
    if window.pk is not None and _ENDPOINTS.get(key) == (window.pk, window.created_at):
        return window
    endpoint = (
        SingleWindow.objects.filter(base_url=window.base_url, client_id=window.client_id)
        .order_by("pk")
        .first()
        or window
    )
    if endpoint.pk is not None:
        _ENDPOINTS[key] = (endpoint.pk, endpoint.created_at)
    return endpoint


def receive(
    window: SingleWindow, incoming: Incoming, *, stored: bool | None = None
) -> DeclarationEvent | None:
    """Store one notification, pending, and have a worker apply it (apply_soon); None for a JSON one
    (handed to its kind's handler at once). `stored`: whether the notification is stored under the window's
    row already, when the caller read that with the window (the callback does): it is not read again."""
    endpoint = endpoint_of(window)
    if format_of(incoming.content_type, incoming.body) == "json":
        _receive_json(endpoint, incoming)
        return None
    # Stored already (polling reads again what callbacks brought): no parsing.
    if _seen(endpoint, incoming, stored if endpoint.pk == window.pk else None):
        return DeclarationEvent.objects.filter(
            window=endpoint, notification_id=incoming.notification_id
        ).first()
    answer = parse(incoming.content_type, incoming.body)
    try:
        # Seen above; stored by another arrival since: the unique keys refuse it (below).
        store = _store_in_one_statement if connection.vendor == "postgresql" else _store
        event = store(endpoint, incoming, answer)
    except IntegrityError:
        # The same notification stored at the same moment by another arrival (callback and poll). As in
        # _seen(), only a callback counts as an arrival: polling reads again what the window keeps.
        if incoming.via == "callback":
            _count_again(endpoint, incoming)
        return DeclarationEvent.objects.filter(
            window=endpoint, notification_id=incoming.notification_id
        ).first()
    if event.declaration_id is None:
        # Perhaps the conversation is being noted right now: look again once this is committed.
        conversation, base_url, client_id = incoming.conversation_id, endpoint.base_url, endpoint.client_id
        transaction.on_commit(lambda: attach_waiting(conversation, base_url, client_id), robust=True)
    else:
        apply_soon()
    return event


def _store(endpoint: SingleWindow, incoming: Incoming, answer: Answer) -> DeclarationEvent:
    """The notification (its body and hash) and its answer, pending, attached to the newest declaration
    version of its conversation when there is one."""
    with transaction.atomic():
        head = queries.head_of_conversation_ids(endpoint, incoming.conversation_id)
        declaration_id, organisation_id, trade_id = head or (None, None, None)
        message = ExchangedMessage.objects.create(
            window=endpoint,
            declaration_id=declaration_id,
            organisation_id=organisation_id,
            trade_id=trade_id,
            direction=Direction.IN,
            kind="notification",
            method="POST" if incoming.via == "callback" else "GET",
            conversation_id=incoming.conversation_id[:64],
            notification_id=incoming.notification_id[:64],
            content_type=_content_type(incoming.headers),
            headers={str(k): str(v) for k, v in incoming.headers.items()},
            content=incoming.body,
            sha256=ExchangedMessage.hash(incoming.body),
            size=len(incoming.body),
            at=timezone.now(),
        )
        return DeclarationEvent.objects.create(
            declaration_id=declaration_id,
            window=endpoint,
            message=message,
            notification_id=incoming.notification_id[:64],
            conversation_id=incoming.conversation_id[:64],
            sequence=incoming.sequence,
            status=answer.status,
            raw_code=answer.raw_code,
            mrn=answer.mrn,
            details=answer.details(),
            via=incoming.via,
            pending=True,
            received_at=message.at,
        )


# What _store writes, as one statement (PostgreSQL): the conversation's newest declaration version (none:
# the answer is held), the message, and its answer, pending. One statement is one transaction: a duplicate
# refused by a unique key stores neither row. Each answer is one such write: the ORM's building of two
# INSERTs and a read, and their transaction, cost more than PostgreSQL spends on them.
_STORE_SQL = """
WITH head AS (
    SELECT d.id, d.organisation_id, d.trade_id
    FROM customs_declaration d JOIN customs_singlewindow w ON w.id = d.window_id
    WHERE d.conversation_id = %(conversation)s AND %(conversation)s <> ''
        AND w.base_url = %(base_url)s AND w.client_id = %(client_id)s
    ORDER BY d.version DESC
    LIMIT 1
), message AS (
    INSERT INTO customs_exchangedmessage (
        organisation_id, trade_id, window_id, declaration_id, direction, kind, method, path, status_code,
        conversation_id, notification_id, idempotency_key, content_type, headers, body, content, sha256, size,
        error, at
    )
    SELECT
        head.organisation_id, head.trade_id, %(window_id)s, head.id, 'in', 'notification', %(method)s,
        '', NULL, %(conversation_id)s, %(notification_id)s, '', %(content_type)s, %(headers)s::jsonb, '',
        %(content)s, %(sha256)s, %(size)s, '', %(at)s
    FROM (VALUES (1)) AS one (x) LEFT JOIN head ON TRUE
    RETURNING id, declaration_id
)
INSERT INTO customs_declarationevent (
    declaration_id, window_id, message_id, notification_id, conversation_id, sequence, status, raw_code, mrn,
    details, via, arrivals, applied, pending, received_at
)
SELECT
    message.declaration_id, %(window_id)s, message.id, %(notification_id)s, %(conversation_id)s, %(sequence)s,
    %(status)s, %(raw_code)s, %(mrn)s, %(details)s::jsonb, %(via)s, 1, FALSE, TRUE, %(at)s
FROM message
RETURNING id, declaration_id, message_id
"""
_EVENT_FIELDS = concrete_attnames(DeclarationEvent)


def _store_in_one_statement(endpoint: SingleWindow, incoming: Incoming, answer: Answer) -> DeclarationEvent:
    """_store in one statement (_STORE_SQL); in a savepoint only inside a caller's transaction."""
    at = timezone.now()
    values = {
        "window_id": endpoint.pk,
        "declaration_id": None,
        "message_id": None,
        "notification_id": incoming.notification_id[:64],
        "conversation_id": incoming.conversation_id[:64],
        "sequence": incoming.sequence,
        "status": answer.status,
        "raw_code": answer.raw_code,
        "mrn": answer.mrn,
        "details": answer.details(),
        "via": incoming.via,
        "arrivals": 1,
        "applied": False,
        "pending": True,
        "received_at": at,
    }
    params = {
        **values,
        "details": json.dumps(values["details"]),
        "conversation": incoming.conversation_id,
        "base_url": endpoint.base_url,
        "client_id": endpoint.client_id,
        "method": "POST" if incoming.via == "callback" else "GET",
        "content_type": _content_type(incoming.headers),
        "headers": json.dumps({str(k): str(v) for k, v in incoming.headers.items()}),
        "content": incoming.body,
        "sha256": ExchangedMessage.hash(incoming.body),
        "size": len(incoming.body),
        "at": at,
    }
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, params)
        values["id"], values["declaration_id"], values["message_id"] = cursor.fetchone()
    return instance(DeclarationEvent, _EVENT_FIELDS, [values[name] for name in _EVENT_FIELDS])


def _content_type(headers: dict) -> str:
    return next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")[:100]


_apply_lock = threading.Lock()
_apply_at = 0.0  # time.monotonic() at which the last task this process sent starts (or started)


def apply_soon() -> None:
    """Have a worker apply the answers stored (tasks.apply_answers_task): from this process, at most one
    task every CUSTOMS_APPLY_INTERVAL_MS, each starting after every answer stored before it was sent. A
    broker that is down loses nothing: the beat's polling pass (tasks.poll_all) applies what waits."""
    global _apply_at
    from ismit.customs.tasks import apply_answers_task  # tasks imports this module

    countdown = 0.0
    if not apply_answers_task.app.conf.task_always_eager:  # eager: it runs here and now
        with _apply_lock:
            now = time.monotonic()
            if _apply_at > now:
                return  # a task sent already starts after this answer was stored: it applies it
            start = max(now, _apply_at + settings.CUSTOMS_APPLY_INTERVAL_MS / 1000)
            _apply_at, countdown = start, start - now
    try:
        apply_answers_task.apply_async(countdown=countdown or None)
    except Exception:
        logger.exception("could not send the task that applies answers: the next pass applies them")


def _seen(endpoint: SingleWindow, incoming: Incoming, stored: bool | None = None) -> bool:
    """True (and a callback's arrival counted) when the notification was stored already (`stored`: as read
    with the endpoint, else read here)."""
    if stored is None:
        stored = queries.notification_stored(endpoint.pk, incoming.notification_id[:64])
    if not stored:
        return False
    if incoming.via == "callback":  # polling reads again what came by callback: that is no new arrival
        _count_again(endpoint, incoming)
    return True


def _count_again(endpoint: SingleWindow, incoming: Incoming) -> None:
    DeclarationEvent.objects.filter(window=endpoint, notification_id=incoming.notification_id).update(
        arrivals=F("arrivals") + 1
    )


def _receive_json(endpoint: SingleWindow, incoming: Incoming) -> None:
    try:
        payload = json.loads(incoming.body)
    except ValueError:
        payload = {}
    kind = str(payload.get("kind") or "") if isinstance(payload, dict) else ""
    try:
        with transaction.atomic():
            if _seen(endpoint, incoming):
                return
            record_message(
                window=endpoint,
                direction=Direction.IN,
                kind="notification",
                body=incoming.body,
                headers=incoming.headers,
                method="POST" if incoming.via == "callback" else "GET",
                conversation_id=incoming.conversation_id,
                notification_id=incoming.notification_id,
                name=f"notification-{incoming.sequence}.json",
            )
            handler = answer_handler(kind)
            if handler is None:
                logger.warning(
                    "no handler for %r answers: notification %s stored only", kind, incoming.notification_id
                )
                return
            handler(endpoint, payload, incoming.notification_id)
    except IntegrityError:
        return  # stored at the same moment by another arrival


def attach_waiting(conversation_id: str, base_url: str, client_id: str) -> int:
    """Apply held answers of a conversation whose declaration is now known (after a race)."""
    with transaction.atomic():
        window = SingleWindow.objects.filter(base_url=base_url, client_id=client_id).order_by("pk").first()
        if window is None:
            return 0
        declaration = applying.head_of_conversation(window, conversation_id)
        if declaration is None:
            return 0
        return applying.attach_pending(declaration)


def attach_all_waiting() -> int:
    """Held answers whose conversation is known by now (a belt-and-braces pass of the poller)."""
    count = 0
    since = timezone.now() - dt.timedelta(days=1)  # older ones belong to no conversation of ours
    waiting = (
        DeclarationEvent.objects.filter(declaration__isnull=True, received_at__gte=since)
        .values_list("conversation_id", "window__base_url", "window__client_id")
        .distinct()[:500]
    )
    for conversation_id, base_url, client_id in list(waiting):
        count += attach_waiting(conversation_id, base_url, client_id)
    return count


# -- polling ------------------------------------------------------------------------------------------------

POLL_LIMIT = 200
POLL_PAGES = 25
# A poll holds its endpoint for one request's timeout and this margin (to store the page it read), renewed
# at each page: a poll whose worker was killed blocks the next ones no longer than that.
POLL_PAGE_MARGIN_S = 30.0


def _poll_lease(endpoint: SingleWindow) -> dt.timedelta:
    return dt.timedelta(seconds=float(endpoint.timeout or 0) + POLL_PAGE_MARGIN_S)


def _body_bytes(item: dict) -> bytes:
    body = item.get("body") or ""
    if isinstance(body, bytes):
        return body
    # CUSRES travels as ISO 8859-1 text; XML and JSON as UTF-8.
    encoding = "latin-1" if "edifact" in str(item.get("content_type") or "").lower() else "utf-8"
    return str(body).encode(encoding, errors="replace")


def _take_poll(endpoint: SingleWindow) -> bool:
    """Hold the endpoint for one poll (renewed at each page); False when another poll holds it."""
    now = timezone.now()
    return bool(
        SingleWindow.objects.filter(pk=endpoint.pk)
        .filter(Q(polling_until__isnull=True) | Q(polling_until__lt=now))
        .update(polling_until=now + _poll_lease(endpoint))
    )


def poll_window(window: SingleWindow, *, limit: int = POLL_LIMIT, pages: int = POLL_PAGES) -> int:
    """Read the window's notifications after the last sequence polled, and receive each one as if it had
    come by callback (so a dropped callback is recovered). Returns how many were read.

    One poll of an endpoint at a time: while another one holds it (a slow poll, a busy pool), this one reads
    nothing and returns 0."""
    endpoint = endpoint_of(window)
    if endpoint.pk is None or not _take_poll(endpoint):
        return 0
    try:
        return _poll(endpoint, limit=limit, pages=pages)
    finally:
        SingleWindow.objects.filter(pk=endpoint.pk).update(polling_until=None)


def _poll(endpoint: SingleWindow, *, limit: int, pages: int) -> int:
    after = SingleWindow.objects.filter(pk=endpoint.pk).values_list("poll_after", flat=True).first() or 0
    read = 0
    for page in range(pages):
        if page:
            SingleWindow.objects.filter(pk=endpoint.pk).update(
                polling_until=timezone.now() + _poll_lease(endpoint)
            )
        items = get_json(endpoint, f"/notifications?after={after}&limit={limit}")
        if not isinstance(items, list):
            break
        # What callbacks (or an earlier poll) brought is read again: looked up for the whole page at once,
        # and passed over (reading again is no new arrival).
        stored = queries.notifications_stored(
            endpoint.pk, [str(item.get("notification_id") or "") for item in items]
        )
        for item in items:
            sequence = int(item.get("sequence") or 0)
            notification_id = str(item.get("notification_id") or "")
            after = max(after, sequence)
            read += 1
            if notification_id[:64] in stored:
                continue
            content_type = str(item.get("content_type") or "")
            receive(
                endpoint,
                Incoming(
                    notification_id=notification_id,
                    conversation_id=str(item.get("conversation_id") or ""),
                    sequence=sequence,
                    content_type=content_type,
                    body=_body_bytes(item),
                    headers={
                        "Content-Type": content_type,
                        "X-Notification-ID": str(item.get("notification_id") or ""),
                        "X-Conversation-ID": str(item.get("conversation_id") or ""),
                        "X-Notification-Sequence": str(sequence),
                        "X-Notification-Status": str(item.get("status") or ""),
                    },
                    via="poll",
                ),
                stored=False if notification_id else None,
            )
        SingleWindow.objects.filter(pk=endpoint.pk, poll_after__lt=after).update(poll_after=after)
        if len(items) < limit:
            break
    SingleWindow.objects.filter(pk=endpoint.pk).update(polled_at=timezone.now())
    return read


def endpoints() -> list[SingleWindow]:
    """One window per endpoint (base URL and client id) to poll: the active ones, and those that still owe
    answers about declarations on their way."""
    waiting = Declaration.objects.exclude(status__in=[*FINAL_STATUSES, S.FAILED, S.QUEUED]).values(
        "window_id"
    )
    seen: dict[tuple[str, str], SingleWindow] = {}
    for window in SingleWindow.objects.filter(Q(active=True) | Q(pk__in=waiting)).order_by("pk"):
        seen.setdefault((window.base_url, window.client_id), window)
    return list(seen.values())
