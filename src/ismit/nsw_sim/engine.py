"""The asynchronous side of the single window: statuses issued when due, callbacks sent by a small pool.

One scheduler thread owns the notifications table: it issues the due statuses of conversations (in
batches, one transaction per batch), gives each notification the next sequence of its client, and
records callback results. Sender threads POST the callbacks (signed, keep-alive connections) and hand
failures back to the scheduler, which retries them with exponential backoff.

Faults (Config): a dropped callback is never sent (the notification stays pollable); a duplicated one is
sent twice with the same X-Notification-ID; out of order, a conversation's next status is issued at the
same time and sent first. Each decision is drawn from a hash of the seed and the notification id (or
conversation id), so a given seed gives the same faults whatever the thread timing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import heapq
import http.client
import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ismit.lib import hmac_auth
from ismit.nsw_sim import codes, messages, mrn
from ismit.nsw_sim.config import Config
from ismit.nsw_sim.store import Store, conversation_dict

log = logging.getLogger(__name__)
BATCH = 500
TICK = 0.05  # the scheduler works in batches at most this often: fewer transactions, less contention


def chance(seed: int, purpose: str, key: str) -> float:
    """A number in [0, 1) fixed by the seed, the purpose and the key."""
    digest = hashlib.sha256(f"{seed}:{purpose}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Outgoing:
    client_id: str
    sequence: int
    notification_id: str
    conversation_id: str
    status: str
    content_type: str
    body: bytes
    attempt: int = 0
    duplicate: bool = False  # send once more after delivery
    copy: bool = False  # the second sending of a duplicated callback


@dataclass
class _Prepared:
    conversation_id: str
    client_id: str
    rev: int
    plan: list
    state: str = ""
    next_due: float | None = None
    mrn: str | None = None
    swapped: bool = False
    notes: list = field(default_factory=list)  # (status, notification id, content type, body)


@dataclass(order=True)
class _Timer:
    due: float
    order: int
    kind: str = field(compare=False)  # "step" or "retry"
    payload: object = field(compare=False)


class Engine:
    def __init__(self, config: Config, store: Store):
        self.config = config
        self.store = store
        self._timers: list[_Timer] = []
        self._order = 0
        self._results: list[tuple] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._sequences: dict[str, int] = {}
        self._sendq: queue.Queue[Outgoing | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._local = threading.local()

    # -- life cycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        with self.store.connection() as db:
            for row in db.execute("SELECT client_id, MAX(sequence) FROM notifications GROUP BY client_id"):
                self._sequences[row[0]] = row[1]
            due = db.execute("SELECT id, next_due FROM conversations WHERE next_due IS NOT NULL").fetchall()
            pending = db.execute(
                "SELECT * FROM notifications WHERE callback = 'pending' ORDER BY client_id, sequence"
            ).fetchall()
        for row in due:
            self.schedule(row["id"], row["next_due"])
        for row in pending:
            self._sendq.put(self._outgoing(row))
        self._threads.append(threading.Thread(target=self._scheduler, name="nsw-sim-scheduler", daemon=True))
        for n in range(max(1, self.config.senders)):
            self._threads.append(
                threading.Thread(target=self._sender, name=f"nsw-sim-sender-{n}", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for _ in self._threads:
            self._sendq.put(None)
        deadline = time.time() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.time()))

    def delay(self, key: str) -> float:
        jitter = self.config.jitter * chance(self.config.seed, "delay", key) if self.config.jitter else 0.0
        return max(0.0, self.config.delay + jitter)

    def schedule(self, conversation_id: str, due: float) -> None:
        self._timer(due, "step", conversation_id)

    def _timer(self, due: float, kind: str, payload) -> None:
        with self._cond:
            self._order += 1
            heapq.heappush(self._timers, _Timer(due, self._order, kind, payload))
            self._cond.notify()

    def idle(self) -> bool:
        """Nothing due, nothing being sent (for tests and the bench)."""
        with self._cond:
            return not self._timers and not self._results and self._sendq.unfinished_tasks == 0

    # -- the scheduler -------------------------------------------------------------------------------------

    def _scheduler(self) -> None:
        last = 0.0
        while True:
            pause = last + TICK - time.time()
            if pause > 0:
                time.sleep(pause)
            last = time.time()
            with self._cond:
                while not self._stopping:
                    now = time.time()
                    if self._results or (self._timers and self._timers[0].due <= now):
                        break
                    wait = self._timers[0].due - now if self._timers else None
                    self._cond.wait(wait)
                if self._stopping:
                    results, self._results = self._results, []
                    if results:
                        self._record(results)
                    return
                now = time.time()
                steps, retries = [], []
                while self._timers and self._timers[0].due <= now and len(steps) + len(retries) < BATCH:
                    timer = heapq.heappop(self._timers)
                    (steps if timer.kind == "step" else retries).append(timer.payload)
                results, self._results = self._results, []
            try:
                if results:
                    self._record(results)
                for item in retries:
                    self._sendq.put(item)
                if steps:
                    self._issue(steps)
            except Exception:  # keep the window running; what failed is retried from the database
                log.exception("nsw-sim scheduler")
                self._reload_sequences()
                time.sleep(0.5)
                for conversation_id in steps:
                    self.schedule(conversation_id, time.time())

    def _reload_sequences(self) -> None:
        with self.store.connection() as db:
            self._sequences = {
                r[0]: r[1]
                for r in db.execute("SELECT client_id, MAX(sequence) FROM notifications GROUP BY client_id")
            }

    def _record(self, results: list[tuple]) -> None:
        with self.store.transaction() as db:
            for state, notification_id, attempts, error, at in results:
                if state == "fault":
                    db.execute(
                        "INSERT INTO faults (at, kind, client_id, detail) VALUES (?, ?, ?, ?)",
                        (at, notification_id, attempts, error),
                    )
                    continue
                db.execute(
                    "UPDATE notifications SET callback = ?, attempts = ?, last_error = ?, "
                    "delivered_at = COALESCE(delivered_at, ?) WHERE notification_id = ?",
                    (state, attempts, error[:500], at if state == "delivered" else None, notification_id),
                )

    def _next_sequence(self, client_id: str) -> int:
        value = self._sequences.get(client_id, 0) + 1
        self._sequences[client_id] = value
        return value

    def _reference(self, conversation: dict, salt: int = 0) -> str:
        """The MRN (or FX / VAT registration number) a conversation gets when accepted."""
        country = conversation.get("country") or self.config.country
        prefix = {"fx_settlement": "FX", "vat_refund_claim": "VR"}.get(conversation["kind"], "")
        return prefix + mrn.make_mrn(conversation["id"], country, salt=salt)

    def _prepare(self, conversation: dict, now: float, issued_at: dt.datetime) -> _Prepared | None:
        """The next status (or two, out of order) of a due conversation, rendered: no database access."""
        config = self.config
        if conversation["next_due"] is None or conversation["next_due"] > now + 0.001:
            return None  # a stale timer: the conversation was rescheduled or is waiting
        plan = list(conversation["plan"])
        p = _Prepared(conversation["id"], conversation["client_id"], conversation["rev"], plan)
        if not plan:
            p.state = conversation["state"]
            return p
        batch = [plan.pop(0)]
        if (
            plan
            and batch[0]["status"] != codes.QUERY
            and config.callback_out_of_order_rate
            and chance(config.seed, "order", f"{conversation['id']}:{conversation['state']}:{len(plan)}")
            < config.callback_out_of_order_rate
        ):
            batch.append(plan.pop(0))
            p.swapped = True
        state = conversation["state"]
        for step in batch:
            if step["status"] == codes.ACCEPTED and not conversation.get("mrn"):
                conversation["mrn"] = p.mrn = conversation.get("_mrn") or self._reference(conversation)
            notification_id = uuid.uuid4().hex
            content_type, body = messages.render(
                conversation, step, notification_id=notification_id, issued_at=issued_at, agency=config.agency
            )
            p.notes.append((step["status"], notification_id, content_type, body))
            state = step["status"]
        p.state = state
        final = state in codes.FINAL[conversation["kind"]]
        if not (state == codes.QUERY or final or not plan):
            p.next_due = now + self.delay(f"{conversation['id']}:{len(plan)}")
        return p

    def _write(self, db: sqlite3.Connection, p: _Prepared, now: float) -> list[Outgoing] | None:
        """Stores a prepared status; None when the conversation changed meanwhile (or its MRN is taken)."""
        try:
            changed = db.execute(
                "UPDATE conversations SET state = ?, plan = ?, waiting = ?, next_due = ?, updated_at = ?, "
                "rev = rev + 1, mrn = COALESCE(mrn, ?) WHERE id = ? AND rev = ?",
                (
                    p.state,
                    json.dumps(p.plan),
                    int(p.state == codes.QUERY),
                    p.next_due,
                    now,
                    p.mrn,
                    p.conversation_id,
                    p.rev,
                ),
            ).rowcount
        except sqlite3.IntegrityError:  # the MRN drawn is taken
            return None
        if not changed:
            return None
        callback = "pending" if self.config.callback_url else "none"
        out = []
        for status, notification_id, content_type, body in p.notes:
            sequence = self._next_sequence(p.client_id)
            db.execute(
                "INSERT INTO notifications (client_id, sequence, notification_id, conversation_id, status, "
                "content_type, body, created_at, callback) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    p.client_id,
                    sequence,
                    notification_id,
                    p.conversation_id,
                    status,
                    content_type,
                    body,
                    now,
                    callback,
                ),
            )
            if callback == "pending":
                out.append(
                    Outgoing(
                        p.client_id, sequence, notification_id, p.conversation_id, status, content_type, body
                    )
                )
        if p.swapped and len(out) == 2:
            out.reverse()
            db.execute(
                "INSERT INTO faults (at, kind, client_id, detail) VALUES (?, 'callback_out_of_order', ?, ?)",
                (now, p.client_id, p.conversation_id),
            )
        return out

    def _issue(self, conversation_ids: list[str]) -> None:
        """Issues the due statuses of these conversations: rendered outside the write transaction (which
        intake requests wait for), written in one short transaction."""
        now = time.time()
        issued_at = dt.datetime.fromtimestamp(now, dt.UTC)
        config = self.config
        ids = list(dict.fromkeys(conversation_ids))
        with self.store.connection() as db:
            rows = []
            for start in range(0, len(ids), 400):
                chunk = ids[start : start + 400]
                marks = ",".join("?" * len(chunk))
                rows += db.execute(f"SELECT * FROM conversations WHERE id IN ({marks})", chunk).fetchall()  # noqa: S608
        prepared = [p for p in (self._prepare(conversation_dict(r), now, issued_at) for r in rows) if p]
        outgoing: list[Outgoing] = []
        later: list[tuple[str, float]] = []
        with self.store.transaction() as db:
            for p in prepared:
                notes = self._write(db, p, now)
                if notes is None:  # changed meanwhile: prepare again under the lock, with a free MRN
                    row = db.execute(
                        "SELECT * FROM conversations WHERE id = ?", (p.conversation_id,)
                    ).fetchone()
                    conversation = conversation_dict(row)
                    if not conversation.get("mrn"):
                        conversation["_mrn"] = self._free_reference(db, conversation)
                    p = self._prepare(conversation, now, issued_at)
                    notes = self._write(db, p, now) if p else None
                    if notes is None:
                        continue
                outgoing.extend(notes)
                if p.next_due is not None:
                    later.append((p.conversation_id, p.next_due))
            dropped: set[str] = set()
            for note in outgoing:
                if (
                    config.callback_drop_rate
                    and chance(config.seed, "drop", note.notification_id) < config.callback_drop_rate
                ):
                    dropped.add(note.notification_id)
                    db.execute(
                        "UPDATE notifications SET callback = 'dropped' WHERE notification_id = ?",
                        (note.notification_id,),
                    )
                    db.execute(
                        "INSERT INTO faults (at, kind, client_id, detail) "
                        "VALUES (?, 'callback_dropped', ?, ?)",
                        (now, note.client_id, note.notification_id),
                    )
                elif (
                    config.callback_duplicate_rate
                    and chance(config.seed, "duplicate", note.notification_id)
                    < config.callback_duplicate_rate
                ):
                    note.duplicate = True
        for conversation_id, due in later:
            self.schedule(conversation_id, due)
        for note in outgoing:
            if note.notification_id not in dropped:
                self._sendq.put(note)

    def _free_reference(self, db: sqlite3.Connection, conversation: dict) -> str:
        for salt in range(1000):
            number = self._reference(conversation, salt)
            if not db.execute("SELECT 1 FROM conversations WHERE mrn = ?", (number,)).fetchone():
                return number
        raise RuntimeError("no free MRN")

    # -- the senders -----------------------------------------------------------------------------------------

    def _outgoing(self, row: sqlite3.Row) -> Outgoing:
        return Outgoing(
            row["client_id"],
            row["sequence"],
            row["notification_id"],
            row["conversation_id"],
            row["status"],
            row["content_type"],
            bytes(row["body"]),
            attempt=row["attempts"],
        )

    def _result(self, *result) -> None:
        with self._cond:
            self._results.append(result)
            self._cond.notify()

    def _sender(self) -> None:
        while True:
            note = self._sendq.get()
            try:
                if note is None:
                    return
                self._send(note)
            except Exception:
                log.exception("nsw-sim sender")
            finally:
                self._sendq.task_done()

    def _send(self, note: Outgoing) -> None:
        config = self.config
        note.attempt += 1
        error = self._post(note)
        now = time.time()
        if note.copy:
            return
        if error is None:
            self._result("delivered", note.notification_id, note.attempt, "", now)
            if note.duplicate:
                self._result("fault", "callback_duplicated", note.client_id, note.notification_id, now)
                copy = Outgoing(**{**note.__dict__, "copy": True, "duplicate": False})
                self._sendq.put(copy)
            return
        if note.attempt <= config.callback_retries:
            self._result("pending", note.notification_id, note.attempt, error, now)
            self._timer(now + config.callback_backoff * (2 ** (note.attempt - 1)), "retry", note)
        else:
            self._result("failed", note.notification_id, note.attempt, error, now)

    def _connection(self, url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        cache = getattr(self._local, "connections", None)
        if cache is None:
            cache = self._local.connections = {}
        conn = cache.get(key)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = cache[key] = cls(parts.netloc, timeout=timeout)
        conn.timeout = timeout
        return conn, hmac_auth.path_with_query(url)

    def _drop_connection(self, url: str) -> None:
        parts = urlsplit(url)
        conn = getattr(self._local, "connections", {}).pop((parts.scheme, parts.netloc), None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _post(self, note: Outgoing) -> str | None:
        """None when the platform took the callback (2xx), else what went wrong."""
        config = self.config
        url = config.callback_url
        if not url:
            return "no callback URL"
        secret = config.secrets().get(note.client_id, "")
        for reuse in (True, False):
            conn, path = self._connection(url, config.callback_timeout)
            headers = {
                "Content-Type": note.content_type,
                "X-Conversation-ID": note.conversation_id,
                "X-Notification-ID": note.notification_id,
                "X-Notification-Sequence": str(note.sequence),
                "X-Notification-Status": note.status,
                **hmac_auth.sign_request(secret, "POST", path, note.body, client_id=note.client_id),
            }
            try:
                conn.request("POST", path, body=note.body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection(url)
                if reuse and isinstance(
                    exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
                ):
                    continue  # a kept-alive connection the platform had closed: once more on a new one
                return f"{type(exc).__name__}: {exc}"
            if response.will_close:
                self._drop_connection(url)
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
        return "connection closed"
