"""Connectors: how a message travels to a single window (docs/single-window-protocol.md).

One connector per format, chosen by the SingleWindow row of the country and procedure:

    WcoXmlConnector   POST /customs/declarations   WCO DEC XML (md:MetaData envelope)   application/xml
    EdifactConnector  POST /customs/edifact        UN/EDIFACT CUSDEC interchange         application/EDIFACT
    JsonConnector     POST <path>                  FX settlement reports, VAT refund claims (finance)

    connector_for(window).send(window, declaration, body, idempotency_key, correction_of=None) -> SendResult

Every request is HMAC-signed (ismit.lib.hmac_auth) and carries the message's Idempotency-Key, so sending
it again (a retry after a timeout, a re-delivered task) creates nothing new at the window. Every request
and every answer is stored, byte for byte with its SHA-256, as an ExchangedMessage. Failures are raised
as the outbox's outcomes: `outbox.Retry` for timeouts, connection errors and 5xx (and 408, 429),
`outbox.Permanent` for the other 4xx answers (retrying the same message cannot help).

HTTP with the standard library: one kept-alive connection per thread and host, opened in the process that
uses it (a forked worker does not inherit its parent's).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils import timezone
from lxml import etree

from ismit.customs.models import Channel, Declaration, Direction, ExchangedMessage, SingleWindow
from ismit.lib import hmac_auth
from ismit.lib.rows import insert_rows, insert_statement
from ismit.outbox import Permanent, Retry

logger = logging.getLogger("ismit.customs")

IDEMPOTENCY_HEADER = "Idempotency-Key"
CORRECTION_HEADER = "X-Correction-Of"
USER_AGENT = "ISMIT single window connector"
MAX_ERROR_DETAIL = 500


@dataclass(frozen=True)
class SendResult:
    """What the single window answered (202): the conversation the message belongs to, and the records of
    the request and answer."""

    conversation_id: str
    lrn: str
    message_id: str
    reference: str
    status_code: int
    request: ExchangedMessage
    response: ExchangedMessage


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


# -- HTTP ---------------------------------------------------------------------------------------------

_local = threading.local()


def _forget_connections() -> None:
    """In a forked process (a prefork worker's child): the parent's connections are not this process's to
    use; each process opens its own when it first sends."""
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_connections)


def _pool() -> dict:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    return pool


def _connection(scheme: str, host: str, port: int | None, timeout: float):
    key = (scheme, host, port)
    pool = _pool()
    conn = pool.get(key)
    reused = conn is not None
    if conn is None:
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        pool[key] = conn
    conn.timeout = timeout
    if conn.sock is not None:
        conn.sock.settimeout(timeout)
    return key, conn, reused


def _drop(key) -> None:
    conn = _pool().pop(key, None)
    if conn is not None:
        conn.close()


def close_connections() -> None:
    """Close this thread's kept-alive connections (tests, a worker shutting down)."""
    for key in list(_pool()):
        _drop(key)


def target(window: SingleWindow, path: str) -> str:
    """The request target on the window's host: its base URL's path + `path` (what is signed)."""
    base = urlsplit(window.base_url).path.rstrip("/")
    return f"{base}{path}"


def exchange(
    window: SingleWindow, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[str, dict[str, str], Reply]:
    """One signed request to the window; (request target, headers sent, reply). Raises OSError (timeouts
    included) and http.client.HTTPException when no answer came."""
    parts = urlsplit(window.base_url)
    request_target = target(window, path)
    sent = {
        "Host": parts.netloc,
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        **(headers or {}),
        **hmac_auth.sign_request(window.secret, method, request_target, body, client_id=window.client_id),
    }
    if method in ("POST", "PUT"):
        sent["Content-Length"] = str(len(body))
    for attempt in (1, 2):
        key, conn, reused = _connection(parts.scheme, parts.hostname or "", parts.port, window.timeout)
        try:
            conn.request(method, request_target, body=body or None, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            _drop(key)
            if reused and attempt == 1:
                continue  # the window had closed the kept-alive connection: once more on a new one
            raise
        except BaseException:
            _drop(key)
            raise
        if response.will_close:
            _drop(key)
        return request_target, sent, Reply(response.status, dict(response.getheaders()), data)
    raise AssertionError("unreachable")


# -- records ------------------------------------------------------------------------------------------


def _content_type(headers: dict[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "")[:100]


def record_message(**fields) -> ExchangedMessage:
    """Store one message sent or received (the fields of `_message`: the body and its SHA-256 in the
    row)."""
    message = _message(**fields)
    message.save()
    return message


def _message(
    *,
    window: SingleWindow | None,
    direction: str,
    kind: str,
    body: bytes,
    headers: dict[str, str],
    declaration: Declaration | None = None,
    organisation_id: int | None = None,
    trade_id: int | None = None,
    method: str = "",
    path: str = "",
    status_code: int | None = None,
    conversation_id: str = "",
    notification_id: str = "",
    idempotency_key: str = "",
    error: str = "",
    name: str = "message",
) -> ExchangedMessage:
    """A message's row, not saved yet, its body in it (`content`). `name`: no longer used (the file a
    body was stored in was named so)."""
    message = ExchangedMessage(
        window=window,
        declaration=declaration,
        organisation_id=organisation_id
        if organisation_id is not None
        else getattr(declaration, "organisation_id", None),
        trade_id=trade_id if trade_id is not None else getattr(declaration, "trade_id", None),
        direction=direction,
        kind=kind,
        method=method,
        path=path[:500],
        status_code=status_code,
        conversation_id=conversation_id[:64],
        notification_id=notification_id[:64],
        idempotency_key=idempotency_key[:200],
        content_type=_content_type(headers),
        headers={str(k): str(v) for k, v in headers.items()},
        sha256=ExchangedMessage.hash(body),
        size=len(body),
        error=error,
        at=timezone.now(),
    )
    message.content = body  # in the row: written with it, no file to create per message
    return message


_COLUMNS = tuple(f.attname for f in ExchangedMessage._meta.concrete_fields if not f.primary_key)


def _insert(*messages: ExchangedMessage) -> None:
    """Save new messages in one INSERT, without a transaction of its own (bulk_create opens one)."""
    keys = insert_rows(
        ExchangedMessage, _COLUMNS, [[getattr(m, name) for name in _COLUMNS] for m in messages]
    )
    stored(messages, keys)


def store(*messages: ExchangedMessage) -> None:
    """Save the messages a send left unsaved (`post(..., store=False)`), unless saved already."""
    unsaved = [m for m in messages if m.pk is None]
    if unsaved:
        _insert(*unsaved)


def insert_sql(*messages: ExchangedMessage) -> tuple[str, list]:
    """(SQL, parameters) of the INSERT of new messages that returns their ids in their order, for a
    caller's own statement (a data-modifying WITH query); then `stored(messages, ids)`."""
    return insert_statement(
        ExchangedMessage, _COLUMNS, [[getattr(m, name) for name in _COLUMNS] for m in messages]
    )


def stored(messages, keys) -> None:
    """Note the ids the database gave these new messages."""
    for message, key in zip(messages, keys, strict=True):
        message.pk = key
        message._state.adding = False
        message._state.db = "default"


# -- sending ------------------------------------------------------------------------------------------


def _detail(reply: Reply) -> str:
    """The problem detail of an error answer, else the start of its body."""
    try:
        problem = json.loads(reply.body)
        text = problem.get("detail") or problem.get("title") or ""
    except (ValueError, AttributeError):
        text = reply.body[:MAX_ERROR_DETAIL].decode("utf-8", "replace")
    return str(text)[:MAX_ERROR_DETAIL]


def _retry_after(reply: Reply) -> float | None:
    value = next((v for k, v in reply.headers.items() if k.lower() == "retry-after"), "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def post(
    window: SingleWindow,
    path: str,
    body: bytes,
    *,
    content_type: str,
    idempotency_key: str,
    correction_of: str | None = None,
    declaration: Declaration | None = None,
    organisation_id: int | None = None,
    trade_id: int | None = None,
    name: str = "message",
    store: bool = True,
) -> SendResult:
    """POST one message to the window, signed, with its Idempotency-Key; store request and answer.

    Returns the 202's conversation; raises Retry (timeout, connection error, 5xx, 408, 429) or Permanent
    (other 4xx, an answer that is not the protocol's). `store=False`: a 202's request and answer are
    returned unsaved, for the caller to store with what it notes of the conversation (in one statement:
    services.record_sent); any other outcome is stored here as always."""
    headers = {"Content-Type": content_type, IDEMPOTENCY_HEADER: idempotency_key}
    if correction_of:
        headers[CORRECTION_HEADER] = correction_of
    record = dict(
        window=window,
        declaration=declaration,
        organisation_id=organisation_id,
        trade_id=trade_id,
        idempotency_key=idempotency_key,
    )
    try:
        request_target, sent, reply = exchange(window, "POST", path, body, headers)
    except TimeoutError as exc:
        error = f"no answer from {window.url(path)} within {window.timeout:g} s"
        record_message(
            **record,
            direction=Direction.OUT,
            kind="request",
            body=body,
            headers=headers,
            method="POST",
            path=target(window, path),
            error=error,
            name=name,
        )
        raise Retry(error) from exc
    except (OSError, http.client.HTTPException) as exc:
        error = f"{window.url(path)}: {type(exc).__name__}: {exc}"[:MAX_ERROR_DETAIL]
        record_message(
            **record,
            direction=Direction.OUT,
            kind="request",
            body=body,
            headers=headers,
            method="POST",
            path=target(window, path),
            error=error,
            name=name,
        )
        raise Retry(error) from exc
    conversation_id = ""
    answer: dict = {}
    if 200 <= reply.status < 300:
        try:
            answer = json.loads(reply.body)
            conversation_id = str(answer.get("conversation_id") or "")
        except (ValueError, AttributeError):
            answer = {}
    request = _message(
        **record,
        direction=Direction.OUT,
        kind="request",
        body=body,
        headers=sent,
        method="POST",
        path=request_target,
        status_code=reply.status,
        conversation_id=conversation_id,
        name=name,
    )
    response = _message(
        **record,
        direction=Direction.IN,
        kind="response",
        body=reply.body,
        headers=reply.headers,
        method="POST",
        path=request_target,
        status_code=reply.status,
        conversation_id=conversation_id,
        name="answer",
    )
    accepted = 200 <= reply.status < 300 and conversation_id
    if store or not accepted:
        _insert(request, response)
    if reply.status >= 500 or reply.status in (408, 425, 429):
        raise Retry(
            f"HTTP {reply.status} from {window.url(path)}: {_detail(reply)}", after=_retry_after(reply)
        )
    if reply.status >= 300:
        raise Permanent(f"HTTP {reply.status} from {window.url(path)}: {_detail(reply)}")
    if not conversation_id:
        raise Permanent(f"HTTP {reply.status} from {window.url(path)} without a conversation id")
    return SendResult(
        conversation_id=conversation_id[:64],
        lrn=str(answer.get("lrn") or "")[:35],
        message_id=str(answer.get("message_id") or ""),
        reference=str(answer.get("reference") or ""),
        status_code=reply.status,
        request=request,
        response=response,
    )


def get_json(window: SingleWindow, path: str):
    """GET a signed JSON resource of the window (polling); Retry / Permanent as for post()."""
    try:
        _, _, reply = exchange(window, "GET", path)
    except (OSError, http.client.HTTPException) as exc:
        raise Retry(f"{window.url(path)}: {type(exc).__name__}: {exc}"[:MAX_ERROR_DETAIL]) from exc
    if reply.status >= 500 or reply.status in (408, 429):
        raise Retry(f"HTTP {reply.status} from {window.url(path)}: {_detail(reply)}")
    if reply.status >= 300:
        raise Permanent(f"HTTP {reply.status} from {window.url(path)}: {_detail(reply)}")
    try:
        return json.loads(reply.body)
    except ValueError as exc:
        raise Permanent(f"{window.url(path)} answered with something that is not JSON") from exc


class Connector:
    """A destination format: where it is posted, as what, and which issued document it sends."""

    name: str = ""
    path: str = ""
    content_type: str = ""
    document_kind: str = ""  # the documents app's generator kind

    def send(
        self,
        window: SingleWindow,
        declaration: Declaration | None,
        body: bytes,
        idempotency_key: str,
        correction_of: str | None = None,
        *,
        store: bool = True,
    ) -> SendResult:
        return post(
            window,
            self.path,
            body,
            content_type=self.content_type,
            idempotency_key=idempotency_key,
            correction_of=correction_of,
            declaration=declaration,
            name=f"{self.document_kind or self.name}.{self.extension}",
            store=store,
        )

    @property
    def extension(self) -> str:
        return "json"

    def with_explanation(self, body: bytes, text: str) -> bytes:
        """The message with a free-text explanation added (the answer to a query)."""
        raise NotImplementedError


class WcoXmlConnector(Connector):
    name = Channel.WCO_XML
    path = "/customs/declarations"
    content_type = "application/xml"
    document_kind = "wco_declaration"

    @property
    def extension(self) -> str:
        return "xml"

    def with_explanation(self, body: bytes, text: str) -> bytes:
        return wco_with_explanation(body, text)


class EdifactConnector(Connector):
    name = Channel.EDIFACT
    path = "/customs/edifact"
    content_type = "application/EDIFACT"
    document_kind = "edifact_cusdec"

    @property
    def extension(self) -> str:
        return "edi"

    def with_explanation(self, body: bytes, text: str) -> bytes:
        return cusdec_with_explanation(body, text)


class JsonConnector(Connector):
    """FX settlement reports (POST /fx/settlements) and VAT refund claims (POST /vat/refund-claims)."""

    name = Channel.JSON
    content_type = "application/json"

    def __init__(self, path: str):
        self.path = path

    def with_explanation(self, body: bytes, text: str) -> bytes:
        data = json.loads(body)
        data["explanation"] = text
        return json.dumps(data, ensure_ascii=False).encode()


CONNECTORS: dict[str, Connector] = {
    Channel.WCO_XML: WcoXmlConnector(),
    Channel.EDIFACT: EdifactConnector(),
}


def connector_for(channel: str) -> Connector:
    try:
        return CONNECTORS[channel]
    except KeyError:
        raise Permanent(f"no connector for the format {channel!r}")


# -- the explanation of a correction -------------------------------------------------------------------

DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
# Children of a WCO DEC Declaration that come after AdditionalInformation (WCO_DEC_2_DMS.xsd's sequence).
_AFTER_ADDITIONAL_INFORMATION = (
    "Agent",
    "Amendment",
    "AuthorisationHolder",
    "BorderTransportMeans",
    "Consignment",
    "CurrencyExchange",
    "Declarant",
    "ExitOffice",
    "Exporter",
    "GoodsShipment",
    "ObligationGuarantee",
    "PresentationOffice",
    "SupervisingOffice",
)


def _clean_text(text: str, size: int) -> str:
    return " ".join("".join(ch for ch in text if ch >= " " or ch in "\t\n").split())[:size]


def wco_with_explanation(body: bytes, text: str) -> bytes:
    """A WCO DEC declaration with `AdditionalInformation` (StatementTypeCode AES, the text in
    StatementDescription), as the UK's amendments carry their reason."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    declaration = root if root.tag == f"{{{DEC_NS}}}Declaration" else root.find(f"{{{DEC_NS}}}Declaration")
    if declaration is None:
        raise ValueError("no WCO DEC Declaration in the message")
    info = etree.Element(f"{{{DEC_NS}}}AdditionalInformation")
    etree.SubElement(info, f"{{{DEC_NS}}}StatementDescription").text = _clean_text(text, 512)
    etree.SubElement(info, f"{{{DEC_NS}}}StatementTypeCode").text = "AES"
    later = {f"{{{DEC_NS}}}{name}" for name in _AFTER_ADDITIONAL_INFORMATION}
    before = next((child for child in declaration if child.tag in later), None)
    if before is not None:
        before.addprevious(info)
    else:
        declaration.append(info)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def cusdec_with_explanation(body: bytes, text: str) -> bytes:
    """A CUSDEC interchange with an `FTX+ACB` in its first customs item, after the goods description
    (D96A has no header FTX in CUSDEC); the counts are written again."""
    from ismit.documents.edifact_directory import chunks, latin1, parse_segments, segment, write_interchange

    segments = parse_segments(body)
    unb = next(s for s in segments if s.tag == "UNB")
    start = next(i for i, s in enumerate(segments) if s.tag == "UNH")
    end = next(i for i, s in enumerate(segments) if s.tag == "UNT")
    message = list(segments[start + 1 : end])
    first_item = next((i for i, s in enumerate(message) if s.tag == "CST"), None)
    if first_item is None:
        raise ValueError("no customs item (CST) in the CUSDEC")
    position = first_item + 1
    while position < len(message) and message[position].tag == "FTX":
        position += 1
    lines = chunks(latin1(_clean_text(text, 350)), 70, 5)
    message.insert(position, segment("FTX", "ACB", None, None, lines))
    day, time = unb.elements[3]
    prepared = dt.datetime.strptime(f"{day}{time}", "%y%m%d%H%M").replace(tzinfo=dt.UTC)
    text_out = write_interchange(
        [(segments[start].elements[0], segments[start].elements[1], message)],
        sender=unb.elements[1],
        recipient=unb.elements[2],
        control_reference=unb.elements[4],
        prepared_at=prepared,
        application_reference=unb.elements[6] if len(unb.elements) > 6 else "",
    )
    return text_out.encode("latin-1", errors="replace")
