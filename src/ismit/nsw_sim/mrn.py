"""Movement reference numbers in the UK / EU format: 18 characters.

    YY CC XXXXXXXXXXXXX K
    |  |  |             check character (ISO 6346 method, as the EU MRN specification uses it)
    |  |  13 letters or digits, unique
    |  country of the customs office (ISO 3166 alpha-2)
    last two digits of the year

The check character of every MRN in the published UK examples comes out right (tests/test_mrn.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MRN_RE = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9A-Z]{13}[0-9]$")


def _values() -> dict[str, int]:
    out = {str(d): d for d in range(10)}
    value = 10
    for letter in _ALPHABET[10:]:
        if value % 11 == 0:  # 11, 22, 33 are skipped
            value += 1
        out[letter] = value
        value += 1
    return out


_VALUES = _values()


def check_character(body: str) -> str:
    """The check character of the first 17 characters of an MRN."""
    total = sum(_VALUES[ch] * (2**i) for i, ch in enumerate(body.upper()))
    return str(total % 11 % 10)


def is_valid(mrn: str) -> bool:
    mrn = (mrn or "").strip().upper()
    return bool(MRN_RE.match(mrn)) and check_character(mrn[:17]) == mrn[17]


def make_mrn(seed: str, country: str, year: int | None = None, salt: int = 0) -> str:
    """An MRN derived from `seed` (a conversation id): the same seed gives the same MRN; `salt` gives
    another one when the first is taken."""
    year = dt.date.today().year if year is None else year
    digest = int.from_bytes(hashlib.sha256(f"{seed}:{salt}".encode()).digest()[:12], "big")
    middle = ""
    for _ in range(13):
        digest, r = divmod(digest, 36)
        middle += _ALPHABET[r]
    cc = (country or "XX").upper()[:2]
    if not re.fullmatch(r"[A-Z]{2}", cc):
        cc = "XX"
    body = f"{year % 100:02d}{cc}{middle}"
    return body + check_character(body)
