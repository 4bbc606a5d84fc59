"""Declarations through the whole platform (issue 4), run at the end of `make bench` by bench/run.py, or on
its own: `.venv/bin/python bench/declarations.py`.

1. A fresh PostgreSQL database (BENCH_PG), migrated, with the reference data and the starter compliance
   rules; BENCH_DECL_MSMES (50) verified MSMEs with an API token each and BENCH_DECLARATIONS (1,000) trades
   between them (a cashew export of two lines each), written directly through the services.
2. The reference single window measured alone: `ismit.nsw_sim.bench.intake_rate` against an `ismit nsw-sim`
   of its own (zero delay, no callbacks), nothing else running: the limit the platform can reach.
3. The platform: `ismit serve`, BENCH_DECL_WORKERS `ismit worker` processes (BENCH_DECL_CONCURRENCY each),
   `ismit beat`, and an `ismit nsw-sim` at zero delay calling back the platform. The broker is
   CELERY_BROKER_URL when it is amqp://, else the machine's RabbitMQ when it answers on 127.0.0.1:5672 (as in
   production; on a queue of the run's own), else the filesystem transport (CELERY_BROKER_URL=filesystem://
   asks for it).
4. BENCH_DECL_CLIENTS HTTP clients submit every trade's declaration as its MSME would
   (`POST /api/v1/trades/{id}/declarations` with an Idempotency-Key, in the MSMEs' turn); the run ends when
   every declaration has its final status (goods exited). Each submission's clock starts when its request
   is sent; its end is the declaration's status time in the database (same machine, same clock).

Prints `BENCH declarations_per_min` (first submission to last final status), `declaration_p50_s`,
`declaration_p99_s`, `sim_intake_per_min`, `declarations_vs_sim_ratio`, `declarations_25k_projected_min`, and
where the time went: the stages of a declaration and the CPU time of each process per declaration.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import queue
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ISMIT = str(Path(sys.executable).parent / "ismit")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
COUNT = int(os.environ.get("BENCH_DECLARATIONS", "1000"))
MSMES = int(os.environ.get("BENCH_DECL_MSMES", "50"))
WORKERS = int(os.environ.get("BENCH_DECL_WORKERS", "1"))
CONCURRENCY = int(os.environ.get("BENCH_DECL_CONCURRENCY", "2"))
CLIENTS = int(os.environ.get("BENCH_DECL_CLIENTS", "8"))
WEB_WORKERS = os.environ.get("BENCH_DECL_WEB_WORKERS", "2")
WEB_THREADS = os.environ.get("BENCH_DECL_WEB_THREADS", "8")
SETUP_PROCESSES = int(os.environ.get("BENCH_DECL_SETUP_PROCESSES", "2"))
TIMEOUT_S = float(os.environ.get("BENCH_DECL_TIMEOUT_S", str(max(900, COUNT * 0.6))))
CLIENT_ID, SECRET = "ismit-bench", "bench-" + secrets.token_hex(16)
FINAL = ("goods_exited", "rejected", "failed")
SIM_SENDERS = int(os.environ.get("BENCH_DECL_SIM_SENDERS", "8"))
AUTOVACUUM_NAPTIME_S = float(os.environ.get("BENCH_DECL_AUTOVACUUM_NAPTIME_S", "60"))  # PostgreSQL's default
STAGE_SAMPLE = int(os.environ.get("BENCH_DECL_STAGE_SAMPLE", "30"))
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"

SETUP = """
import json
from django.db import transaction
from ismit.accounts.models import Organisation, User, VerificationStatus
from ismit.accounts.services import create_api_token, create_organisation
from ismit.accounts.actors import actor_for
from ismit.trades.samples import cashew_export
from ismit.trades.services import create_trade
from dataclasses import replace
from decimal import Decimal

first, last, per_msme, extra = FIRST, LAST, PER_MSME, EXTRA
out = []
for n in range(first, last):
    user = User.objects.create_user(email=f"msme{n}@bench-declarations.example", password=None)
    org = create_organisation(
        by=user, legal_name=f"Bench Exporter {n:03d} SARL", kind="msme", country="CI", city="Abidjan",
        street="Zone 4", identifiers={"business": f"CI-ABJ-2026-B-{n:05d}"},
    )
    Organisation.objects.filter(pk=org.pk).update(verification_status=VerificationStatus.VERIFIED)
    org.refresh_from_db()
    actor = actor_for(user)
    _, key = create_api_token(user=user, name="bench")
    trades = []
    for t in range(per_msme + (1 if n < extra else 0)):
        data = cashew_export(seller_name=org.legal_name, reference=f"BD{n:03d}-{t:05d}")
        # 10 t of kernels instead of 15 t: 69,250 EUR, under the window's documentary-check threshold
        # (100,000 EUR), so the declaration takes the common path: received, accepted, cleared, exited.
        kernels, nuts = data.items
        kernels = replace(kernels, quantity=Decimal("10000"), net_mass_kg=Decimal("10000"),
                          gross_mass_kg=Decimal("10300"), packages_count=500)
        data = replace(data, items=[kernels, nuts])
        trades.append(create_trade(actor=actor, organisation=org, data=data).pk)
    out.append({"key": key, "organisation": org.pk, "trades": trades})
print("SETUP" + json.dumps(out))
"""


# The cost of each stage of a declaration, one after the other in one process with nothing else running
# (run in `ismit shell` after the measurement, against a single window without callbacks): the API's work
# for a submission (compliance check, the signed WCO declaration, the writes), a worker's delivery (claim,
# POST, records), and the platform's work for each answer (its callback's, without HTTP, and its share of the
# worker's that applies the answers waiting).
STAGES = """
import statistics, time
from ismit.accounts.actors import actor_for
from ismit.accounts.models import Organisation, User
from ismit.customs import answers, applying, services
from ismit.customs.connectors import get_json
from ismit.customs.models import Declaration, DeclarationEvent, SingleWindow
from ismit.outbox.models import OutboxMessage
from ismit.outbox.services import deliver_message
from ismit.trades.models import Trade
from ismit.trades.services import duplicate_trade
import ismit.customs.tasks  # the delivery handler

user = User.objects.get(email="msme0@bench-declarations.example")
actor = actor_for(user)
window = SingleWindow.objects.get(country="CI", procedure="export", connector="wco-xml")
base = Trade.objects.filter(organisation__memberships__user=user).order_by("pk").first()
fresh = [duplicate_trade(actor=actor, trade=base, reference=f"STAGE-{n:03d}") for n in range(SAMPLE + 1)]
services.submit_declaration(actor=actor, trade=fresh.pop(), idempotency_key="warm-up")

def timed(items, fn):
    out, spent = [], []
    for item in items:
        start = time.perf_counter()
        out.append(fn(item))
        spent.append((time.perf_counter() - start) * 1000)
    return out, spent

declarations, submit_ms = timed(
    fresh, lambda t: services.submit_declaration(actor=actor, trade=t, idempotency_key=f"stage-{t.pk}")
)
messages = [OutboxMessage.objects.get(idempotency_key=d.idempotency_key).pk for d in declarations]
_, deliver_ms = timed(messages, lambda m: deliver_message(message_id=m, worker="stages"))
ids = [d.pk for d in declarations]
conversations = set(Declaration.objects.filter(pk__in=ids).values_list("conversation_id", flat=True))
deadline = time.time() + 60
while True:  # until the window has issued every answer, to the exit of the goods
    items = get_json(window, "/notifications?after=0&limit=1000")
    items = [i for i in items if i["conversation_id"] in conversations]
    exited = {i["conversation_id"] for i in items if i["status"] == "goods_exited"}
    if exited == conversations or time.time() > deadline:
        break
    time.sleep(0.5)

def receive(item):
    return answers.receive(window, answers.Incoming(
        notification_id=item["notification_id"], conversation_id=item["conversation_id"],
        sequence=int(item["sequence"]), content_type=item["content_type"], body=item["body"].encode(),
        headers={"Content-Type": item["content_type"], "X-Notification-ID": item["notification_id"]},
        via="callback"))

# An answer: its callback's work (stored, pending), then its share of the worker's (the answers waiting
# applied together, as the task does).
answers.apply_soon = lambda: None
_, store_ms = timed(sorted(items, key=lambda i: i["sequence"]), receive)
applying.apply_pending_answers(batch=5)  # warm-up, untimed: a running worker has applied answers before
waiting = DeclarationEvent.objects.filter(pending=True).count()
start = time.perf_counter()
while applying.apply_pending_answers():
    pass
apply_ms = (time.perf_counter() - start) * 1000 / waiting
_, again_ms = timed(items, receive)  # the same notifications again: a duplicated callback
per = len(items) / len(declarations)
print(f"STAGES submit {statistics.median(submit_ms):.1f}")
print(f"STAGES deliver {statistics.median(deliver_ms):.1f}")
print(f"STAGES answer {statistics.median(store_ms) + apply_ms:.1f}")
print(f"STAGES answer_store {statistics.median(store_ms):.1f}")
print(f"STAGES answer_apply {apply_ms:.1f}")
print(f"STAGES answers_per_declaration {per:.1f}")
print(f"STAGES duplicate {statistics.median(again_ms):.1f}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start")


def cpu_seconds(pgid: int) -> float:
    """CPU seconds of a process group: its live processes, and those that ended (counted by their parent)."""
    return _cpu(lambda name, fields: int(fields[2]) == pgid)


def program_cpu_seconds(program: str) -> float:
    """CPU seconds of the machine's processes of a program (PostgreSQL's server and backends, RabbitMQ's)."""
    return _cpu(lambda name, fields: name == program)


def _cpu(match) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        if match(name, fields):
            # utime, stime, and cutime, cstime: the processes it started that ended (fields 14-17 of stat)
            total += sum(int(f) for f in fields[11:15])
    return total / ticks


class Processes:
    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder = env, folder
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen(
            args, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def sim_args(port: int, db: Path, callback_url: str = "") -> list[str]:
    args = [
        ISMIT,
        "nsw-sim",
        f"--port={port}",
        f"--db={db}",
        f"--client-id={CLIENT_ID}",
        f"--secret={SECRET}",
        "--delay=0",
        "--jitter=0",
        f"--senders={SIM_SENDERS}",
    ]
    return args + ([f"--callback-url={callback_url}"] if callback_url else [])


def measure_sim_alone(processes: Processes, folder: Path) -> float:
    """Declarations per second the reference single window takes in, alone on the machine."""
    from ismit.nsw_sim.bench import intake_rate

    port = free_port()
    proc = processes.start("nsw-sim-alone", sim_args(port, folder / "nsw-sim-alone.sqlite3"))
    wait_http(f"http://127.0.0.1:{port}/_sim/health", proc, "nsw-sim")
    url = f"http://127.0.0.1:{port}"
    intake_rate(url, CLIENT_ID, SECRET, count=200, threads=8)  # warm-up
    result = intake_rate(url, CLIENT_ID, SECRET, count=max(COUNT, 1000), threads=8)
    processes.stop("nsw-sim-alone")
    if result["errors"]:
        raise SystemExit(f"nsw-sim intake errors: {result['first_errors']}")
    return result["per_second"]


class LockSampler(threading.Thread):
    """Samples the run's PostgreSQL sessions twice a second: how many run a statement, how many of those
    wait for a lock, and how many of those for the audit chain's head row (every audited write takes it)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.active = self.waiting = self.audit = 0
        self.statements: collections.Counter[str] = collections.Counter()  # the waiting ones, by their start

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.5):
                for wait_type, query in conn.execute(
                    "SELECT wait_event_type, query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ):
                    self.active += 1
                    if wait_type == "Lock":
                        self.waiting += 1
                        self.audit += "audit_chainhead" in query
                        self.statements[" ".join(query.split())[:90]] += 1

    def report(self) -> str:
        active = max(self.active, 1)
        top = "".join(f"\n  {n / active:.0%} {statement}" for statement, n in self.statements.most_common(3))
        return (
            f"{self.waiting / active:.0%} of the statements running in PostgreSQL were waiting for a lock, "
            f"{self.audit / active:.0%} for the audit chain's head row ({self.active} samples)" + top
        )


class Autovacuum(threading.Thread):
    """What PostgreSQL's autovacuum does with its default settings, for a server that runs without it (the
    development machines' PostgreSQL has `autovacuum = off`): every AUTOVACUUM_NAPTIME_S, ANALYZE each table
    whose rows changed since its last analysis by more than 50 + 10 % of its rows, VACUUM each whose dead rows
    pass 50 + 20 %. Without it a run of 25,000 keeps the statistics of its first seconds: the plans prepared
    then (tables all but empty) stay in use all day, and PostgreSQL's CPU per declaration nearly doubles.
    Its work counts in PostgreSQL's CPU, as autovacuum's would."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.passes = self.analyzed = self.vacuumed = 0

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(AUTOVACUUM_NAPTIME_S):
                self.passes += 1
                for table, changed, dead, live in conn.execute(
                    "SELECT relname, n_mod_since_analyze, n_dead_tup, n_live_tup FROM pg_stat_user_tables"
                ).fetchall():
                    if dead > 50 + 0.2 * live:
                        conn.execute(f'VACUUM (ANALYZE) "{table}"')
                        self.vacuumed += 1
                        self.analyzed += 1
                    elif changed > 50 + 0.1 * live:
                        conn.execute(f'ANALYZE "{table}"')
                        self.analyzed += 1

    def report(self) -> str:
        return f"{self.passes} passes, {self.analyzed} tables analysed, {self.vacuumed} vacuumed"


def submit_all(port: int, jobs: list[tuple[str, int, int]]) -> tuple[dict[int, float], list[float]]:
    """Submit every (token, organisation, trade) from CLIENTS keep-alive connections; returns
    {declaration id: time its request was sent} and the request durations."""
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    sent: dict[int, float] = {}
    durations: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    run = secrets.token_hex(3)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not errors:
            try:
                token, organisation, trade_id = work.get_nowait()
            except queue.Empty:
                break
            headers = {
                "Authorization": f"Bearer {token}",
                "X-ISMIT-Organisation": str(organisation),
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{run}-{trade_id}",
            }
            started = time.time()
            try:
                conn.request("POST", f"/api/v1/trades/{trade_id}/declarations", body=b"{}", headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"trade {trade_id}: {exc}")
                break
            if response.status != 201:
                errors.append(f"trade {trade_id}: HTTP {response.status} {body[:500]!r}")
                break
            with lock:
                sent[json.loads(body)["id"]] = started
                durations.append(time.time() - started)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit("submission failed: " + "; ".join(errors[:3]))
    return sent, durations


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def setup(env: dict[str, str]) -> list[tuple[str, int, int]]:
    """The MSMEs and their trades, written by SETUP_PROCESSES `ismit shell` processes at once; the
    submissions to make, the MSMEs taking turns."""
    per_msme, extra = divmod(COUNT, MSMES)
    slices = [
        (MSMES * i // SETUP_PROCESSES, MSMES * (i + 1) // SETUP_PROCESSES) for i in range(SETUP_PROCESSES)
    ]
    slices = [(first, last) for first, last in slices if last > first]
    procs = []
    for first, last in slices:
        script = (
            SETUP.replace("FIRST", str(first))
            .replace("LAST", str(last))
            .replace("PER_MSME", str(per_msme))
            .replace("EXTRA", str(extra))
        )
        procs.append(
            subprocess.Popen(
                [ISMIT, "shell", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    msmes = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"setup failed:\n{err.decode()[-3000:]}")
        msmes += json.loads(out.decode().split("SETUP", 1)[1])
    jobs = []
    for turn in range(max(len(m["trades"]) for m in msmes)):
        for msme in msmes:
            if turn < len(msme["trades"]):
                jobs.append((msme["key"], msme["organisation"], msme["trades"][turn]))
    return jobs


def stage_costs(processes: Processes, env: dict[str, str], folder: Path) -> None:
    """After the measurement: the platform stopped, its window pointed at a simulator without callbacks, the
    STAGES script times each stage of STAGE_SAMPLE declarations one after the other."""
    for name in list(processes.procs):
        processes.stop(name)
    port = free_port()
    sim = processes.start("nsw-sim-stages", sim_args(port, folder / "nsw-sim-stages.sqlite3"))
    wait_http(f"http://127.0.0.1:{port}/_sim/health", sim, "nsw-sim")
    done = subprocess.run(
        [
            ISMIT,
            "customs",
            "add-window",
            "--country=CI",
            "--procedure=export",
            "--connector=wco-xml",
            f"--base-url=http://127.0.0.1:{port}",
            f"--client-id={CLIENT_ID}",
            f"--secret={SECRET}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"add-window failed: {done.stderr[-2000:]}")
    script = STAGES.replace("SAMPLE", str(STAGE_SAMPLE))
    done = subprocess.run([ISMIT, "shell", "-c", script], env=env, capture_output=True, text=True)
    processes.stop("nsw-sim-stages")
    if done.returncode:
        raise SystemExit(f"stage costs failed:\n{done.stderr[-3000:]}")
    stages = dict(line.split()[1:] for line in done.stdout.splitlines() if line.startswith("STAGES "))
    per = float(stages["answers_per_declaration"])
    submit, deliver, answer = float(stages["submit"]), float(stages["deliver"]), float(stages["answer"])
    total = submit + deliver + per * answer
    print(
        f"declarations: one at a time (ms, median of {STAGE_SAMPLE}): submission {submit:.0f} "
        f"({submit / total:.0%}), delivery {deliver:.0f} ({deliver / total:.0%}), {per:g} answers x "
        f"{answer:.0f} ({per * answer / total:.0%}); a duplicated answer {float(stages['duplicate']):.0f}"
    )
    store, apply = float(stages["answer_store"]), float(stages["answer_apply"])
    print(
        f"declarations: an answer {answer:.1f} ms: stored by its callback {store:.1f}, "
        f"applied by a worker with the others waiting {apply:.1f}"
    )
    print(f"BENCH declaration_submit_ms {submit:.1f}")
    print(f"BENCH declaration_deliver_ms {deliver:.1f}")
    print(f"BENCH declaration_answer_ms {answer:.1f}")


def production_broker() -> str:
    """The machine's RabbitMQ (production's broker) when it answers on its port; else "" (the filesystem
    transport, the embedded default)."""
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return RABBITMQ
    except OSError:
        return ""


def main() -> None:
    stamp = f"{int(time.time())}_{secrets.token_hex(2)}"
    db = f"ismit_bench_decl_{stamp}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    folder = Path(tempfile.mkdtemp(prefix="ismit-bench-declarations-"))
    broker = os.environ.get("CELERY_BROKER_URL") or production_broker()
    task_queue = f"ismit-bench-declarations-{stamp}"
    web_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NSW_SIM_")},
        "DATABASE_URL": f"{PG}/{db}",
        "ISMIT_VAR_DIR": str(folder / "var"),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "LOG_LEVEL": "WARNING",
        "WEB_ACCESS_LOG": "0",
        "CELERY_BROKER_URL": broker if broker.startswith("amqp") else "filesystem://localhost/",
        "ISMIT_TASK_QUEUE": task_queue,
    }
    processes = Processes(env, folder)
    try:

        def run(*args: str) -> str:
            done = subprocess.run([ISMIT, *args], env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"ismit {args[0]} failed:\n{done.stderr[-3000:]}")
            return done.stdout

        run("migrate", "--noinput")
        run("refdata", "load")
        run("compliance", "load-starter")
        started = time.perf_counter()
        jobs = setup(env)
        print(
            f"declarations: setup of {MSMES} MSMEs and {len(jobs)} trades in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )

        sim_per_s = measure_sim_alone(processes, folder)
        print(f"BENCH sim_intake_per_min {sim_per_s * 60:.0f}", flush=True)

        # The platform and its single window.
        sim_port = free_port()
        out = run(
            "customs",
            "add-window",
            "--country=CI",
            "--procedure=export",
            "--connector=wco-xml",
            f"--base-url=http://127.0.0.1:{sim_port}",
            f"--client-id={CLIENT_ID}",
            f"--secret={SECRET}",
        )
        callback_url = next(
            line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("callback URL: ")
        )
        sim = processes.start("nsw-sim", sim_args(sim_port, folder / "nsw-sim.sqlite3", callback_url))
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/health", sim, "nsw-sim")
        web = processes.start(
            "web",
            [ISMIT, "serve", f"--port={web_port}", f"--workers={WEB_WORKERS}", f"--threads={WEB_THREADS}"],
        )
        wait_http(f"http://127.0.0.1:{web_port}/accounts/login/", web, "ismit serve")
        processes.start("beat", [ISMIT, "beat"])
        for n in range(WORKERS):
            processes.start(
                f"worker-{n}",
                [ISMIT, "worker", f"--concurrency={CONCURRENCY}", f"--hostname=bench{n}-{stamp}@%h"],
            )
        time.sleep(5)  # the workers connect and start their pools
        for name, proc in processes.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited:\n{processes.log_tail(name)}")

        groups = {name: proc.pid for name, proc in processes.procs.items()}
        cpu_before = {name: cpu_seconds(pgid) for name, pgid in groups.items()}
        programs = {"postgres": "postgres"}
        if env["CELERY_BROKER_URL"].startswith("amqp"):
            programs["rabbitmq"] = "beam.smp"
        programs_before = {name: program_cpu_seconds(program) for name, program in programs.items()}
        sampler = LockSampler(env["DATABASE_URL"])
        sampler.start()
        autovacuum = None
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            if conn.execute("SHOW autovacuum").fetchone()[0] != "on":
                autovacuum = Autovacuum(env["DATABASE_URL"])
                autovacuum.start()
        clock = time.time()
        sent, durations = submit_all(web_port, jobs)
        submitted_at = time.time()
        deadline = time.monotonic() + TIMEOUT_S
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            while True:
                done = conn.execute(
                    "SELECT COUNT(*) FROM customs_declaration WHERE status = ANY(%s)", (list(FINAL),)
                ).fetchone()[0]
                if done >= len(sent):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {done} of {len(sent)} declarations final after {TIMEOUT_S:.0f} s")
                time.sleep(0.25)
            finished_at = time.time()
            sampler.stop.set()
            if autovacuum is not None:
                autovacuum.stop.set()
            cpu = {name: cpu_seconds(pgid) - cpu_before[name] for name, pgid in groups.items()}
            for name, program in programs.items():
                cpu[name] = program_cpu_seconds(program) - programs_before[name]
            rows = conn.execute(
                "SELECT id, status, EXTRACT(EPOCH FROM created_at), EXTRACT(EPOCH FROM sent_at), "
                "EXTRACT(EPOCH FROM status_at) FROM customs_declaration"
            ).fetchall()
            attempts = conn.execute(
                "SELECT COUNT(*), AVG(duration_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) "
                "FROM outbox_outboxattempt"
            ).fetchone()
            events = conn.execute(
                "SELECT via, COUNT(*), SUM(arrivals) FROM customs_declarationevent GROUP BY via"
            ).fetchall()
        statuses: dict[str, int] = {}
        for _, status, *_ in rows:
            statuses[status] = statuses.get(status, 0) + 1
        if set(statuses) != {"goods_exited"}:
            raise SystemExit(f"not every declaration went through: {statuses}")
        by_id = {r[0]: r for r in rows}
        latencies = [float(by_id[d][4]) - t for d, t in sent.items()]
        first, last = min(sent.values()), max(float(r[4]) for r in rows)
        per_min = len(sent) / (last - first) * 60
        sim_per_min = sim_per_s * 60

        print(f"BENCH declarations_per_min {per_min:.0f}")
        print(f"BENCH declaration_p50_s {statistics.median(latencies):.2f}")
        print(f"BENCH declaration_p99_s {percentile(latencies, 99):.2f}")
        print(f"BENCH declarations_vs_sim_ratio {per_min / sim_per_min:.3f}")
        print(f"BENCH declarations_25k_projected_min {25000 / per_min:.1f}")
        if COUNT >= 25000:
            print(f"BENCH declarations_{COUNT // 1000}k_min {(last - first) / 60:.1f}")

        # Where the time went.
        queued = [float(by_id[d][2]) - t for d, t in sent.items()]  # the API's answer (declaration written)
        delivered = [float(r[3]) - float(r[2]) for r in rows]  # written -> taken by the window (202)
        answered = [float(r[4]) - float(r[3]) for r in rows]  # taken -> goods exited (4 or 5 answers)
        n = len(sent)
        print(
            f"declarations: {n} from {MSMES} MSMEs; {CLIENTS} clients, web {WEB_WORKERS}x{WEB_THREADS}, "
            f"{WORKERS} worker(s) x {CONCURRENCY}, broker {env['CELERY_BROKER_URL'].split(':')[0]}"
        )
        submit_s = submitted_at - clock
        print(
            f"declarations: submitting took {submit_s:.1f} s ({n / submit_s:.1f}/s, request p50 "
            f"{statistics.median(durations) * 1000:.0f} ms); the last final status "
            f"{finished_at - submitted_at:.1f} s later"
        )
        print(
            f"declarations: p50 per stage: API answer {statistics.median(queued) * 1000:.0f} ms, delivery "
            f"{statistics.median(delivered) * 1000:.0f} ms, answers to the exit "
            f"{statistics.median(answered) * 1000:.0f} ms; deliveries {attempts[0]} "
            f"(handler avg {float(attempts[1] or 0):.0f} ms, p50 {float(attempts[2] or 0):.0f} ms)"
        )
        print("declarations: answers received " + ", ".join(f"{v}: {c} ({a} arrivals)" for v, c, a in events))
        cpu_line = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
        print(
            f"declarations: CPU {cpu_line}; total {sum(cpu.values()):.1f} s in {last - first:.1f} s of wall "
            f"clock on {os.cpu_count()} cores"
        )
        print(f"declarations: {sampler.report()}")
        if autovacuum is not None:
            print(f"declarations: the server's autovacuum is off; the bench's own: {autovacuum.report()}")
        stage_costs(processes, env, folder)
        components: dict[str, float] = {}
        for name, seconds in cpu.items():
            key = "worker" if name.startswith("worker") else name.replace("-", "_")
            components[key] = components.get(key, 0.0) + seconds
        for key, seconds in components.items():
            print(f"BENCH declaration_cpu_ms_{key} {seconds / n * 1000:.1f}")
    finally:
        processes.stop_all()
        if broker.startswith("amqp"):
            from kombu import Connection

            with Connection(broker) as conn:
                try:
                    conn.default_channel.queue_delete(task_queue)
                    conn.default_channel.exchange_delete(task_queue)
                except Exception as exc:  # the queue may never have been declared
                    print(f"declarations: could not delete the queue {task_queue}: {exc}")
        if os.environ.get("BENCH_KEEP") != "1":
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        else:  # BENCH_KEEP=1: to look at what happened
            print(f"declarations: database {db} and logs in {folder} kept")


if __name__ == "__main__":
    main()
