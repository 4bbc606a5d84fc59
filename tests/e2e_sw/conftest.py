"""The single window connector end to end: real processes over real HTTP, one set per test session.

- `ismit serve`: the platform (gunicorn) on its own database — a fresh SQLite file, or a fresh PostgreSQL
  database on the server of DATABASE_URL when it is PostgreSQL — migrated, with the reference data and the
  demo seed (`seed_demo`: the verified MSME msme1@demo.ismit.example and its trade DEMO-EXP-0001);
- `ismit beat`: the clock (outbox sweep every second, polling of the single window every 2 s);
- `ismit worker`: the deliveries; the tests kill it (SIGKILL), stop and start it;
- `ismit nsw-sim`: the reference single window, its own SQLite database, calling back the platform at the
  URL `ismit customs add-window` printed; its faults are switched at run time (POST /_sim/config).

Broker: RabbitMQ when CELERY_BROKER_URL is amqp:// (CI), on a queue of the session's own (ISMIT_TASK_QUEUE)
so that parallel runs on one broker never take each other's tasks, reached through a TCP relay in the test
process (BrokerRelay) so that a test can cut the platform off from the broker and reconnect it without
touching the machine's RabbitMQ service. Otherwise kombu's filesystem transport in the session's var/.

The tests drive the platform through its JSON API as the MSME (a bearer token of msme1), read the single
window's own records (/_sim/records) to prove what reached it, and read the platform's database directly
only for what the API does not show (the outbox's idempotency keys and attempts).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ismit.lib import hmac_auth

ISMIT = str(Path(sys.executable).parent / "ismit")
CLIENT, SECRET = "ismit-e2e", "e2e-window-secret-" + secrets.token_hex(8)
ADMIN, ADMIN_SECRET = "nsw-sim-admin-e2e", "e2e-admin-secret-" + secrets.token_hex(8)
DEMO_USER = "msme1@demo.ismit.example"
DEMO_REFERENCE = "DEMO-EXP-0001"
WINDOW_TIMEOUT_S = 10.0
CLAIM_TIMEOUT_S = 6
# The simulator's options at the start of every test (no delay: the tests are about faults, not waiting).
SIM_BASELINE = {
    "delay": 0.0,
    "jitter": 0.05,
    "intake_error_rate": 0.0,
    "intake_timeout_rate": 0.0,
    "intake_timeout_seconds": 3.0,
    "callback_drop_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "callback_out_of_order_rate": 0.0,
    "callback_retries": 3,
    "callback_backoff": 0.2,
    "seed": 0,
}
FINAL = {"goods_exited", "rejected"}
# The order of a declaration's statuses (docs/single-window-protocol.md): a status never returns to an
# earlier rank. query, documents_required and control share one rank (they may follow each other).
RANK = {
    "queued": 0,
    "sent": 1,
    "received": 2,
    "accepted": 3,
    "query": 4,
    "documents_required": 4,
    "control": 4,
    "cleared": 5,
    "goods_exited": 6,
    "rejected": 6,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], seconds: float, explain: Callable[[], str] = str, step=0.2):
    """The first truthy value of condition() within `seconds`; fails the test with explain() otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {seconds} s\n{explain()}")
        time.sleep(step)


# -- the broker relay ----------------------------------------------------------------------------------


class BrokerRelay:
    """A TCP relay from a local port to RabbitMQ. cut() drops every connection through it and refuses new
    ones (the broker is unreachable, as while it restarts); restore() accepts connections again."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.connections = 0
        self.restore()

    def restore(self) -> None:
        with self.lock:
            if self.listener is not None:
                return
            listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
            listener.settimeout(0.2)
            self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            sockets, self.sockets = list(self.sockets), set()
        if listener is not None:
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self.lock:
                if self.listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self.lock:
                if self.listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self.sockets.update((client, upstream))
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self.lock:
                self.sockets.discard(src)
                self.sockets.discard(dst)
            src.close()


# -- the processes and the clients of the session -----------------------------------------------------


class Stack:
    """The session's processes, and what the tests do with them."""

    def __init__(self, folder: Path, env: dict[str, str], relay: BrokerRelay | None):
        self.folder = folder
        self.env = env
        self.relay = relay
        self.web_port = int(urlsplit(env["SITE_URL"]).port)
        self.web_url = env["SITE_URL"]
        self.sim_port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.serial = 0
        self.window_timeout = WINDOW_TIMEOUT_S
        self.token = ""
        self.organisation_id = 0
        self.demo_trade_id = 0

    # -- commands and processes --

    def run(self, *args: str) -> str:
        done = subprocess.run([ISMIT, *args], env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(
                f"ismit {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout

    def _start(self, name: str, args: list[str], ready: Callable[[], bool]) -> subprocess.Popen:
        self.serial += 1
        log = self.folder / f"{name}-{self.serial}.log"
        proc = subprocess.Popen(
            args,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its children (the pool) die with it
        )
        self.processes[name], self.logs[name] = proc, log

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            return ready()

        wait_for(up, 60, lambda: log.read_text()[-4000:])
        return proc

    def running(self, name: str) -> bool:
        proc = self.processes.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL to the process and its children: no chance to finish anything."""
        proc = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self, name: str, timeout: float = 20) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it does not end in time."""
        proc = self.processes.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)

    def start_web(self) -> None:
        self._start(
            "web",
            [ISMIT, "serve", "--port", str(self.web_port), "--workers", "2", "--threads", "4"],
            lambda: self._http_ok(f"{self.web_url}/accounts/login/"),
        )

    def start_sim(self, callback_url: str) -> None:
        args = [
            ISMIT,
            "nsw-sim",
            "--port",
            str(self.sim_port),
            "--db",
            str(self.folder / "nsw-sim.sqlite3"),
            "--client-id",
            CLIENT,
            "--secret",
            SECRET,
            "--admin-id",
            ADMIN,
            "--admin-secret",
            ADMIN_SECRET,
            "--callback-url",
            callback_url,
            *[f"--{name.replace('_', '-')}={value}" for name, value in SIM_BASELINE.items()],
        ]
        self._start("nsw-sim", args, lambda: self._http_ok(f"{self.sim_url}/_sim/health"))

    def start_worker(self) -> None:
        name = f"e2e-sw-{secrets.token_hex(3)}@%h"
        log_ready = lambda: "ready." in self.logs["worker"].read_text()  # noqa: E731
        self._start("worker", [ISMIT, "worker", "--concurrency=2", f"--hostname={name}"], log_ready)

    def start_beat(self) -> None:
        self._start("beat", [ISMIT, "beat"], lambda: "beat: Starting" in self.logs["beat"].read_text())

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then SIGKILL to those still running after 10 s."""
        for proc in self.processes.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in self.processes.items():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill(name)

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def explain(self) -> str:
        """The end of every process's log, for a failure message."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"---- {name} ({path.name}) ----\n{text[-3000:]}")
        return "\n".join(parts)

    # -- the single window --

    def add_window(self, timeout: float = WINDOW_TIMEOUT_S) -> str:
        """`ismit customs add-window` for the simulator (or its new timeout); returns the callback URL."""
        self.window_timeout = timeout
        out = self.run(
            "customs",
            "add-window",
            "--country=CI",
            "--procedure=export",
            "--connector=wco-xml",
            f"--base-url={self.sim_url}",
            f"--client-id={CLIENT}",
            f"--secret={SECRET}",
            f"--timeout={timeout}",
        )
        return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("callback URL: "))

    def sim(self, method: str, path: str, payload: dict | None = None) -> dict:
        """A signed request of the simulator's admin client."""
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = {"Content-Type": "application/json"}
        headers.update(hmac_auth.sign_request(ADMIN_SECRET, method, path, body, client_id=ADMIN))
        request = urllib.request.Request(
            self.sim_url + path, data=body if method != "GET" else None, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def faults(self, **options) -> dict:
        return self.sim("POST", "/_sim/config", options)

    def sim_records(self) -> dict:
        return self.sim("GET", "/_sim/records?kind=declaration")

    def sim_db(self, sql: str, *params) -> list[tuple]:
        """A read of the simulator's own database (what its admin endpoints do not detail)."""
        with contextlib.closing(sqlite3.connect(self.folder / "nsw-sim.sqlite3", timeout=30)) as conn:
            return conn.execute(sql, params).fetchall()

    # -- the platform's API, as the MSME --

    def api(
        self, method: str, path: str, payload=None, headers: dict | None = None
    ) -> tuple[int, dict, dict]:
        """(status, JSON answer, headers) of a request to the platform's API."""
        body = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.web_url}/api/v1{path}",
            data=body,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "X-ISMIT-Organisation": str(self.organisation_id),
                "Content-Type": "application/json",
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                raw, status, got = answer.read(), answer.status, dict(answer.headers)
        except urllib.error.HTTPError as error:
            raw, status, got = error.read(), error.code, dict(error.headers)
        return status, (json.loads(raw) if raw else {}), got

    def new_trades(self, prefix: str, count: int) -> list[int]:
        """`count` new trades of the demo MSME: copies of DEMO-EXP-0001 through the API."""
        ids = []
        for n in range(count):
            status, body, _ = self.api(
                "POST", f"/trades/{self.demo_trade_id}/duplicate", {"reference": f"{prefix}-{n:03d}"}
            )
            assert status == 201, body
            ids.append(body["id"])
        return ids

    def submit(self, trade_id: int, key: str | None = None) -> int:
        """Submit the trade's declaration through the API (with an Idempotency-Key); its id."""
        key = key or f"e2e-{trade_id}-{secrets.token_hex(4)}"
        status, body, _ = self.api("POST", f"/trades/{trade_id}/declarations", {}, {"Idempotency-Key": key})
        assert status == 201, body
        return body["id"]

    def declaration(self, declaration_id: int) -> dict:
        status, body, _ = self.api("GET", f"/declarations/{declaration_id}")
        assert status == 200, body
        return body

    # -- the platform's database (what the API does not show) --

    def query(self, sql: str, *params) -> list[tuple]:
        url = self.env["DATABASE_URL"]
        if url.startswith("sqlite"):
            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as conn:
                return conn.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def statuses(self, declaration_ids: Iterable[int]) -> dict[int, str]:
        ids = list(declaration_ids)
        marks = ",".join("?" * len(ids))
        return dict(self.query(f"SELECT id, status FROM customs_declaration WHERE id IN ({marks})", *ids))

    def outbox(self, declaration_ids: Iterable[int]) -> dict[int, dict]:
        """The outbox message of each declaration: status, attempts and the outcomes of its attempts."""
        ids = list(declaration_ids)
        marks = ",".join("?" * len(ids))
        rows = self.query(
            "SELECT d.id, d.idempotency_key, m.status, m.attempts, m.id FROM customs_declaration d "
            f"JOIN outbox_outboxmessage m ON m.idempotency_key = d.idempotency_key WHERE d.id IN ({marks})",
            *ids,
        )
        out = {
            d: {"key": key, "status": status, "attempts": attempts, "message": m, "outcomes": []}
            for d, key, status, attempts, m in rows
        }
        by_message = {v["message"]: v for v in out.values()}
        marks = ",".join("?" * len(by_message))
        if by_message:
            for message_id, outcome in self.query(
                f"SELECT message_id, outcome FROM outbox_outboxattempt WHERE message_id IN ({marks}) "
                "ORDER BY id",
                *by_message,
            ):
                by_message[message_id]["outcomes"].append(outcome)
        return out

    def wait_final(self, declaration_ids: list[int], seconds: float = 60, on_poll=None) -> None:
        """Until every declaration has a final status (goods exited, or rejected)."""

        def done() -> bool:
            statuses = self.statuses(declaration_ids)
            failed = [d for d, s in statuses.items() if s == "failed"]
            if failed:
                pytest.fail(
                    f"declarations {failed} could not be delivered\n{self._progress(declaration_ids)}"
                )
            if on_poll is not None:
                on_poll()
            return all(statuses.get(d) in FINAL for d in declaration_ids)

        wait_for(done, seconds, lambda: self._progress(declaration_ids), step=0.3)

    def _progress(self, declaration_ids: list[int]) -> str:
        outbox = self.outbox(declaration_ids)
        lines = [
            f"{d}: {s} outbox={outbox.get(d)}" for d, s in sorted(self.statuses(declaration_ids).items())
        ]
        return "\n".join(lines) + "\n" + self.explain()

    def _answers_missing(self, declaration_ids: list[int]) -> dict[str, tuple[int, int]]:
        """{conversation: (answers the window sent, answers the platform has)} where they differ."""
        marks = ",".join("?" * len(declaration_ids))
        conversations = {
            c
            for (c,) in self.query(
                f"SELECT conversation_id FROM customs_declaration WHERE id IN ({marks})", *declaration_ids
            )
        }
        sent = dict.fromkeys(conversations, -1)
        for record in self.sim_records()["records"]:
            if record["conversation_id"] in conversations:
                sent[record["conversation_id"]] = len(record["statuses"])
        marks = ",".join("?" * len(conversations))
        have = dict(
            self.query(
                "SELECT conversation_id, COUNT(*) FROM customs_declarationevent WHERE declaration_id IS NOT "
                f"NULL AND conversation_id IN ({marks}) GROUP BY conversation_id",
                *conversations,
            )
        )
        return {c: (n, have.get(c, 0)) for c, n in sent.items() if have.get(c, 0) != n}

    def check_exactly_once(self, declaration_ids: list[int], final: str = "goods_exited") -> dict[int, dict]:
        """What every test ends with, for declarations given by their newest version.

        Through the API: each declaration shows its final status, and its trade's checklist the customs
        steps done. In the single window's own records: each declaration arrived as exactly one declaration
        (one original record for its LRN, one record for its idempotency key — and a correction as one
        record of its own key in the same conversation), whatever the number of arrivals of its request;
        every answer the window sent is stored once by the platform. Returns {declaration id: {"api": the
        newest version, "sim": the original's record, "events": the conversation's answers}}."""
        # The window may answer (at zero delay, by callback) before the worker that sent the declaration
        # has marked its outbox message delivered: that comes within moments.
        wait_for(
            lambda: all(m["status"] == "delivered" for m in self.outbox(declaration_ids).values()),
            20,
            lambda: f"outbox: {self.outbox(declaration_ids)}\n{self.explain()}",
            step=0.5,
        )
        outbox = self.outbox(declaration_ids)
        # The final status may come before an earlier answer whose callback was lost (that one comes by
        # polling, within seconds): first, every answer the window sent is in.
        wait_for(
            lambda: self._answers_missing(declaration_ids) == {},
            20,
            lambda: f"answers missing: {self._answers_missing(declaration_ids)}\n{self.explain()}",
            step=0.5,
        )
        records = self.sim_records()
        originals: dict[str, list[dict]] = {}
        by_key: dict[str, list[dict]] = {}
        for record in records["records"]:
            if not record["correction_of"]:
                originals.setdefault(record["lrn"], []).append(record)
            by_key.setdefault(record["idempotency_key"], []).append(record)
        repeated = {entry["lrn"] for entry in records["summary"]["lrns_submitted_more_than_once"]}
        seen: dict[int, dict] = {}
        for declaration_id in declaration_ids:
            api = self.declaration(declaration_id)
            assert api["status"] == final, (declaration_id, api["status"], api["events"])
            assert api["mrn"] and api["conversation_id"], api
            versions = [api]
            while versions[-1]["corrects_id"]:
                versions.append(self.declaration(versions[-1]["corrects_id"]))
            mine = originals.get(api["lrn"], [])
            assert len(mine) == 1, f"{api['lrn']} reached the window {len(mine)} times: {mine}"
            (record,) = mine
            assert api["lrn"] not in repeated
            keys = {v["id"]: m["key"] for v in versions for m in [self.outbox([v["id"]])[v["id"]]]}
            for version in versions:
                (sent,) = by_key[keys[version["id"]]]  # one record per idempotency key
                assert sent["conversation_id"] == api["conversation_id"], sent
                assert bool(sent["correction_of"]) == bool(version["corrects_id"]), sent
            assert record["idempotency_key"] == keys[versions[-1]["id"]]
            assert record["mrn"] == api["mrn"]
            assert record["statuses"][-1] == final, record
            # Every answer the window sent was stored once (one event per notification id), none lost.
            events = sorted((e for v in versions for e in v["events"]), key=lambda e: e["sequence"])
            assert [e["status"] for e in events] == record["statuses"], [
                (e["sequence"], e["status"], e["via"], e["arrivals"], e["applied"]) for e in events
            ]
            assert api["sent_at"] and api["delivery"] is None, api  # None: sent, nothing queued
            assert outbox[declaration_id]["status"] == "delivered", outbox[declaration_id]
            status, steps, _ = self.api("GET", f"/trades/{api['trade_id']}/checklist")
            assert status == 200, steps
            step_status = {s["code"]: s["status"] for s in steps}
            if final == "goods_exited":
                assert step_status["export_declaration"] == "done", steps
                assert step_status["export_release"] == "done", steps
            seen[declaration_id] = {"api": api, "sim": record, "events": events}
        return seen


@pytest.fixture(scope="session")
def sw_database(tmp_path_factory):
    """The URL of a fresh database for the platform's processes."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-sw-db') / 'ismit.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"ismit_e2e_sw_{os.getpid()}_{secrets.token_hex(3)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def broker():
    """(broker URL for the platform's processes, queue name, relay or None)."""
    queue = f"ismit-e2e-sw-{os.getpid()}-{secrets.token_hex(4)}"
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("amqp"):
        yield "filesystem://localhost/", queue, None
        return
    parts = urlsplit(url)
    relay = BrokerRelay(parts.hostname or "127.0.0.1", parts.port or 5672)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    relayed = urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{relay.port}"))
    yield relayed, queue, relay
    relay.cut()
    from kombu import Connection

    with Connection(url) as conn:
        channel = conn.default_channel
        with contextlib.suppress(Exception):
            channel.queue_delete(queue)
        with contextlib.suppress(Exception):
            channel.exchange_delete(queue)


@pytest.fixture(scope="session")
def stack(sw_database, broker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-sw")
    broker_url, queue, relay = broker
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NSW_SIM_")},
        "DATABASE_URL": sw_database,
        "ISMIT_VAR_DIR": str(folder / "var"),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SITE_URL": f"http://127.0.0.1:{free_port()}",
        "WEB_ACCESS_LOG": "0",
        "LOG_LEVEL": "INFO",
        "CELERY_BROKER_URL": broker_url,
        "ISMIT_TASK_QUEUE": queue,
        # Faster than production, so that the faults are recovered from within seconds.
        "ISMIT_OUTBOX_CLAIM_TIMEOUT_S": str(CLAIM_TIMEOUT_S),
        "ISMIT_OUTBOX_SWEEP_INTERVAL_S": "1",
        "ISMIT_OUTBOX_REDISPATCH_AFTER_S": "2",
        "ISMIT_OUTBOX_BACKOFF_BASE_S": "1",
        "ISMIT_OUTBOX_BACKOFF_MAX_S": "2",
        "ISMIT_OUTBOX_MAX_ATTEMPTS": "30",
        "ISMIT_CUSTOMS_POLL_INTERVAL_S": "2",
    }
    s = Stack(folder, env, relay)
    try:
        s.run("migrate", "--noinput")
        s.run("refdata", "load")
        s.run("seed_demo")
        out = s.run("shell", "-c", SETUP)
        setup = json.loads(out.split("E2E-SETUP", 1)[1])
        s.token, s.organisation_id, s.demo_trade_id = setup["key"], setup["organisation"], setup["trade"]
        callback_url = s.add_window()
        assert callback_url.startswith(f"{s.web_url}/customs/callback/"), callback_url
        s.start_sim(callback_url)
        s.start_web()
        s.start_beat()
        s.start_worker()
        yield s
    finally:
        s.stop_all()


SETUP = """
import json
from ismit.accounts.models import Organisation, User
from ismit.accounts.services import create_api_token
from ismit.trades.models import Trade
user = User.objects.get(email="DEMO_USER")
organisation = Organisation.objects.get(legal_name="Anacarde Abidjan SARL")
assert organisation.is_verified
trade = Trade.objects.get(organisation=organisation, reference="DEMO_REFERENCE")
_, key = create_api_token(user=user, name="e2e single window")
print("E2E-SETUP" + json.dumps({"key": key, "organisation": organisation.pk, "trade": trade.pk}))
""".replace("DEMO_USER", DEMO_USER).replace("DEMO_REFERENCE", DEMO_REFERENCE)


@pytest.fixture
def sw(stack):
    """The session's stack, with a worker and the clock running and the single window without faults."""
    for name, start in (("beat", stack.start_beat), ("worker", stack.start_worker)):
        if not stack.running(name):
            start()
    if stack.relay is not None:
        stack.relay.restore()
    stack.faults(**SIM_BASELINE)
    yield stack
    stack.faults(**SIM_BASELINE)
    if stack.window_timeout != WINDOW_TIMEOUT_S:
        stack.add_window(WINDOW_TIMEOUT_S)
