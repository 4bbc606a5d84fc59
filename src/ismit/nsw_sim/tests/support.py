"""Test support: declarations to send, the published RES schema, a signed HTTP client, the simulator as a
real process (`ismit nsw-sim`) and a callback receiver (a real HTTP server in the test process)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from ismit.documents.data import CENT, DocumentData, ItemView, PartyView, PlaceView
from ismit.lib import hmac_auth

SHARED = Path(__file__).resolve().parents[5] / "shared" / "refdata"
NOTIFICATION_XSD_DIR = SHARED / "wco-declaration-uk" / "schemas" / "wco" / "notification"
CLIENT, SECRET = "ismit-test", "test-secret-0123456789"
ADMIN, ADMIN_SECRET = "sim-admin", "admin-secret-9876543210"


# -- declarations ---------------------------------------------------------------------------------------


def item(line_no: int = 1, **overrides) -> ItemView:
    values = dict(
        line_no=line_no,
        description="Cashew kernels W320, shelled",
        hs_code="080132",
        hs_description="Cashew nuts, shelled",
        origin_country="CI",
        quantity=Decimal("1500"),
        unit="KGM",
        unit_name="kilogram",
        packages_count=75,
        package_type="BG",
        package_name="Bag",
        net_mass_kg=Decimal("1500"),
        gross_mass_kg=Decimal("1545"),
        unit_price=Decimal("6.20"),
    )
    values.update(overrides)
    if "line_amount" not in values:
        values["line_amount"] = (values["quantity"] * values["unit_price"]).quantize(CENT)
    return ItemView(**values)


def document(
    lrn: str = "CI-EXP-0001", items: tuple[ItemView, ...] | None = None, **overrides
) -> DocumentData:
    """A cashew export from Abidjan to Marseille (as the trades' sample), the exporter with an EORI."""
    seller = PartyView(
        name="Anacarde Abidjan SARL",
        street="Zone 4",
        city="Abidjan",
        postcode="",
        country="CI",
        country_name="Côte d'Ivoire",
        email="export@anacarde.example",
        identifiers={"eori": "CI1234567890"},
    )
    buyer = PartyView(
        name="Provence Fruits Secs SAS",
        street="12 quai de la Joliette",
        city="Marseille",
        postcode="13002",
        country="FR",
        country_name="France",
        identifiers={"vat": "FR40303265045"},
    )
    abidjan = PlaceView(code="CIABJ", name="Abidjan", country="CI")
    marseille = PlaceView(code="FRMRS", name="Marseille", country="FR")
    data = DocumentData(
        trade_id=41,
        reference=lrn,
        direction="export",
        issuer=seller,
        seller=seller,
        buyer=buyer,
        consignee=None,
        invoice_number="INV-2026-041",
        invoice_date=dt.date(2026, 1, 2),
        currency="EUR",
        incoterm="CIF",
        incoterm_name="Cost, Insurance and Freight",
        incoterm_place=marseille,
        transport_mode="1",
        transport_mode_name="Maritime transport",
        place_of_loading=abidjan,
        place_of_discharge=marseille,
        planned_departure=dt.date(2026, 2, 1),
        payment_terms="lc",
        payment_days=60,
        items=items
        or (
            item(1),
            item(2, description="Cashew nuts in shell", hs_code="080131", unit_price=Decimal("1.45")),
        ),
        created_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
    )
    return dataclasses.replace(data, **overrides)


def wco(data: DocumentData) -> bytes:
    from ismit.documents.generators.wco import render_declaration

    return render_declaration(data)


def cusdec(data: DocumentData) -> bytes:
    from ismit.documents.generators.edifact import build_cusdec

    return build_cusdec(data, prepared_at=dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)).encode("latin-1")


# -- the published notification schema ------------------------------------------------------------------


@functools.cache
def res_schema() -> etree.XMLSchema:
    """md:MetaData (DocumentMetaData DMS 2) around a Response (WCO_RES_2_DMS.xsd), from ../shared."""
    base = NOTIFICATION_XSD_DIR
    assert (base / "WCO_RES_2_DMS.xsd").exists(), f"published schemas not found under {base}"
    metadata, response = (base / "DocumentMetaData_2_DMS.xsd").as_uri(), (base / "WCO_RES_2_DMS.xsd").as_uri()
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" elementFormDefault="qualified">
      <xs:include schemaLocation="{metadata}"/>
      <xs:import namespace="urn:wco:datamodel:WCO:RES-DMS:2" schemaLocation="{response}"/>
    </xs:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def res_errors(body: bytes) -> list[str]:
    schema = res_schema()
    document = etree.fromstring(body)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


RES = {"md": "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2", "r": "urn:wco:datamodel:WCO:RES-DMS:2"}


def res_fields(body: bytes) -> dict:
    root = etree.fromstring(body)
    response = root.find("r:Response", RES)
    return {
        "function_code": response.findtext("r:FunctionCode", namespaces=RES),
        "lrn": response.findtext("r:Declaration/r:FunctionalReferenceID", namespaces=RES),
        "mrn": response.findtext("r:Declaration/r:ID", namespaces=RES),
        "version": response.findtext("r:Declaration/r:VersionID", namespaces=RES),
        "errors": [e.findtext("r:ValidationCode", namespaces=RES) for e in response.findall("r:Error", RES)],
        "pointers": [
            [
                (p.findtext("r:DocumentSectionCode", namespaces=RES), p.findtext("r:TagID", namespaces=RES))
                for p in e.findall("r:Pointer", RES)
            ]
            for e in response.findall("r:Error", RES)
        ],
        "texts": [t.text for t in response.iterfind("r:AdditionalInformation/r:StatementDescription", RES)],
    }


# -- HTTP -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Reply:
    status: int
    body: bytes
    headers: dict

    def json(self):
        return json.loads(self.body)


class Client:
    """Signed requests to the simulator, as the platform's connectors make them."""

    def __init__(self, port: int, client_id: str = CLIENT, secret: str = SECRET, timeout: float = 30):
        self.port, self.client_id, self.secret, self.timeout = port, client_id, secret, timeout

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict | None = None,
        sign=True,
        timestamp: int | None = None,
        timeout: float | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
        all_headers = dict(headers or {})
        if sign:
            all_headers.update(
                hmac_auth.sign_request(self.secret, method, path, body, timestamp, client_id=self.client_id)
            )
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
        finally:
            conn.close()

    def submit(
        self,
        path: str,
        body: bytes,
        key: str,
        *,
        content_type: str | None = None,
        correction_of: str = "",
        **kwargs,
    ) -> Reply:
        types = {
            "/customs/declarations": "application/xml; charset=UTF-8",
            "/customs/edifact": "application/EDIFACT",
        }
        headers = {
            "Content-Type": content_type or types.get(path, "application/json"),
            "Idempotency-Key": key,
        }
        if correction_of:
            headers["X-Correction-Of"] = correction_of
        return self.request("POST", path, body, headers, **kwargs)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)


class Sim:
    """`ismit nsw-sim` in a subprocess on a free port, with its own database."""

    def __init__(
        self, tmp: Path, callback_url: str = "", env: dict | None = None, db: Path | None = None, **options
    ):
        self.port = free_port()
        self.db = db or tmp / f"nsw-sim-{self.port}.sqlite3"
        args = [
            sys.executable,
            "-m",
            "ismit.cli",
            "nsw-sim",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--client-id",
            CLIENT,
            "--secret",
            SECRET,
            "--admin-id",
            ADMIN,
            "--admin-secret",
            ADMIN_SECRET,
            "--delay",
            "0",
            "--jitter",
            "0",
            "--callback-backoff",
            "0.2",
            # Tests declare the same trades (references, declarants) again and again: LRN reuse is
            # refused only where a test turns it on (lrn_reuse_hours at run time).
            "--lrn-reuse-hours",
            "0",
        ]
        if callback_url:
            args += ["--callback-url", callback_url]
        for name, value in options.items():
            flag = "--" + name.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value is False:
                args.append("--no-" + name.replace("_", "-"))
            else:
                args += [flag, str(value)]
        self.log = tmp / f"nsw-sim-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - the process writes to it until stop()
        self.process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        self.client = Client(self.port)
        self.admin = Client(self.port, ADMIN, ADMIN_SECRET)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nsw-sim exited: {self.log.read_text()}")
            try:
                if Client(self.port).get("/_sim/health", sign=False, timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nsw-sim did not start: {self.log.read_text()}")

    def configure(self, **changes) -> dict:
        reply = self.admin.request(
            "POST", "/_sim/config", json.dumps(changes).encode(), {"Content-Type": "application/json"}
        )
        assert reply.status == 200, reply.body
        return reply.json()

    def records(self, kind: str = "") -> dict:
        reply = self.admin.get(f"/_sim/records?kind={kind}" if kind else "/_sim/records")
        assert reply.status == 200, reply.body
        return reply.json()

    def notifications(self, after: int = 0, limit: int = 1000) -> list[dict]:
        reply = self.client.get(f"/notifications?after={after}&limit={limit}")
        assert reply.status == 200, reply.body
        return reply.json()

    def wait_notifications(self, conversation_id: str, count: int, timeout: float = 20) -> list[dict]:
        """The conversation's notifications by polling, once there are `count` of them."""
        deadline = time.time() + timeout
        while True:
            found = [n for n in self.notifications() if n["conversation_id"] == conversation_id]
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Receiver:
    """The platform's callback endpoint, for the tests: checks each callback's signature, keeps them, and
    answers 204 (or the statuses queued in `fail_next`)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.refused: list[str] = []
        self.fail_next: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    client = hmac_auth.check_request({CLIENT: SECRET}, "POST", self.path, self.headers, body)
                except hmac_auth.HmacAuthError as exc:
                    with receiver.lock:
                        receiver.refused.append(exc.reason)
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver.lock:
                    status = receiver.fail_next.pop(0) if receiver.fail_next else 204
                    receiver.calls.append(
                        {
                            "client": client,
                            "path": self.path,
                            "answered": status,
                            "conversation_id": self.headers["X-Conversation-ID"],
                            "notification_id": self.headers["X-Notification-ID"],
                            "sequence": int(self.headers["X-Notification-Sequence"]),
                            "status": self.headers.get("X-Notification-Status"),
                            "content_type": self.headers["Content-Type"],
                            "body": body,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/customs/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self, conversation_id: str | None = None) -> list[dict]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c["answered"] < 300
                and (conversation_id is None or c["conversation_id"] == conversation_id)
            ]

    def wait(self, conversation_id: str, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.time() + timeout
        while True:
            found = self.delivered(conversation_id)
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
