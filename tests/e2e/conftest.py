"""Browser tests: a real `ismit serve` process on its own database, driven by Debian's Chromium.

With DATABASE_URL pointing at PostgreSQL the server gets a fresh database on the same server;
otherwise a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ISMIT = str(Path(sys.executable).parent / "ismit")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_database(tmp_path_factory):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = tmp_path_factory.mktemp("e2e-db") / "ismit.sqlite3"
        yield f"sqlite:///{path}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"ismit_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def live_platform(server_database, tmp_path_factory):
    """Base URL of a running platform with reference data and the demo seed."""
    var = tmp_path_factory.mktemp("e2e-var")
    env = {
        **os.environ,
        "DATABASE_URL": server_database,
        "ISMIT_VAR_DIR": str(var),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "WEB_ACCESS_LOG": "0",
    }
    for args in (["migrate", "--noinput"], ["refdata", "load"], ["seed_demo"]):
        subprocess.run([ISMIT, *args], env=env, check=True, capture_output=True)
    port = _free_port()
    log = (var / "server.log").open("w")
    proc = subprocess.Popen(
        [ISMIT, "serve", "--port", str(port), "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((var / "server.log").read_text())
            time.sleep(0.2)
    else:
        raise RuntimeError("the platform did not start: " + (var / "server.log").read_text())
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        out = Path("test-artifacts")
        out.mkdir(exist_ok=True)
        pg.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
