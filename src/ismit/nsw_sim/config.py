"""The simulator's options: from the command line, the environment (NSW_SIM_*), and at run time through
the signed admin endpoint POST /_sim/config (the fault and risk options only)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
from dataclasses import dataclass, field


@dataclass
class Config:
    # -- process (fixed once started) -----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8100
    db: str = "var/nsw-sim.sqlite3"
    client_id: str = "ismit"
    secret: str = ""
    callback_url: str = ""
    admin_id: str = "nsw-sim-admin"
    admin_secret: str = ""  # "" = the client's secret
    country: str = "CI"  # MRN country when a declaration names none
    agency: str = "Customs"  # ResponsibleAgencyName of the notifications
    senders: int = 4  # callback threads
    access_log: bool = False
    max_body: int = 5_000_000

    # -- timing and faults (changeable at run time) -------------------------------------------------------
    delay: float = 0.2  # seconds before each status
    jitter: float = 0.3  # plus a random 0..jitter seconds
    intake_error_rate: float = 0.0  # answer 500, record nothing
    intake_timeout_rate: float = 0.0  # record, then answer only after intake_timeout_seconds
    intake_timeout_seconds: float = 35.0
    callback_drop_rate: float = 0.0  # never send the callback (the notification stays pollable)
    callback_duplicate_rate: float = 0.0  # send the callback twice
    callback_out_of_order_rate: float = 0.0  # send the next status before this one
    callback_retries: int = 3  # further attempts after a failed callback
    callback_backoff: float = 0.5  # seconds before the first retry, doubled each time
    callback_timeout: float = 10.0
    seed: int = 0

    # -- risk rules (changeable at run time) ------------------------------------------------------------
    control_chapters: list[str] = field(default_factory=lambda: ["71", "93"])
    control_rate: float = 0.0  # random physical inspections (deterministic per LRN and seed)
    documents_threshold: float = (
        100_000.0  # declared value (EUR, indicative rates) over which: documentary check
    )
    query_min_description: int = 6  # a goods description shorter than this is queried
    query_words: list[str] = field(
        default_factory=lambda: ["goods", "various", "samples", "parts", "general cargo", "merchandise"]
    )
    check_mrn: bool = True  # FX reports and VAT claims must name a declaration this window accepted
    lrn_reuse_hours: float = 48.0  # a declarant's LRN is refused again within this time (0: never)
    max_vat_rate: float = 30.0  # percent

    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def secrets(self) -> dict[str, str]:
        out = {self.admin_id: self.admin_secret or self.secret}
        if self.secret:
            out[self.client_id] = self.secret
        return out

    def public(self) -> dict:
        """The changeable options, as GET/POST /_sim/config shows them."""
        return {name: getattr(self, name) for name in RUNTIME}

    def update(self, changes: dict) -> dict:
        """Applies changes to runtime options; ValueError naming the first bad one."""
        parsed = {}
        for name, value in changes.items():
            if name not in RUNTIME:
                raise ValueError(f"{name}: not an option that can change at run time")
            parsed[name] = _coerce(name, value)
        with self.lock:
            for name, value in parsed.items():
                setattr(self, name, value)
        return self.public()


_FIELDS = {f.name: f for f in dataclasses.fields(Config)}
RUNTIME = (
    "delay",
    "jitter",
    "intake_error_rate",
    "intake_timeout_rate",
    "intake_timeout_seconds",
    "callback_drop_rate",
    "callback_duplicate_rate",
    "callback_out_of_order_rate",
    "callback_retries",
    "callback_backoff",
    "callback_timeout",
    "seed",
    "control_chapters",
    "control_rate",
    "documents_threshold",
    "query_min_description",
    "query_words",
    "check_mrn",
    "max_vat_rate",
    "lrn_reuse_hours",
)
_RATES = {n for n in RUNTIME if n.endswith("_rate") and n != "max_vat_rate"}


def _coerce(name: str, value):
    kind = type(getattr(Config(), name))
    if kind is bool:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(f"{name}: not a boolean: {value!r}")
            return value in {"1", "true", "yes", "on"}
        return bool(value)
    if kind is list:
        items = value.split(",") if isinstance(value, str) else list(value)
        return [str(v).strip() for v in items if str(v).strip()]
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: not a {kind.__name__}: {value!r}")
    if name in _RATES and not 0 <= number <= 1:
        raise ValueError(f"{name}: a rate between 0 and 1")
    if isinstance(number, int | float) and number < 0:
        raise ValueError(f"{name}: must not be negative")
    return number


HELP = {
    "host": "address to listen on",
    "port": "port to listen on",
    "db": "the simulator's SQLite database (created if missing)",
    "client_id": "the platform's client id",
    "secret": "the secret shared with the platform",
    "callback_url": "where notifications are POSTed (none: polling only)",
    "admin_id": "the client id of /_sim/records and /_sim/config",
    "admin_secret": "the admin client's secret (default: the client's)",
    "country": "MRN country when a declaration names none",
    "agency": "ResponsibleAgencyName of the notifications",
    "senders": "threads sending callbacks",
    "access_log": "log every request",
    "max_body": "largest body taken, in bytes",
    "delay": "seconds before each status",
    "jitter": "plus a random 0..jitter seconds",
    "intake_error_rate": "share of submissions answered 500 (nothing recorded)",
    "intake_timeout_rate": "share of submissions recorded, then answered only after --intake-timeout-seconds",
    "intake_timeout_seconds": "how long a timed-out submission waits",
    "callback_drop_rate": "share of callbacks never sent (still pollable)",
    "callback_duplicate_rate": "share of callbacks sent twice",
    "callback_out_of_order_rate": "share of statuses sent after the next one",
    "callback_retries": "further attempts of a failed callback",
    "callback_backoff": "seconds before the first retry (doubled each time)",
    "callback_timeout": "seconds to wait for the platform's answer to a callback",
    "seed": "seed of every random decision",
    "control_chapters": "HS chapters sent to physical inspection",
    "control_rate": "share of declarations inspected at random",
    "documents_threshold": "declared value in euros above which documents are required",
    "query_min_description": "goods descriptions shorter than this are queried",
    "query_words": "goods descriptions queried as too vague",
    "check_mrn": "FX reports and VAT claims must name a declaration this window accepted",
    "max_vat_rate": "highest VAT rate, percent",
    "lrn_reuse_hours": "hours during which a declarant's LRN is refused to another declaration (0: never)",
}


def _env_name(name: str) -> str:
    return "NSW_SIM_" + name.upper()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ismit nsw-sim",
        description="The reference single window (docs/single-window-protocol.md). Every option can also "
        "be given as an environment variable NSW_SIM_<OPTION> (e.g. NSW_SIM_SECRET, NSW_SIM_DELAY).",
    )
    defaults = Config()
    for name in _FIELDS:
        if name == "lock":
            continue
        flag = "--" + name.replace("_", "-")
        default = getattr(defaults, name)
        text = HELP.get(name, "")
        if isinstance(default, bool):
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif isinstance(default, list):
            p.add_argument(
                flag, dest=name, default=None, help=f"{text}, comma-separated ({','.join(default)})"
            )
        else:
            shown = "required" if name == "secret" else repr(default)
            p.add_argument(flag, dest=name, type=type(default), default=None, help=f"{text} ({shown})")
    bench = p.add_argument_group("measuring the intake rate of a running simulator (instead of serving)")
    bench.add_argument("--measure-intake", metavar="URL", default="", help="e.g. http://127.0.0.1:8100")
    bench.add_argument("--count", type=int, default=1000, help="declarations to send")
    bench.add_argument("--threads", type=int, default=8, help="client threads")
    return p


def from_args(argv: list[str]) -> tuple[Config, argparse.Namespace]:
    """The configuration: defaults, then NSW_SIM_* variables, then command-line options."""
    args = parser().parse_args(argv)
    config = Config()
    for name in _FIELDS:
        if name == "lock":
            continue
        raw = os.environ.get(_env_name(name))
        if raw is not None and raw != "":
            setattr(config, name, _coerce(name, raw))
        given = getattr(args, name, None)
        if given is not None:
            setattr(config, name, _coerce(name, given))
    return config, args
