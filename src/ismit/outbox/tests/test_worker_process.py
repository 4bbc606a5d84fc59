"""Real processes: `ismit worker` delivers what another process enqueued, and a worker killed with SIGKILL in
the middle of a delivery is replaced without losing the message or applying it twice.

The processes share a fresh database (a SQLite file, or a new PostgreSQL database when DATABASE_URL is
PostgreSQL) and a broker: the filesystem transport in a temporary folder, or RabbitMQ on a queue of their
own when CELERY_BROKER_URL is amqp:// (CI). The receiving system is ismit.outbox.tests.receiver.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ismit.outbox.tests.receiver import TOPIC, open_receiver

ISMIT = str(Path(sys.executable).parent / "ismit")
CLAIM_TIMEOUT_S = 5


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """The URL of a fresh, migrated database that every process of the test shares."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        parts = urlsplit(url)
        name = f"ismit_outbox_{os.getpid()}_{secrets.token_hex(3)}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        shared = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        shared = f"sqlite:///{tmp_path_factory.mktemp('outbox-db') / 'ismit.sqlite3'}"
    var = tmp_path_factory.mktemp("outbox-migrate")
    env = {**os.environ, "DATABASE_URL": shared, "ISMIT_VAR_DIR": str(var), "SECRET_KEY": "x" * 50}
    subprocess.run([ISMIT, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    yield shared
    if shared.startswith("postgres"):
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def platform(database, tmp_path):
    """Environment of the platform's processes: the shared database, a broker queue of the test's own."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    queue = f"ismit-test-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "ISMIT_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "x" * 50,
        "CELERY_BROKER_URL": broker if broker.startswith("amqp") else "filesystem://localhost/",
        "ISMIT_TASK_QUEUE": queue,
        "ISMIT_OUTBOX_CLAIM_TIMEOUT_S": str(CLAIM_TIMEOUT_S),
        "ISMIT_OUTBOX_SWEEP_INTERVAL_S": "1",
        "ISMIT_OUTBOX_REDISPATCH_AFTER_S": "2",
        "ISMIT_OUTBOX_BACKOFF_BASE_S": "1",
        "LOG_LEVEL": "INFO",
    }
    yield Platform(env, tmp_path)
    if broker.startswith("amqp"):
        from kombu import Connection

        with Connection(broker) as conn:
            conn.default_channel.queue_delete(queue)


class Platform:
    def __init__(self, env: dict[str, str], folder: Path):
        self.env = env
        self.folder = folder
        self.workers: list[subprocess.Popen] = []

    def start_worker(self) -> subprocess.Popen:
        log = self.folder / f"worker-{len(self.workers)}.log"
        proc = subprocess.Popen(
            [
                ISMIT,
                "worker",
                "--concurrency=1",
                "--beat",
                "--include=ismit.outbox.tests.receiver",
                f"--hostname=ismit-test-{secrets.token_hex(3)}@%h",
            ],
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool and the beat die with it
        )
        self.workers.append(proc)
        wait_for(lambda: "ready." in log.read_text(), 60, lambda: log.read_text())
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)

    def enqueue(self, key: str, payload: bytes, headers: dict[str, str]) -> None:
        """Enqueue from another process, as the web server does: the task is sent when it commits."""
        code = (
            "from django.db import transaction\n"
            "from ismit.outbox.services import enqueue\n"
            "with transaction.atomic():\n"
            f"    enqueue(topic={TOPIC!r}, payload={payload!r}, idempotency_key={key!r},\n"
            f"            organisation_id=None, headers={json.dumps(headers)})\n"
        )
        subprocess.run([ISMIT, "shell", "-c", code], env=self.env, check=True, capture_output=True)

    def message(self, key: str) -> tuple[str, int]:
        return query(
            self.env["DATABASE_URL"],
            "SELECT status, attempts FROM outbox_outboxmessage WHERE idempotency_key = ?",
            key,
        )[0]

    def attempts(self, key: str) -> list[str]:
        rows = query(
            self.env["DATABASE_URL"],
            "SELECT a.outcome FROM outbox_outboxattempt a JOIN outbox_outboxmessage m ON m.id = a.message_id "
            "WHERE m.idempotency_key = ? ORDER BY a.id",
            key,
        )
        return [outcome for (outcome,) in rows]

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("worker-*.log")))


def query(url: str, sql: str, *params) -> list[tuple]:
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20)) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()


def wait_for(condition: Callable[[], bool], seconds: float, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"still waiting after {seconds} s\n{explain()}")


def receiver_counts(path: Path, key: str) -> tuple[int, int]:
    """(arrivals, effects applied) of the message at the receiver."""
    with closing(open_receiver(str(path))) as conn:
        arrivals = conn.execute("SELECT count FROM arrivals WHERE key = ?", (key,)).fetchone()
        effects = conn.execute("SELECT COUNT(*) FROM effects WHERE key = ?", (key,)).fetchone()[0]
    return (arrivals[0] if arrivals else 0, effects)


def test_a_worker_delivers_what_another_process_enqueued(platform):
    receiver = platform.folder / "receiver.sqlite3"
    key = f"declaration-{secrets.token_hex(4)}"
    try:
        platform.start_worker()
        platform.enqueue(key, b"<Declaration/>", {"X-Test-Receiver": str(receiver)})
        wait_for(lambda: platform.message(key)[0] == "delivered", 30, platform.logs)
    finally:
        platform.stop_all()
    assert platform.message(key) == ("delivered", 1)
    assert receiver_counts(receiver, key) == (1, 1)
    with closing(open_receiver(str(receiver))) as conn:
        assert conn.execute("SELECT payload FROM effects").fetchone()[0] == b"<Declaration/>"


def test_a_worker_killed_during_a_delivery_is_replaced_and_the_message_applies_once(platform):
    receiver = platform.folder / "receiver.sqlite3"
    key = f"declaration-{secrets.token_hex(4)}"
    try:
        first = platform.start_worker()
        # The receiver applies the message, then the handler sleeps: the worker dies before it can record
        # the delivery (as if it were killed while waiting for the single window's answer).
        platform.enqueue(key, b"<Declaration/>", {"X-Test-Receiver": str(receiver), "X-Test-Sleep": "60"})
        wait_for(lambda: receiver.exists() and receiver_counts(receiver, key)[0] == 1, 30, platform.logs)
        assert platform.message(key) == ("sending", 1)
        platform.kill(first)
        assert platform.message(key) == ("sending", 1)  # nobody is delivering it now
        platform.start_worker()
        wait_for(lambda: platform.message(key)[0] == "delivered", 30 + CLAIM_TIMEOUT_S, platform.logs)
    finally:
        platform.stop_all()
    # Delivered at least once to the receiver (twice here), applied exactly once thanks to the key.
    assert receiver_counts(receiver, key) == (2, 1)
    assert platform.message(key) == ("delivered", 2)
    assert platform.attempts(key) == ["lost", "delivered"]


def test_a_delivery_that_outlasts_its_claim_is_interrupted_and_retried(platform):
    receiver = platform.folder / "receiver.sqlite3"
    key = f"declaration-{secrets.token_hex(4)}"
    try:
        platform.start_worker()
        # The first arrival hangs far longer than the claim: the worker stops it before anyone else may
        # take the message over, and tries again.
        platform.enqueue(key, b"<Declaration/>", {"X-Test-Receiver": str(receiver), "X-Test-Sleep": "600"})
        wait_for(lambda: platform.message(key)[0] == "delivered", 30 + CLAIM_TIMEOUT_S, platform.logs)
    finally:
        platform.stop_all()
    assert platform.attempts(key) == ["retry", "delivered"]
    assert receiver_counts(receiver, key) == (2, 1)
    (error,) = query(
        platform.env["DATABASE_URL"],
        "SELECT a.error FROM outbox_outboxattempt a JOIN outbox_outboxmessage m ON m.id = a.message_id "
        "WHERE m.idempotency_key = ? AND a.outcome = 'retry'",
        key,
    )[0]
    assert error == "The delivery was stopped after 4 s (the claim's limit)."
