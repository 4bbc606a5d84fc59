"""Tracking benchmark: DCSA events ingested through `POST /dcsa/tnt/v3/events` on PostgreSQL, batched and
one by one, against a raw INSERT of the same rows in the same run; and the shipment API with 500 events.

Creates a fresh database on BENCH_PG (default postgres://postgres@127.0.0.1:5432), starts `ismit serve`,
prints `BENCH events_per_s`, `BENCH events_single_per_s`, `BENCH raw_insert_per_s`,
`BENCH events_vs_raw_ratio`, `BENCH shipment_page_ms` (the HTML page `/shipments/<id>/` of a shipment with
500 events, logged in) and `BENCH shipment_api_ms` (`GET /api/v1/shipments/<id>`, the same shipment).
Environment: BENCH_SECONDS (default 8), BENCH_WORKERS (gunicorn workers, 2), BENCH_THREADS (4),
BENCH_BATCH (500).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

ISMIT = str(Path(sys.executable).parent / "ismit")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
CLIENTS = 2
SHIPMENTS = 40

SETUP = """
import datetime as dt, json
from ismit.accounts.models import User
from ismit.accounts.services import create_organisation, create_api_token
from ismit.accounts.actors import actor_for
from ismit.tracking import services
user = User.objects.create_user(email="bench@example.com", password="bench-password-123")
org = create_organisation(by=user, legal_name="Bench Exports", kind="msme", country="CI", city="Abidjan")
token, key = create_api_token(user=user, name="bench")
from django.contrib.sessions.backends.db import SessionStore
session = SessionStore()
session.update({"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
                "_auth_user_backend": "django.contrib.auth.backends.ModelBackend"})
session.create()
actor = actor_for(user)
ids = []
for n in range({shipments}):
    s = services.create_shipment(actor=actor, organisation=org, data=services.ShipmentData(
        reference=f"BENCH-{n}", carrier_booking_reference=f"BK{n:05d}", route=["CIABJ", "ESALG", "FRMRS"],
        planned_arrival=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)))
    ids.append(s.pk)
print("SETUP" + json.dumps({"key": key, "org": org.id, "shipments": ids, "session": session.session_key}))
""".replace("{shipments}", str(SHIPMENTS))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event(n: int, booking: str) -> dict:
    hour = n % 5000
    return {
        "eventID": f"bench-{booking}-{n}",
        "eventDateTime": f"2026-01-{1 + hour // 240:02d}T{hour % 24:02d}:00:00Z",
        "eventUpdatedDateTime": f"2026-01-{1 + hour // 240:02d}T{hour % 24:02d}:00:00Z",
        "eventLocation": {"UNLocationCode": "ESALG"},
        "eventClassification": {
            "eventTypeCode": "TRANSPORT",
            "eventClassifierCode": "EST",
            "transportEventTypeCode": "ARRI" if n % 2 else "DEPA",
        },
        "shipmentDetails": {"documentReference": {"typeCode": "BKG", "reference": booking}},
    }


class Client:
    def __init__(self, port: int, headers: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {**headers, "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        answer = self.conn.getresponse()
        return answer.status, answer.read()


def run_clients(port, headers, work) -> tuple[int, float]:
    """work(client, index, seq) -> events sent, until SECONDS pass; (events, seconds)."""
    counts = [0] * CLIENTS
    deadline = time.perf_counter() + SECONDS
    errors = []

    def loop(i):
        client, seq = Client(port, headers), 0
        try:
            while time.perf_counter() < deadline:
                counts[i] += work(client, i, seq)
                seq += 1
        except Exception as exc:  # reported below
            errors.append(exc)

    start = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"bench failed: {errors[0]}")
    return sum(counts), time.perf_counter() - start


def main() -> None:
    db = f"ismit_bench_tracking_{int(time.time())}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "ISMIT_VAR_DIR": tempfile.mkdtemp(prefix="ismit-bench-"),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "LOG_LEVEL": "WARNING",
        "WEB_ACCESS_LOG": "0",
    }
    server = None
    try:

        def run(*args):
            done = subprocess.run([ISMIT, *args], env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"ismit {args[0]} failed:\n{done.stderr[-3000:]}")
            return done.stdout

        run("migrate", "--noinput")
        run("refdata", "load")
        setup = json.loads(run("shell", "-c", SETUP).split("SETUP", 1)[1])
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
                os.environ.get("BENCH_THREADS", "4"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        headers = {"Authorization": f"Bearer {setup['key']}", "X-ISMIT-Organisation": str(setup["org"])}
        for _ in range(300):
            try:
                if Client(port, headers).request("GET", "/dcsa/tnt/v3/events?limit=1")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        shipments = setup["shipments"]
        serial = iter(range(10**9))

        # the shipment read: 500 events on one shipment, then its detail
        first = Client(port, headers)
        status, body = first.request(
            "POST",
            "/dcsa/tnt/v3/events",
            json.dumps({"events": [event(n, "BK00000") for n in range(500)]}).encode(),
        )
        assert status == 200, body[:500]
        api_times = []
        for _ in range(25):
            start = time.perf_counter()
            status, body = first.request("GET", f"/api/v1/shipments/{shipments[0]}")
            api_times.append((time.perf_counter() - start) * 1000)
            assert status == 200 and len(json.loads(body)["timeline"]) == 500, body[:300]
        browser = Client(port, {"Cookie": f"sessionid={setup['session']}"})
        page_times = []
        for _ in range(25):
            start = time.perf_counter()
            status, body = browser.request("GET", f"/shipments/{shipments[0]}/")
            page_times.append((time.perf_counter() - start) * 1000)
            assert status == 200 and body.count(b'<tr class="event ') == 500, (status, body[:300])

        def batched(client, i, seq):
            booking = f"BK{1 + (i * 1000 + seq) % (SHIPMENTS - 1):05d}"
            events = [event(next(serial), booking) for _ in range(BATCH)]
            status, body = client.request(
                "POST", "/dcsa/tnt/v3/events", json.dumps({"events": events}).encode()
            )
            if status != 200:
                raise RuntimeError(f"{status}: {body[:500]}")
            return BATCH

        def single(client, i, seq):
            booking = f"BK{1 + (i * 1000 + seq) % (SHIPMENTS - 1):05d}"
            status, body = client.request(
                "POST", "/dcsa/tnt/v3/events", json.dumps(event(next(serial), booking)).encode()
            )
            if status != 200:
                raise RuntimeError(f"{status}: {body[:500]}")
            return 1

        batched(Client(port, headers), 0, 0)  # warm-up
        count, seconds = run_clients(port, headers, batched)
        batch_rate = count / seconds
        count, seconds = run_clients(port, headers, single)
        single_rate = count / seconds

        # the same rows, INSERTed as they are (no checks, no derived state, no audit)
        with psycopg.connect(f"{PG}/{db}") as conn:
            rows = []
            for n in range(20 * BATCH):
                e = event(10**8 + n, "BK00001")
                rows.append(
                    (
                        shipments[1],
                        "org:raw",
                        e["eventID"],
                        "TRANSPORT",
                        "EST",
                        "ARRI",
                        e["eventDateTime"],
                        e["eventUpdatedDateTime"],
                        e["eventDateTime"],
                        "ESALG",
                        json.dumps(e),
                    )
                )
            start = time.perf_counter()
            with conn.cursor() as cursor:
                for k in range(0, len(rows), BATCH):
                    cursor.executemany(
                        "INSERT INTO tracking_event (shipment_id, source, event_id, event_type, classifier,"
                        " type_code,"
                        " event_datetime, event_updated_at, received_at, location, raw, location_name,"
                        " equipment_reference, vessel_name, voyage, is_retracted)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', '', '', false)",
                        rows[k : k + BATCH],
                    )
                    conn.commit()
            raw_rate = len(rows) / (time.perf_counter() - start)
        print(f"BENCH events_per_s {batch_rate:.0f}", flush=True)
        print(f"BENCH events_single_per_s {single_rate:.1f}", flush=True)
        print(f"BENCH raw_insert_per_s {raw_rate:.0f}", flush=True)
        print(f"BENCH events_vs_raw_ratio {batch_rate / raw_rate:.3f}", flush=True)
        print(f"BENCH shipment_page_ms {statistics.median(page_times):.1f}", flush=True)
        print(f"BENCH shipment_api_ms {statistics.median(api_times):.1f}", flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(10)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
