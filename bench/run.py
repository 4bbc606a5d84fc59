"""`make bench`: API throughput on PostgreSQL, as ratios to a trivial endpoint of the same server.

Starts a fresh PostgreSQL database, the production server (`ismit serve`) with the bench endpoint,
and an asyncio HTTP/1.1 keep-alive load generator. Prints one `BENCH <name> <value>` line per figure.
Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_SECONDS (default 8),
BENCH_WORKERS (gunicorn workers, default 2), BENCH_THREADS (default 8).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ISMIT = str(Path(sys.executable).parent / "ismit")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = (1, 16)
# A keep-alive connection stays with the server process that accepted it: 16 connections may all land on
# one of the two processes (one core) or spread over both, and a figure doubled or halved with it. Each
# client connects again every RECONNECT_EVERY requests, as clients come and go, and an idle process takes
# the new connection.
RECONNECT_EVERY = 50

SETUP = """
from ismit.accounts.models import User
from ismit.accounts.services import create_organisation, create_api_token
import json
user = User.objects.create_user(email="bench@example.com", password="bench-password-123")
org = create_organisation(by=user, legal_name="Bench Exports", kind="msme", country="CI", city="Abidjan")
token, key = create_api_token(user=user, name="bench")
print("SETUP" + json.dumps({"key": key, "org": org.id}))
"""


def item(n: int) -> dict:
    return {
        "description": f"Cashew kernels lot {n}",
        "hs_code": "080132",
        "origin_country": "CI",
        "quantity": "1000",
        "unit": "KGM",
        "packages_count": 50,
        "package_type": "BG",
        "net_mass_kg": "1000",
        "gross_mass_kg": "1030",
        "unit_price": "6.20",
    }


def trade_payload(reference: str) -> dict:
    return {
        "direction": "export",
        "reference": reference,
        "seller": {"name": "Bench Exports", "country": "CI", "city": "Abidjan"},
        "buyer": {"name": "Provence Fruits Secs SAS", "country": "FR", "city": "Marseille"},
        "currency": "EUR",
        "incoterm": "CIF",
        "incoterm_place": "FRMRS",
        "transport_mode": "1",
        "place_of_loading": "CIABJ",
        "place_of_discharge": "FRMRS",
        "payment_terms": "lc",
        "payment_days": 60,
        "invoice_number": reference,
        "items": [item(n) for n in range(10)],
    }


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers = port, headers
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [
            f"{method} {path} HTTP/1.1",
            "Host: 127.0.0.1",
            f"Content-Length: {len(body)}",
            "Content-Type: application/json",
            *(f"{k}: {v}" for k, v in self.headers.items()),
            "",
            "",
        ]
        self.writer.write("\r\n".join(head).encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            if name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        self.last_body = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status


async def measure(port: int, headers: dict, concurrency: int, make_request, expect: int) -> float:
    """Requests per second over SECONDS with `concurrency` connections; fails on a wrong status."""
    clients = [Client(port, headers) for _ in range(concurrency)]
    counter = {"n": 0}
    deadline = time.perf_counter() + SECONDS

    async def loop(index: int, client: Client):
        seq = 0
        while time.perf_counter() < deadline:
            if seq and seq % RECONNECT_EVERY == 0 and client.writer:
                client.writer.close()  # the next request connects again (see RECONNECT_EVERY)
                client.writer = None
            method, path, body = make_request(index, seq)
            status = await client.request(method, path, body)
            if status != expect:
                raise SystemExit(
                    f"{method} {path} answered {status}, expected {expect}: {client.last_body[:500]}"
                )
            seq += 1
            counter["n"] += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop(i, c) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - start
    for c in clients:
        if c.writer:
            c.writer.close()
    return counter["n"] / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    db = f"ismit_bench_{int(time.time())}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    var = tempfile.mkdtemp(prefix="ismit-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "ISMIT_BENCH": "1",
        "ISMIT_VAR_DIR": var,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:

        def run(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run([ISMIT, *args], env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"ismit {args[0]} failed:\n{done.stderr[-3000:]}")
            return done

        run("migrate", "--noinput")
        run("refdata", "load")
        out = run("shell", "-c", SETUP).stdout
        setup = json.loads(out.split("SETUP", 1)[1])
        with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
            conn.execute("CREATE TABLE ismit_bench_probe (id bigserial PRIMARY KEY, note text)")
        port = free_port()
        server = subprocess.Popen(
            [
                ISMIT,
                "serve",
                "--port",
                str(port),
                "--workers",
                os.environ.get("BENCH_WORKERS", "2"),
                "--threads",
                os.environ.get("BENCH_THREADS", "8"),
            ],
            env={**env, "WEB_ACCESS_LOG": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        headers = {"Authorization": f"Bearer {setup['key']}", "X-ISMIT-Organisation": str(setup["org"])}
        asyncio.run(bench(port, headers, env["DATABASE_URL"]))
        server.terminate()
        server.wait(10)
        server = None
        # Documents and compliance, in one process on the same database (bench/documents.py).
        script = (ROOT / "bench" / "documents.py").read_text()
        for line in run("shell", "-c", script).stdout.splitlines():
            if line.startswith("BENCH "):
                print(line, flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(10)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    # Marketplace matching, consolidation and tracking, each standalone (its own database where it needs one).
    for script in ("marketplace.py", "consolidation.py", "tracking.py"):
        if subprocess.run([sys.executable, str(ROOT / "bench" / script)]).returncode:
            raise SystemExit(f"bench/{script} failed")
    # Declarations through web server, workers and the reference single window, on a database of their own
    # (bench/declarations.py; the machine's RabbitMQ when it answers, else the filesystem transport).
    if subprocess.run([sys.executable, str(ROOT / "bench" / "declarations.py")]).returncode:
        raise SystemExit("bench/declarations.py failed")


async def wait_ready(port: int, headers: dict) -> None:
    for _ in range(200):
        try:
            if await Client(port, headers).request("GET", "/api/v1/openapi.json") == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


def settle(database_url: str) -> None:
    """VACUUM ANALYZE the bench's database, waiting for it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


async def bench(port: int, headers: dict, database_url: str) -> None:
    await wait_ready(port, headers)
    client = Client(port, headers)
    # One trade to read, created through the API like the others.
    body = json.dumps(trade_payload("BENCH-READ")).encode()
    assert await client.request("POST", "/api/v1/trades", body) == 201
    trade_id = await find_trade_id(port, headers)

    run_id = secrets.token_hex(3)
    serial = itertools.count()  # every created trade gets its own reference
    scenarios = {
        "baseline": (lambda i, n: ("POST", "/api/v1/bench/baseline", b""), 200),
        "create": (
            lambda i, n: (
                "POST",
                "/api/v1/trades",
                json.dumps(trade_payload(f"B{run_id}-{next(serial)}")).encode(),
            ),
            201,
        ),
        "read": (lambda i, n: ("GET", f"/api/v1/trades/{trade_id}", b""), 200),
    }
    # Warm-up: every code path once per worker.
    for make, expect in scenarios.values():
        await measure_once(port, headers, make, expect)
    results: dict[str, float] = {}
    for concurrency in CONCURRENCY:
        for name, (make, expect) in scenarios.items():
            rps = await measure(port, headers, concurrency, make, expect)
            results[f"{name}_c{concurrency}"] = rps
            print(f"BENCH api_{name}_rps_c{concurrency} {rps:.1f}", flush=True)
            if name == "create":
                # Thousands of new rows: PostgreSQL's autovacuum would analyse them during the next
                # figure and take one of the two cores from it at a moment of its own. Done now instead.
                await asyncio.to_thread(settle, database_url)
    ratios = {}
    for kind in ("create", "read"):
        for concurrency in CONCURRENCY:
            ratio = results[f"{kind}_c{concurrency}"] / results[f"baseline_c{concurrency}"]
            ratios[(kind, concurrency)] = ratio
            print(f"BENCH api_{kind}_ratio_c{concurrency} {ratio:.3f}")
        print(f"BENCH api_{kind}_ratio {min(ratios[(kind, c)] for c in CONCURRENCY):.3f}")


async def measure_once(port, headers, make, expect):
    client = Client(port, headers)
    for n in range(4):
        method, path, body = make(999, n)
        status = await client.request(method, path, body)
        if status != expect:
            raise SystemExit(f"warm-up {method} {path} answered {status}")


async def find_trade_id(port: int, headers: dict) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [
        "GET /api/v1/trades?q=BENCH-READ HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    writer.write("\r\n".join(head).encode())
    raw = await reader.read()
    writer.close()
    payload = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    return payload["results"][0]["id"]


if __name__ == "__main__":
    main()
