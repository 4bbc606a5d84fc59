"""`ismit carrier-sim --port 8200 --db carrier.sqlite3 --token SECRET [--admin-token ADMIN]`

Serves `GET /events` (DCSA T&T 3.0: carrierBookingReference, transportDocumentReference, equipmentReference,
eventTypes, eventUpdatedDateTimeMin/Max, limit, cursor → `Next-Page-Cursor`) to a client with the bearer
token. The admin endpoints (bearer admin token; the token itself when none is given):

- `POST /_sim/scenario` {booking, transportDocument, equipment, pol, transshipment?, pod, start?}: a vessel
  voyage with its equipment events (the events of `published` hours only, see below); answers the events;
- `POST /_sim/events` {"events": [...]}: add events as they are (to send faulty ones, or corrections);
- `POST /_sim/config` {fail_next: n (the next n requests answer 500), repeat: bool (each page repeats the
  last event of the page before), reverse: bool (pages in the reverse order of the events), page_size};
- `GET /_sim/requests`: the requests received; `GET /_sim/health`.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
import signal
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_VERSION = "3.0.0"
PARTY = {"partyCode": "SIMC", "codeListProvider": "SMDG", "codeListName": "LCL", "partyFunction": "CA"}


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


class Store:
    def __init__(self, path: str):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, booking TEXT,"
            " document TEXT,"
            " equipment TEXT, type TEXT, updated TEXT, body TEXT)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT)"
        )
        self.db.commit()

    def add(self, events: list[dict]) -> int:
        rows = []
        for event in events:
            details = event.get("shipmentDetails") or {}
            refs = [
                details.get("documentReference") or {},
                *(details.get("additionalDocumentReferences") or []),
            ]
            booking = next((r.get("reference") for r in refs if r.get("typeCode") == "BKG"), "")
            document = next((r.get("reference") for r in refs if r.get("typeCode") == "TRD"), "")
            equipment = (event.get("equipmentDetails") or {}).get("equipmentReference", "")
            kind = (event.get("eventClassification") or {}).get("eventTypeCode", "")
            rows.append(
                (booking, document, equipment, kind, event.get("eventUpdatedDateTime", ""), json.dumps(event))
            )
        with self.lock:
            self.db.executemany(
                "INSERT INTO events (booking, document, equipment, type, updated, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.commit()
        return len(rows)

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def log(self, line: str) -> None:
        with self.lock:
            self.db.execute("INSERT INTO requests (line) VALUES (?)", (line,))
            self.db.commit()


def voyage(spec: dict) -> list[dict]:
    """A vessel voyage: booking confirmed, empty container picked up, stuffed, gated in, loaded, departed,
    estimates of the arrival (revised), arrival, discharge, customs release, gate out at the destination."""
    booking, document, container = spec["booking"], spec.get("transportDocument", ""), spec["equipment"]
    pol, pod, via = spec["pol"], spec["pod"], spec.get("transshipment")
    start = _parse(spec.get("start", "")) or dt.datetime(2026, 1, 10, 8, tzinfo=dt.UTC)
    hours = lambda n: start + dt.timedelta(hours=n)  # noqa: E731
    vessel = {
        "vesselIMONumber": "9321483",
        "vesselName": spec.get("vessel", "Sim Voyager"),
        "vesselFlag": "LR",
    }
    refs = {"documentReference": {"typeCode": "BKG", "reference": booking}}
    if document:
        refs["additionalDocumentReferences"] = [{"typeCode": "TRD", "reference": document}]
    n = {"i": 0}

    def event(kind, code, classifier, when, updated, place, **extra):
        n["i"] += 1
        field = {
            "TRANSPORT": "transportEventTypeCode",
            "EQUIPMENT": "equipmentEventTypeCode",
            "SHIPMENT": "shipmentEventTypeCode",
        }[kind]
        body = {
            "eventRouting": {"originatingParty": PARTY},
            "eventID": f"{booking}-{n['i']:03d}-{code}-{classifier}",
            "eventDateTime": _time(when),
            "eventUpdatedDateTime": _time(updated),
            "eventClassification": {"eventTypeCode": kind, "eventClassifierCode": classifier, field: code},
            "shipmentDetails": refs,
        }
        if place:
            body["eventLocation"] = {"UNLocationCode": place}
        if kind == "EQUIPMENT":
            body["equipmentDetails"] = {
                "equipmentReference": container,
                "ISOEquipmentCode": "22GP",
                "emptyIndicatorCode": extra.get("empty", "LADEN"),
            }
        if kind == "TRANSPORT":
            body["transportDetails"] = {
                "transportCall": {
                    "modeOfTransport": "VESSEL",
                    "vesselTransport": vessel,
                    "exportVoyageNumberOrReference": {"carrierVoyageNumber": "101E"},
                }
            }
        return body

    events = [
        event("SHIPMENT", "CONF", "ACT", hours(0), hours(0), ""),
        event("TRANSPORT", "DEPA", "PLN", hours(72), hours(1), pol),
        event("TRANSPORT", "ARRI", "PLN", hours(72 + 240), hours(1), pod),
        event("EQUIPMENT", "GTOT", "ACT", hours(10), hours(10), pol, empty="EMPTY"),
        event("EQUIPMENT", "STUF", "ACT", hours(30), hours(30), pol),
        event("EQUIPMENT", "GTIN", "ACT", hours(50), hours(50), pol),
        event("EQUIPMENT", "LOAD", "ACT", hours(70), hours(70), pol),
        event("TRANSPORT", "DEPA", "ACT", hours(74), hours(74), pol),
        event("TRANSPORT", "ARRI", "EST", hours(72 + 250), hours(80), pod),
    ]
    if via:
        events += [
            event("EQUIPMENT", "DISC", "ACT", hours(150), hours(150), via),
            event("EQUIPMENT", "LOAD", "ACT", hours(170), hours(170), via),
            event("TRANSPORT", "DEPA", "ACT", hours(172), hours(172), via),
        ]
    events += [
        event("TRANSPORT", "ARRI", "EST", hours(72 + 262), hours(200), pod),
        event("TRANSPORT", "ARRI", "ACT", hours(72 + 263), hours(72 + 263), pod),
        event("EQUIPMENT", "DISC", "ACT", hours(72 + 266), hours(72 + 266), pod),
        event("EQUIPMENT", "CUSR", "ACT", hours(72 + 280), hours(72 + 280), pod),
        event("EQUIPMENT", "GTOT", "ACT", hours(72 + 290), hours(72 + 290), pod),
    ]
    return events


class Simulator:
    def __init__(self, store: Store, token: str, admin_token: str, page_size: int):
        self.store, self.token, self.admin_token = store, token, admin_token
        self.config = {"fail_next": 0, "repeat": False, "reverse": False, "page_size": page_size}
        self.lock = threading.Lock()

    def take_failure(self) -> bool:
        with self.lock:
            if self.config["fail_next"] > 0:
                self.config["fail_next"] -= 1
                return True
            return False

    def events(self, query: dict[str, str]) -> tuple[int, dict, dict]:
        where, params = [], []
        for name, column in (
            ("carrierBookingReference", "booking"),
            ("transportDocumentReference", "document"),
            ("equipmentReference", "equipment"),
        ):
            if query.get(name):
                where.append(f"{column} = ?")
                params.append(query[name])
        rows = self.store.query(
            f"SELECT seq, updated, type, body FROM events {'WHERE ' + ' AND '.join(where) if where else ''} "  # noqa: S608
            "ORDER BY seq",
            params,
        )
        types = [t for t in query.get("eventTypes", "").split(",") if t]
        low = _parse(query["eventUpdatedDateTimeMin"]) if query.get("eventUpdatedDateTimeMin") else None
        high = _parse(query["eventUpdatedDateTimeMax"]) if query.get("eventUpdatedDateTimeMax") else None
        selected = []
        for _seq, updated, kind, body in rows:
            when = _parse(updated)
            if types and kind not in types:
                continue
            if low and when and when < low:
                continue
            if high and when and when > high:
                continue
            selected.append(json.loads(body))
        if self.config["reverse"]:
            selected.reverse()
        size = min(int(query.get("limit") or 100), int(self.config["page_size"]))
        offset = 0
        if query.get("cursor"):
            offset = int(base64.urlsafe_b64decode(query["cursor"].encode()).decode())
        start = max(offset - 1, 0) if (self.config["repeat"] and offset) else offset
        page = selected[start : offset + size]
        headers = {}
        if offset + size < len(selected):
            headers["Next-Page-Cursor"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return 200, {"events": page}, headers


def make_handler(sim: Simulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            logging.getLogger("carrier_sim").debug(format, *args)

        def _send(self, status: int, body, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("API-Version", API_VERSION)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _bearer(self) -> str:
            value = self.headers.get("Authorization", "")
            return value[7:] if value.startswith("Bearer ") else ""

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"null")

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/_sim/health":
                return self._send(200, {"ok": True})
            if url.path == "/_sim/requests":
                if self._bearer() != sim.admin_token:
                    return self._send(
                        401, {"feedbackElements": [{"severity": "ERROR", "message": "admin token"}]}
                    )
                return self._send(
                    200,
                    {"requests": [r[0] for r in sim.store.query("SELECT line FROM requests ORDER BY seq")]},
                )
            if url.path != "/events":
                return self._send(404, {"feedbackElements": [{"severity": "ERROR", "message": "not found"}]})
            sim.store.log(f"GET {self.path}")
            if self._bearer() != sim.token:
                return self._send(
                    401, {"feedbackElements": [{"severity": "ERROR", "message": "Unauthorized"}]}
                )
            if sim.take_failure():
                return self._send(
                    500, {"feedbackElements": [{"severity": "ERROR", "message": "Simulated failure"}]}
                )
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, body, headers = sim.events(query)
            return self._send(status, body, headers)

        def do_POST(self):
            url = urlsplit(self.path)
            if self._bearer() != sim.admin_token:
                return self._send(
                    401, {"feedbackElements": [{"severity": "ERROR", "message": "admin token"}]}
                )
            try:
                body = self._body()
            except ValueError:
                return self._send(400, {"feedbackElements": [{"severity": "ERROR", "message": "not JSON"}]})
            if url.path == "/_sim/scenario":
                events = voyage(body)
                sim.store.add(events)
                return self._send(201, {"events": events})
            if url.path == "/_sim/events":
                return self._send(201, {"added": sim.store.add(body.get("events", []))})
            if url.path == "/_sim/config":
                with sim.lock:
                    sim.config.update({k: v for k, v in body.items() if k in sim.config})
                    return self._send(200, dict(sim.config))
            return self._send(404, {"feedbackElements": [{"severity": "ERROR", "message": "not found"}]})

    return Handler


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ismit carrier-sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--db", default="carrier-sim.sqlite3")
    parser.add_argument("--token", required=True, help="the bearer token of GET /events")
    parser.add_argument("--admin-token", default="", help="of the /_sim endpoints (default: --token)")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s carrier-sim %(levelname)s %(message)s")
    sim = Simulator(Store(args.db), args.token, args.admin_token or args.token, args.page_size)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(sim))
    server.daemon_threads = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"carrier-sim listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
