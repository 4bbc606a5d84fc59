"""The simulator's own database: one SQLite file (WAL, synchronous=NORMAL), stdlib sqlite3.

Connections come from a small pool (one connection is used by one thread at a time). Writes are explicit
`BEGIN IMMEDIATE` transactions, so that two requests with the same Idempotency-Key cannot both create.

Tables:
- submissions: every message received (declaration, correction, report, claim), unique per client and
  Idempotency-Key, with how many times that key arrived (`arrivals`) and the 202 answer given;
- conversations: one per original submission: kind, format, LRN, MRN, the statuses still to send (plan),
  whether it waits for a correction, when its next status is due;
- notifications: every notification issued, with its per-client sequence and its callback delivery state;
- faults: every fault injected (intake errors and timeouts, dropped / duplicated / reordered callbacks).
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    lrn TEXT NOT NULL DEFAULT '',
    mrn TEXT UNIQUE,
    country TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL DEFAULT '',
    message_reference TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    rev INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '',
    plan TEXT NOT NULL DEFAULT '[]',
    waiting INTEGER NOT NULL DEFAULT 0,
    facts TEXT NOT NULL DEFAULT '{}',
    next_due REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_due ON conversations (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at);
CREATE INDEX IF NOT EXISTS conversations_lrn ON conversations (client_id, kind, lrn, created_at);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    correction_of TEXT,
    lrn TEXT NOT NULL DEFAULT '',
    body BLOB NOT NULL,
    body_sha256 TEXT NOT NULL,
    response TEXT NOT NULL,
    arrivals INTEGER NOT NULL DEFAULT 1,
    other_body_arrivals INTEGER NOT NULL DEFAULT 0,
    received_at REAL NOT NULL,
    last_arrival_at REAL NOT NULL,
    UNIQUE (client_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS submissions_conversation ON submissions (conversation_id);
CREATE TABLE IF NOT EXISTS notifications (
    client_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    notification_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    callback TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at REAL,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (client_id, sequence)
);
CREATE INDEX IF NOT EXISTS notifications_conversation ON notifications (conversation_id, sequence);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
"""


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self.connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=60000")
        with self._lock:
            self._all.append(db)
        return db

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        try:
            db = self._pool.get_nowait()
        except queue.Empty:
            db = self._connect()
        try:
            yield db
        finally:
            if db.in_transaction:
                db.rollback()
            self._pool.put(db)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._all.clear()

    # -- reads ---------------------------------------------------------------------------------------------

    def submission(self, client_id: str, key: str) -> sqlite3.Row | None:
        with self.connection() as db:
            return db.execute(
                "SELECT * FROM submissions WHERE client_id = ? AND idempotency_key = ?", (client_id, key)
            ).fetchone()

    def conversation(self, conversation_id: str) -> dict | None:
        with self.connection() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return conversation_dict(row) if row else None

    def declaration_by_mrn(self, client_id: str, mrn: str) -> dict | None:
        with self.connection() as db:
            row = db.execute(
                "SELECT * FROM conversations WHERE mrn = ? AND client_id = ? AND kind = 'declaration'",
                (mrn, client_id),
            ).fetchone()
        return conversation_dict(row) if row else None

    def notifications_after(self, client_id: str, after: int, limit: int) -> list[dict]:
        with self.connection() as db:
            rows = db.execute(
                "SELECT sequence, notification_id, conversation_id, status, content_type, body, created_at "
                "FROM notifications WHERE client_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                (client_id, after, limit),
            ).fetchall()
        return [
            {
                "sequence": r["sequence"],
                "notification_id": r["notification_id"],
                "conversation_id": r["conversation_id"],
                "status": r["status"],
                "content_type": r["content_type"],
                "body": bytes(r["body"]).decode("latin-1" if "EDIFACT" in r["content_type"] else "utf-8"),
            }
            for r in rows
        ]

    def fault(self, kind: str, client_id: str = "", detail: str = "", at: float = 0.0) -> None:
        import time

        with self.transaction() as db:
            db.execute(
                "INSERT INTO faults (at, kind, client_id, detail) VALUES (?, ?, ?, ?)",
                (at or time.time(), kind, client_id, detail[:500]),
            )

    def records(self, kind: str = "") -> dict:
        """Every submission with its arrivals and its conversation's statuses; a summary; fault counts."""
        with self.connection() as db:
            statuses: dict[str, list[str]] = {}
            for row in db.execute(
                "SELECT conversation_id, status FROM notifications ORDER BY client_id, sequence"
            ):
                statuses.setdefault(row[0], []).append(row[1])
            rows = db.execute(
                "SELECT s.id, s.conversation_id, s.kind, s.format, s.lrn, s.idempotency_key, s.arrivals, "
                "s.other_body_arrivals, s.correction_of, s.received_at, s.client_id, "
                "c.mrn, c.state, c.version "
                "FROM submissions s JOIN conversations c ON c.id = s.conversation_id "
                "WHERE ? = '' OR s.kind = ? ORDER BY s.received_at, s.id",
                (kind, kind),
            ).fetchall()
            faults = {r[0]: r[1] for r in db.execute("SELECT kind, COUNT(*) FROM faults GROUP BY kind")}
            callbacks = {
                r[0]: r[1]
                for r in db.execute("SELECT callback, COUNT(*) FROM notifications GROUP BY callback")
            }
        records = []
        lrns: dict[tuple[str, str], int] = {}
        for r in rows:
            records.append(
                {
                    "message_id": r["id"],
                    "conversation_id": r["conversation_id"],
                    "client_id": r["client_id"],
                    "kind": r["kind"],
                    "format": r["format"],
                    "lrn": r["lrn"],
                    "mrn": r["mrn"],
                    "idempotency_key": r["idempotency_key"],
                    "arrivals": r["arrivals"],
                    "other_body_arrivals": r["other_body_arrivals"],
                    "correction_of": r["correction_of"],
                    "received_at": r["received_at"],
                    "state": r["state"],
                    "version": r["version"],
                    "statuses": statuses.get(r["conversation_id"], []),
                }
            )
            if not r["correction_of"]:
                lrns[(r["kind"], r["lrn"])] = lrns.get((r["kind"], r["lrn"]), 0) + 1
        by_state: dict[str, int] = {}
        for record in records:
            if not record["correction_of"]:
                by_state[record["state"] or "pending"] = by_state.get(record["state"] or "pending", 0) + 1
        summary = {
            "submissions": len(records),
            "originals": sum(1 for r in records if not r["correction_of"]),
            "corrections": sum(1 for r in records if r["correction_of"]),
            "arrivals": sum(r["arrivals"] for r in records),
            "repeated_arrivals": sum(r["arrivals"] - 1 for r in records),
            "by_state": by_state,
            "lrns_submitted_more_than_once": [
                {"kind": k, "lrn": lrn, "submissions": n} for (k, lrn), n in sorted(lrns.items()) if n > 1
            ],
            "callbacks": callbacks,
        }
        return {"records": records, "summary": summary, "faults": faults}

    def recent(self, limit: int = 50) -> list[dict]:
        with self.connection() as db:
            rows = db.execute(
                "SELECT c.*, (SELECT SUM(arrivals) FROM submissions s WHERE s.conversation_id = c.id) "
                "AS arrivals FROM conversations c ORDER BY c.created_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
            out = []
            for row in rows:
                item = conversation_dict(row)
                item["arrivals"] = row["arrivals"]
                item["statuses"] = [
                    r[0]
                    for r in db.execute(
                        "SELECT status FROM notifications WHERE conversation_id = ? ORDER BY sequence",
                        (row["id"],),
                    )
                ]
                out.append(item)
        return out

    def counts(self) -> dict:
        with self.connection() as db:
            return {
                "submissions": db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
                "conversations": db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0],
                "notifications": db.execute("SELECT COUNT(*) FROM notifications").fetchone()[0],
                "pending_callbacks": db.execute(
                    "SELECT COUNT(*) FROM notifications WHERE callback = 'pending'"
                ).fetchone()[0],
            }


def conversation_dict(row: sqlite3.Row) -> dict:
    out = dict(row)
    out["plan"] = json.loads(out.get("plan") or "[]")
    out["facts"] = json.loads(out.get("facts") or "{}")
    return out
