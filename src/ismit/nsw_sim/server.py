"""The single window's HTTP side: intake of declarations, reports and claims, polling, admin endpoints.

`Simulator` holds the configuration, the database and the engine; `make_server(simulator)` gives a
`ThreadingHTTPServer` (HTTP/1.1, keep-alive) serving the endpoints of docs/single-window-protocol.md.
Intake is one SQLite transaction per request; everything after the 202 happens in the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import re
import socket
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ismit.lib import hmac_auth
from ismit.nsw_sim import codes, declarations, finance
from ismit.nsw_sim.config import Config
from ismit.nsw_sim.declarations import Malformed
from ismit.nsw_sim.engine import Engine, chance
from ismit.nsw_sim.store import Store

log = logging.getLogger(__name__)

ROUTES = {
    "/customs/declarations": ("declaration", "wco"),
    "/customs/edifact": ("declaration", "cusdec"),
    "/fx/settlements": (finance.FX, "json"),
    "/vat/refund-claims": (finance.VAT, "json"),
}
CONTENT = {"wco": ("xml",), "cusdec": ("edifact", "text/plain"), "json": ("json",)}


class Problem(Exception):
    """An HTTP error answered as application/problem+json."""

    def __init__(self, status: int, detail: str, title: str = ""):
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        super().__init__(detail)


class Simulator:
    def __init__(self, config: Config):
        self.config = config
        self.store = Store(config.db)
        self.engine = Engine(config, self.store)
        self._attempts: dict[tuple[str, str], int] = {}
        self._attempts_lock = threading.Lock()
        self.started_at = time.time()

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
        self.store.close()

    # -- faults ---------------------------------------------------------------------------------------------

    def attempt(self, client_id: str, key: str) -> int:
        with self._attempts_lock:
            n = self._attempts.get((client_id, key), 0) + 1
            self._attempts[(client_id, key)] = n
            return n

    def fault_roll(self, purpose: str, rate: float, client_id: str, key: str, attempt: int) -> bool:
        return bool(rate) and chance(self.config.seed, purpose, f"{client_id}:{key}:{attempt}") < rate

    # -- intake ---------------------------------------------------------------------------------------------

    def submit(
        self, *, client_id: str, kind: str, fmt: str, body: bytes, key: str, correction_of: str = ""
    ) -> dict:
        """The 202 answer to a submission: recorded once per Idempotency-Key; the same key again gives the
        first answer back and only counts the arrival. Raises Problem (400, 404, 409)."""
        digest = hashlib.sha256(body).hexdigest()
        known = self.store.submission(client_id, key)
        if known is not None:
            return self._again(client_id, key, digest)
        if kind == "declaration":
            prepared = self._declaration(fmt, body)
        else:
            prepared = self._report(client_id, kind, body)
        now = time.time()
        delay = self.engine.delay(key)
        with self.store.transaction() as db:
            if db.execute(
                "SELECT 1 FROM submissions WHERE client_id = ? AND idempotency_key = ?", (client_id, key)
            ).fetchone():
                db.rollback()
                return self._again(client_id, key, digest)
            message_id = uuid.uuid4().hex
            if correction_of:
                conversation_id = self._correct(
                    db, client_id, kind, fmt, correction_of, prepared, now + delay
                )
            else:
                conversation_id = uuid.uuid4().hex
                if kind == "declaration" and self._lrn_taken(db, client_id, prepared["facts"], now):
                    problems = [declarations.lrn_reused(), *prepared["problems"]]
                    prepared["plan"] = declarations.plan(prepared["declaration"], problems, self.config)
                db.execute(
                    "INSERT INTO conversations (id, client_id, kind, format, lrn, country, sender, "
                    "message_reference, plan, facts, next_due, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conversation_id,
                        client_id,
                        kind,
                        fmt,
                        prepared["lrn"],
                        prepared["country"],
                        prepared.get("sender", ""),
                        prepared.get("message_reference", ""),
                        json.dumps(prepared["plan"]),
                        json.dumps(prepared["facts"]),
                        now + delay,
                        now,
                        now,
                    ),
                )
            answer = {"conversation_id": conversation_id, "lrn": prepared["lrn"], "message_id": message_id}
            if kind != "declaration":
                answer["reference"] = prepared["lrn"]
            db.execute(
                "INSERT INTO submissions (id, client_id, idempotency_key, conversation_id, kind, format, "
                "correction_of, lrn, body, body_sha256, response, received_at, last_arrival_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    client_id,
                    key,
                    conversation_id,
                    kind,
                    fmt,
                    correction_of or None,
                    prepared["lrn"],
                    body,
                    digest,
                    json.dumps(answer),
                    now,
                    now,
                ),
            )
        self.engine.schedule(conversation_id, now + delay)
        return answer

    def _lrn_taken(self, db, client_id: str, facts: dict, now: float) -> bool:
        """Whether another declaration of the same declarant had this LRN within `lrn_reuse_hours`."""
        hours = self.config.lrn_reuse_hours
        if not hours or not facts.get("lrn"):
            return False
        row = db.execute(
            "SELECT 1 FROM conversations WHERE client_id = ? AND kind = 'declaration' AND lrn = ? "
            "AND created_at > ? AND json_extract(facts, '$.declarant_id') IS ? LIMIT 1",
            (client_id, facts["lrn"][:35], now - hours * 3600, facts.get("declarant_id")),
        )
        return row.fetchone() is not None

    def _again(self, client_id: str, key: str, digest: str) -> dict:
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT response, body_sha256 FROM submissions WHERE client_id = ? AND idempotency_key = ?",
                (client_id, key),
            ).fetchone()
            db.execute(
                "UPDATE submissions SET arrivals = arrivals + 1, "
                "other_body_arrivals = other_body_arrivals + ?, last_arrival_at = ? "
                "WHERE client_id = ? AND idempotency_key = ?",
                (int(row["body_sha256"] != digest), time.time(), client_id, key),
            )
        return json.loads(row["response"])

    def _country(self, *candidates: str) -> str:
        for value in candidates:
            value = (value or "").upper()
            if re.fullmatch(r"[A-Z]{2}", value) and value in codes.countries():
                return value
        return self.config.country.upper()

    def _declaration(self, fmt: str, body: bytes) -> dict:
        try:
            d = declarations.read_wco(body) if fmt == "wco" else declarations.read_cusdec(body)
        except Malformed as exc:
            raise Problem(400, str(exc))
        problems = declarations.check(d)
        if fmt == "cusdec":
            found = declarations.directory_problems(body)
            if found:
                seen = {(p.code, p.text) for p in problems}
                problems = [*[p for p in found if (p.code, p.text) not in seen], *problems]
        return {
            "declaration": d,
            "problems": problems,
            "lrn": d.lrn[:35],
            "country": self._country(d.export_country, d.responsible_country),
            "sender": d.sender,
            "message_reference": d.message_reference,
            "facts": d.facts(),
            "plan": declarations.plan(d, problems, self.config),
        }

    def _report(self, client_id: str, kind: str, body: bytes) -> dict:
        try:
            data = finance.read_report(body)
        except Malformed as exc:
            raise Problem(400, str(exc))
        number = str(data.get("declaration_mrn") or "").strip().upper()
        declaration = self.store.declaration_by_mrn(client_id, number) if number else None
        reasons, question = finance.check_report(kind, data, declaration, self.config)
        if reasons:
            plan = [{"status": codes.RECEIVED}, {"status": codes.REJECTED, "reasons": reasons}]
        elif question:
            plan = [{"status": codes.RECEIVED}, {"status": codes.QUERY, "text": question}]
        else:
            plan = [{"status": codes.RECEIVED}, {"status": codes.ACCEPTED}]
        reference = data.get(finance.REFERENCE_FIELD[kind])
        return {
            "lrn": reference.strip()[:35] if isinstance(reference, str) else "",
            "country": self._country(declaration["country"] if declaration else "", self.config.country),
            "facts": {"declaration_mrn": number, "reasons": len(reasons), "query": bool(question)},
            "plan": plan,
            "after_correction": plan[1:],
        }

    def _correct(
        self, db, client_id: str, kind: str, fmt: str, original: str, prepared: dict, due: float
    ) -> str:
        row = db.execute(
            "SELECT * FROM conversations WHERE id = ? AND client_id = ?", (original, client_id)
        ).fetchone()
        if row is None:
            raise Problem(404, f"X-Correction-Of: no conversation {original!r} for this client")
        if row["kind"] != kind:
            raise Problem(409, f"X-Correction-Of: conversation {original!r} is a {row['kind']}, not a {kind}")
        if row["format"] != fmt:
            raise Problem(
                409, f"X-Correction-Of: conversation {original!r} was sent as {row['format']}, not {fmt}"
            )
        if row["state"] in codes.FINAL[kind]:
            raise Problem(409, f"X-Correction-Of: conversation {original!r} is final ({row['state']})")
        now = time.time()
        if row["waiting"]:
            if kind == "declaration":
                plan = declarations.plan_after_correction(
                    prepared["declaration"], prepared["problems"], self.config
                )
            else:
                plan = prepared["after_correction"]
            db.execute(
                "UPDATE conversations SET plan = ?, waiting = 0, next_due = ?, version = version + 1, "
                "facts = ?, updated_at = ?, rev = rev + 1 WHERE id = ?",
                (json.dumps(plan), due, json.dumps(prepared["facts"]), now, original),
            )
        else:  # an amendment outside a query: recorded, the flow goes on as planned
            db.execute(
                "UPDATE conversations SET version = version + 1, facts = ?, updated_at = ?, rev = rev + 1 "
                "WHERE id = ?",
                (json.dumps(prepared["facts"]), now, original),
            )
        return original


# -- HTTP -----------------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ismit-nsw-sim/1"
    timeout = 300  # seconds an idle kept-alive connection stays open
    sim: Simulator  # set on the subclass make_server builds

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:
        if self.sim.config.access_log:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # Headers and body in one write: two small writes would meet Nagle's algorithm and the client's
        # delayed ACK (40 ms per request on a kept-alive connection).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _json(self, status: int, data, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def _problem(self, problem: Problem) -> None:
        body = {
            "type": "about:blank",
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
        }
        headers = {"WWW-Authenticate": 'HMAC realm="nsw-sim"'} if problem.status == 401 else None
        self._send(problem.status, json.dumps(body).encode("utf-8"), "application/problem+json", headers)

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise Problem(411, "send the body with a Content-Length")
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise Problem(400, "Content-Length is not a number")
        if size > self.sim.config.max_body:
            self.close_connection = True
            raise Problem(413, f"the body is larger than {self.sim.config.max_body} bytes")
        return self.rfile.read(size) if size else b""

    def _client(self, body: bytes, *, admin: bool) -> str:
        config = self.sim.config
        try:
            client = hmac_auth.check_request(config.secrets(), self.command, self.path, self.headers, body)
        except hmac_auth.HmacAuthError as exc:
            raise Problem(401, exc.reason)
        if admin and client != config.admin_id:
            raise Problem(403, "this endpoint is for the simulator's admin client")
        if not admin and client == config.admin_id and client != config.client_id:
            raise Problem(403, "the admin client does not submit")
        return client

    def _route(self) -> None:
        body = b""
        try:
            body = self._body()
            path = urlsplit(self.path).path.rstrip("/") or "/"
            handler = self._handler(path)
            handler(path, body)
        except Problem as problem:
            self._problem(problem)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # pragma: no cover - the window must answer something
            log.exception("nsw-sim: %s %s", self.command, self.path)
            with contextlib.suppress(OSError):
                self._problem(Problem(500, f"{type(exc).__name__}"))

    def _handler(self, path: str):
        method = self.command
        if method == "POST" and path in ROUTES:
            return self._submit
        table = {
            ("GET", "/"): self._page,
            ("HEAD", "/"): self._page,
            ("GET", "/notifications"): self._notifications,
            ("GET", "/_sim/health"): self._health,
            ("HEAD", "/_sim/health"): self._health,
            ("GET", "/_sim/records"): self._records,
            ("GET", "/_sim/config"): self._config,
            ("POST", "/_sim/config"): self._config,
        }
        if (method, path) in table:
            return table[(method, path)]
        if path in ROUTES or path in {p for _, p in table}:
            raise Problem(405, f"{method} is not allowed on {path}")
        raise Problem(404, f"no endpoint {path}")

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _route  # http.server's names

    # -- endpoints ------------------------------------------------------------------------------------------

    def _submit(self, path: str, body: bytes) -> None:
        sim, config = self.sim, self.sim.config
        client = self._client(body, admin=False)
        kind, fmt = ROUTES[path]
        content_type = (self.headers.get("Content-Type") or "").lower()
        if not any(accepted in content_type for accepted in CONTENT[fmt]):
            raise Problem(415, f"Content-Type {content_type or '(none)'} is not what {path} takes")
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 255:
            raise Problem(400, "the Idempotency-Key header is required (at most 255 characters)")
        correction_of = (self.headers.get("X-Correction-Of") or "").strip()
        attempt = sim.attempt(client, key)
        if sim.fault_roll("intake_error", config.intake_error_rate, client, key, attempt):
            sim.store.fault("intake_error", client, key)
            raise Problem(500, "simulated failure (intake_error_rate)")
        answer = sim.submit(
            client_id=client, kind=kind, fmt=fmt, body=body, key=key, correction_of=correction_of
        )
        if sim.fault_roll("intake_timeout", config.intake_timeout_rate, client, key, attempt):
            sim.store.fault("intake_timeout", client, key)
            time.sleep(config.intake_timeout_seconds)
        self._json(202, answer)

    def _notifications(self, path: str, body: bytes) -> None:
        client = self._client(body, admin=False)
        query = parse_qs(urlsplit(self.path).query)
        try:
            after = int(query.get("after", ["0"])[0] or 0)
            limit = min(max(int(query.get("limit", ["100"])[0] or 100), 1), 1000)
        except ValueError:
            raise Problem(400, "after and limit are integers")
        self._json(200, self.sim.store.notifications_after(client, after, limit))

    def _health(self, path: str, body: bytes) -> None:
        counts = self.sim.store.counts()
        self._json(200, {"status": "ok", "uptime_s": round(time.time() - self.sim.started_at, 1), **counts})

    def _records(self, path: str, body: bytes) -> None:
        self._client(body, admin=True)
        kind = parse_qs(urlsplit(self.path).query).get("kind", [""])[0]
        self._json(200, self.sim.store.records(kind))

    def _config(self, path: str, body: bytes) -> None:
        self._client(body, admin=True)
        if self.command == "POST":
            try:
                changes = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(changes, dict):
                    raise ValueError("a JSON object of options")
                self._json(200, self.sim.config.update(changes))
            except (ValueError, UnicodeDecodeError) as exc:
                raise Problem(400, str(exc))
            return
        self._json(200, self.sim.config.public())

    def _page(self, path: str, body: bytes) -> None:
        rows = []
        for c in self.sim.store.recent(50):
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(v))}</td>"
                    for v in (
                        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c["created_at"])),
                        c["kind"],
                        c["format"],
                        c["lrn"],
                        c["mrn"] or "",
                        c["state"] or "pending",
                        " → ".join(c["statuses"]),
                        c["arrivals"],
                    )
                )
                + "</tr>"
            )
        counts = self.sim.store.counts()
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reference single window</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;font-size:.9rem}}</style></head>
<body><h1>Reference single window (ISMIT simulator)</h1>
<p>{counts["submissions"]} messages received, {counts["notifications"]} notifications issued,
{counts["pending_callbacks"]} callbacks pending. Protocol: docs/single-window-protocol.md.</p>
<table><thead><tr><th>Received (UTC)</th><th>Kind</th><th>Format</th><th>LRN / reference</th><th>MRN</th>
<th>Status</th><th>Statuses sent</th><th>Arrivals</th></tr></thead><tbody>
{"".join(rows) or '<tr><td colspan="8">Nothing received yet.</td></tr>'}
</tbody></table></body></html>"""
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def make_server(sim: Simulator, host: str | None = None, port: int | None = None) -> Server:
    handler = type("BoundHandler", (Handler,), {"sim": sim})
    return Server((host or sim.config.host, sim.config.port if port is None else port), handler)
