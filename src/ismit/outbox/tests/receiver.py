"""A stand-in for the receiving system of the worker-process tests, loaded by the worker with
`ismit worker --include ismit.outbox.tests.receiver`.

The receiver is a SQLite file named by the message's `X-Test-Receiver` header. Like a real single window,
it counts every arrival and applies a message's effect once per idempotency key. With `X-Test-Sleep: N`,
the first arrival then sleeps N seconds: the delivery is still running when the test kills the worker.
"""

from __future__ import annotations

import sqlite3
import time

from ismit import outbox

TOPIC = "test.receiver"

SCHEMA = """
CREATE TABLE IF NOT EXISTS arrivals (key TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, payload BLOB NOT NULL, at REAL NOT NULL);
"""


def open_receiver(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    conn.executescript(SCHEMA)
    return conn


@outbox.handler(TOPIC)
def receive(message) -> None:
    key = message.idempotency_key
    conn = open_receiver(message.headers["X-Test-Receiver"])
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO arrivals (key, count) VALUES (?, 1)"
            " ON CONFLICT(key) DO UPDATE SET count = count + 1",
            (key,),
        )
        arrivals = conn.execute("SELECT count FROM arrivals WHERE key = ?", (key,)).fetchone()[0]
        conn.execute(
            "INSERT OR IGNORE INTO effects (key, payload, at) VALUES (?, ?, ?)",
            (key, bytes(message.payload), time.time()),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    sleep = float(message.headers.get("X-Test-Sleep", "0"))
    if sleep and arrivals == 1:
        time.sleep(sleep)
