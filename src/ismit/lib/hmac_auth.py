"""HMAC-signed HTTP requests between the platform and a single window (docs/single-window-protocol.md).

Every request, in both directions, carries three headers:

    X-ISMIT-Client: <client id>
    X-ISMIT-Timestamp: <unix seconds>
    X-ISMIT-Signature: hex(HMAC-SHA256(secret, STRING_TO_SIGN))

    STRING_TO_SIGN = METHOD "\\n" PATH_WITH_QUERY "\\n" TIMESTAMP "\\n" hex(SHA-256(body))

PATH_WITH_QUERY is the request target as it travels on the request line: the path from the root of the
host, with the query string when there is one (``/notifications?after=3&limit=50``), never the scheme or
the host. The body is hashed as the bytes sent (an empty body hashes as ``e3b0c442...b855``).

Pure Python, no Django: the platform's connectors and callback view use it, and so does the single window
simulator (``ismit.nsw_sim``), which is its own process.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

HEADER_CLIENT = "X-ISMIT-Client"
HEADER_TIMESTAMP = "X-ISMIT-Timestamp"
HEADER_SIGNATURE = "X-ISMIT-Signature"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock


class HmacAuthError(Exception):
    """The request is not signed by a known client (missing, unknown, stale or wrong). Answer 401."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _bytes(value: bytes | str | None) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def path_with_query(url: str) -> str:
    """The part of a URL that is signed: ``http://h:1/a/b?x=1`` -> ``/a/b?x=1`` (a path stays as it is)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def string_to_sign(method: str, path: str, timestamp: int | str, body: bytes | str | None) -> bytes:
    digest = hashlib.sha256(_bytes(body)).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()


def signature(
    secret: bytes | str, method: str, path: str, timestamp: int | str, body: bytes | str | None
) -> str:
    return hmac.new(_bytes(secret), string_to_sign(method, path, timestamp, body), hashlib.sha256).hexdigest()


def sign_request(
    secret: bytes | str,
    method: str,
    path_with_query: str,
    body: bytes | str | None,
    timestamp: int | None = None,
    *,
    client_id: str | None = None,
) -> dict[str, str]:
    """The authentication headers of one request (add them to the request's own headers).

    With `client_id` the dict also holds X-ISMIT-Client; otherwise the caller adds it."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    headers = {
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: signature(secret, method, path_with_query, ts, body),
    }
    if client_id is not None:
        headers = {HEADER_CLIENT: client_id, **headers}
    return headers


def _header(headers: Mapping[str, str] | object, name: str) -> str:
    """A header by name, case-insensitively, from a dict, Django's request.headers or an http.client
    / email Message (whose .get is already case-insensitive)."""
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and isinstance(headers, Mapping):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    return str(value).strip() if value is not None else ""


def check_request(
    secrets_by_client: Mapping[str, bytes | str],
    method: str,
    path: str,
    headers: Mapping[str, str] | object,
    body: bytes | str | None,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> str:
    """The id of the client that signed this request; HmacAuthError when the headers are missing, the
    client is unknown, the timestamp is more than `tolerance` seconds from `now`, or the signature is
    wrong. `path` is the request target as received (path and query string)."""
    client = _header(headers, HEADER_CLIENT)
    timestamp = _header(headers, HEADER_TIMESTAMP)
    given = _header(headers, HEADER_SIGNATURE).lower()
    if not client or not timestamp or not given:
        raise HmacAuthError(f"missing {HEADER_CLIENT}, {HEADER_TIMESTAMP} or {HEADER_SIGNATURE}")
    secret = secrets_by_client.get(client)
    if not secret:
        raise HmacAuthError(f"unknown client {client!r}")
    if not timestamp.isdigit():
        raise HmacAuthError(f"{HEADER_TIMESTAMP} must be unix seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise HmacAuthError(f"{HEADER_TIMESTAMP} is more than {tolerance} s away from the receiver's clock")
    expected = signature(secret, method, path, timestamp, body)
    if not hmac.compare_digest(expected, given):
        raise HmacAuthError("wrong signature")
    return client
