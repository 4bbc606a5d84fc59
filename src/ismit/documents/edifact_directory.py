"""UN/EDIFACT D96A: the directory, and reading, writing and checking interchanges.

The directory (built by ``edifact_build.py`` from the official D96A directory in XML, which the operator
provides: see standards.py; it is LGPL-3.0 and not shipped) holds the segment tables of INVOIC, CUSDEC
and CUSRES, the definitions of the segments they use and the code lists of their coded elements. On top
of it:

- ``write_interchange(...)``: UNA + UNB ... UNZ around one or more messages, built and escaped by
  pydifact (release character ``?`` before ``' + : ?`` in data);
- ``parse_segments(text)``: the segments of an interchange as pydifact Segments, unescaped (a regular
  expression reader that gives what pydifact's parser gives, several times faster; ``reader="pydifact"``
  for pydifact's own); ``parse_interchange(text)``: a pydifact Interchange;
- ``check_interchange(text)``: every problem found, each with the segment's position: envelope counts and
  references (UNB/UNZ, UNH/UNT), segment order and repeats per the message's segment table (groups
  included), mandatory segments, groups, elements and components, representation (``an..35``,
  ``n..15``, fixed lengths, ``a``), the syntax level's character repertoire, dates, and codes of coded
  elements where the directory lists them (plus external code lists the caller passes, e.g. Rec 20).

Pure Python on top of pydifact: no Django, no database, so the single window simulator can use it too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment, SegmentFactory

# pydifact logs the syntax identifier of every interchange it parses, at INFO.
logging.getLogger("pydifact.parser").setLevel(logging.WARNING)


# The service string advice we write: ":" components, "+" elements, "." decimal mark, "?" release
# character, " " reserved, "'" segment terminator.
CHARACTERS = ":+.? '"

# Syntax identifier (0001) -> Python codec. UNOC (ISO 8859-1) is what we write: syntax version 3,
# which D96A messages travel in, knows UNOA..UNOF only; UNOW (UTF-8) came with syntax version 4.
ENCODINGS = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "latin-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
}
_UNOA = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?")
_UNOB = _UNOA | frozenset('abcdefghijklmnopqrstuvwxyz!"%&*;<>')


# -- the directory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A row of a segment table: a segment, or a group whose first segment is its trigger."""

    kind: str  # "S" or "G"
    name: str  # segment tag, or group id ("SG25")
    max: int
    required: bool
    children: tuple[Node, ...] = ()

    @property
    def trigger(self) -> str:
        return self.children[0].name if self.kind == "G" else self.name

    @property
    def label(self) -> str:
        return f"group {self.name} ({self.trigger})" if self.kind == "G" else f"segment {self.name}"


def _node(row: list) -> Node:
    if row[0] == "G":
        return Node("G", row[1], row[2], row[3], tuple(_node(r) for r in row[4]))
    return Node("S", row[1], row[2], row[3])


@dataclass(frozen=True)
class Directory:
    name: str
    messages: dict[str, tuple[Node, ...]]
    identifiers: dict[str, tuple[str, ...]]  # "INVOIC" -> ("INVOIC", "D", "96A", "UN")
    segments: dict[str, dict]
    codes: dict[str, frozenset[str]]

    def tags(self, message: str) -> set[str]:
        def walk(nodes: Iterable[Node]) -> set[str]:
            out: set[str] = set()
            for n in nodes:
                out |= walk(n.children) if n.kind == "G" else {n.name}
            return out

        return walk(self.messages[message])


@lru_cache(maxsize=4)
def load_directory(path: Path | None = None) -> Directory:
    """The directory from `path` (the XML directory's folder, or a JSON file edifact_build wrote), by
    default from the standards folder (standards.py); StandardsUnavailable if none is configured."""
    from ismit.documents import edifact_build, standards

    path = path or standards.standard_path(*standards.EDIFACT_D96A)
    raw = edifact_build.build(path) if path.is_dir() else json.loads(path.read_text("utf-8"))
    return Directory(
        name=raw["directory"],
        messages={k: tuple(_node(r) for r in v["table"]) for k, v in raw["messages"].items()},
        identifiers={k: tuple(v["identifier"]) for k, v in raw["messages"].items()},
        segments=raw["segments"],
        codes={k: frozenset(v) for k, v in raw["codes"].items()},
    )


@lru_cache(maxsize=1)
def default_external_codes() -> dict[str, frozenset[str]]:
    """ISO code lists D96A refers to but does not contain: countries (3207, 3239) and currencies (6345)."""
    import pycountry

    countries = frozenset(c.alpha_2 for c in pycountry.countries)
    return {"3207": countries, "3239": countries, "6345": frozenset(c.alpha_3 for c in pycountry.currencies)}


# -- writing ---------------------------------------------------------------------------------------

Value = str | Sequence[str | None] | None


def segment(tag: str, *elements: Value) -> Segment:
    """A segment from simple values (str) and composites (sequences); None and "" are empty.

    Trailing empty components and elements are left out, as ISO 9735 asks."""
    out: list[str | list[str]] = []
    for element in elements:
        if element is None or isinstance(element, str):
            out.append(element or "")
            continue
        parts = [p or "" for p in element]
        while parts and parts[-1] == "":
            parts.pop()
        out.append(parts if len(parts) > 1 else (parts[0] if parts else ""))
    while out and out[-1] == "":
        out.pop()
    return Segment(tag, *out)


def write_interchange(
    messages: Sequence[tuple[str, Sequence[str], Sequence[Segment]]],
    *,
    sender: Sequence[str],
    recipient: Sequence[str],
    control_reference: str,
    prepared_at: dt.datetime,
    application_reference: str = "",
    syntax: str = "UNOC",
) -> str:
    """UNA, UNB, each message (reference, identifier, body segments) between UNH and UNT, UNZ.

    pydifact counts the segments (UNT) and messages (UNZ) and releases the separators in the data."""
    characters = Characters.from_str(CHARACTERS)
    extra: list = ["", application_reference] if application_reference else []
    interchange = Interchange(
        sender=list(sender),
        recipient=list(recipient),
        control_reference=control_reference,
        syntax_identifier=(syntax, 3),
        timestamp=prepared_at,
        characters=characters,
        extra_header_elements=extra,
    )
    interchange.has_una_segment = True
    for reference, identifier, body in messages:
        message = Message(reference, list(identifier), characters=characters)
        message.add_segments(body)
        interchange.add_message(message)
    return interchange.serialize()


_REPLACEMENTS = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "€": "EUR",
        "‘": "'",
        "’": "'",
        "‚": ",",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "\u2009": " ",
        "\u202f": " ",
    }
)


def latin1(text: str) -> str:
    """Text in the UNOC repertoire (ISO 8859-1 graphic characters): accents kept (é, ô, ç...), control
    characters turned into spaces, other characters transliterated where Unicode can, else "?"."""
    text = unicodedata.normalize("NFC", text or "").translate(_REPLACEMENTS)
    out = []
    for ch in text:
        o = ord(ch)
        if 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xFF:
            out.append(ch)
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append(" ")
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", ch)
                if not unicodedata.combining(c) and ord(c) <= 0xFF
            )
            out.append(base or "?")
    return "".join(out)


def chunks(text: str, width: int, count: int | None = None) -> list[str]:
    """Splits text into pieces of at most `width` characters, at spaces where it can (the space stays
    at the end of a piece), so that joining the pieces gives the text back. At most `count` pieces: when
    splitting at spaces would need more, pieces are cut at `width` exactly, and what still does not fit is
    left out."""
    out: list[str] = []
    rest = text
    while rest:
        if len(rest) <= width:
            out.append(rest)
            break
        cut = rest.rfind(" ", 0, width)
        cut = cut + 1 if cut > 0 else width
        out.append(rest[:cut])
        rest = rest[cut:]
    if count is not None and len(out) > count:
        out = [text[i : i + width] for i in range(0, min(len(text), width * count), width)]
    return out


def number(value: Decimal | int, places: int | None = None) -> str:
    """A numeric data element: no exponent, "." as decimal mark, trailing zeros dropped unless `places`."""
    value = Decimal(value)
    if places is not None:
        return format(value.quantize(Decimal(1).scaleb(-places)), "f")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# -- reading ---------------------------------------------------------------------------------------


class _PlainFactory(SegmentFactory):
    """Segments as read, without pydifact's own partial validation (we check against the directory)."""

    @staticmethod
    def create_segment(name, *elements, validate=True, version="", directory=""):
        return Segment(name, *elements)


def decode(data: bytes | str) -> str:
    """The text of an interchange, decoded with the character set its UNB names (ISO 8859-1 if none)."""
    if isinstance(data, str):
        return data
    head = data[:200].decode("latin-1")
    match = re.search(r"UNB.(UNO[A-Z])", head)
    encoding = ENCODINGS.get(match.group(1), "latin-1") if match else "latin-1"
    return data.decode(encoding)


def parse_segments(data: bytes | str, *, reader: str = "fast") -> list[Segment]:
    """All segments of an interchange, UNA first when present; values unescaped. Raises EDISyntaxError.

    Values come as pydifact gives them: a str per simple element, a list of str per composite (trailing
    empty components dropped). reader="pydifact" uses pydifact's own parser, character by character;
    the default splits on a regular expression with the same result (the tests hold them equal) in a
    fraction of the time, which the single window's intake needs."""
    text = decode(data)
    if reader == "pydifact":
        return list(Parser(factory=_PlainFactory()).parse(text))
    return _split(text)


@lru_cache(maxsize=8)
def _tokens(chars: str) -> re.Pattern:
    component, element, _decimal, release, _reserved, terminator = chars
    separators = re.escape(component + element + terminator)
    return re.compile(
        f"{re.escape(release)}(.)|([{separators}])|([^{separators}{re.escape(release)}]+)|(.)",
        re.DOTALL,
    )


def _value(parts: list[str]) -> str | list[str]:
    while parts and parts[-1] == "":
        parts.pop()
    return parts[0] if len(parts) == 1 else (parts or "")


def _split(text: str) -> list[Segment]:
    out: list[Segment] = []
    chars = CHARACTERS
    if text.startswith("UNA"):
        chars = text[3:9]
        if len(chars) != 6:
            raise EDISyntaxError("UNA must give six service characters")
        out.append(Segment("UNA", chars))
        text = text[9:].lstrip("\r\n")
    component, element, terminator = chars[0], chars[1], chars[5]
    elements: list[str | list[str]] = []
    parts: list[str] = []
    piece: list[str] = []
    started = False
    for released, separator, content, stray in _tokens(chars).findall(text):
        if stray:
            raise EDISyntaxError("release character at the end of the interchange")
        if separator == component:
            parts.append("".join(piece))
            piece = []
        elif separator == element:
            parts.append("".join(piece))
            elements.append(_value(parts))
            parts, piece = [], []
        elif separator == terminator:
            parts.append("".join(piece))
            elements.append(_value(parts))
            tag = elements.pop(0)
            if not isinstance(tag, str) or not tag:
                raise EDISyntaxError(f"invalid segment tag: {tag!r}")
            out.append(Segment(tag, *elements))
            elements, parts, piece, started = [], [], [], False
        else:
            if not started and not released:
                content = content.lstrip(" \r\n")  # line breaks between segments, as pydifact allows
            started = started or bool(content or released)
            piece.append(released or content)
    if started or elements or parts:
        raise EDISyntaxError("Unexpected end of EDI messages.")
    return out


def parse_interchange(data: bytes | str, *, reader: str = "pydifact") -> Interchange:
    """A pydifact Interchange (header and trailer taken off, messages via .get_messages()), read by
    pydifact's own parser unless reader="fast"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydifact has no service segment definitions to validate UNB
        return Interchange.from_segments(parse_segments(data, reader=reader))


def messages_of(segments: Sequence[Segment]) -> list[list[Segment]]:
    """The messages of an interchange: each a list of segments from UNH to UNT."""
    out: list[list[Segment]] = []
    current: list[Segment] | None = None
    for seg in segments:
        if seg.tag == "UNH":
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.tag == "UNT":
                out.append(current)
                current = None
    return out


def component(seg: Segment, element: int, position: int = 0) -> str:
    """A value of a parsed segment: element `element` (0-based after the tag), component `position`."""
    value = seg.elements[element] if element < len(seg.elements) else ""
    if isinstance(value, list):
        return value[position] if position < len(value) else ""
    return value if position == 0 else ""


# -- checking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # "syntax", "charset", "envelope", "structure", "element", "code"
    message: str
    position: int = 0  # 1-based position of the segment in the interchange (UNA not counted); 0: none
    tag: str = ""

    def __str__(self) -> str:
        where = f"segment {self.position} ({self.tag}): " if self.position else ""
        return f"[{self.kind}] {where}{self.message}"


class InvalidInterchange(ValueError):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems[:20]))


@dataclass
class _Frame:
    nodes: tuple[Node, ...]
    name: str
    counts: list[int] = field(default_factory=list)
    pos: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.nodes)

    def find(self, tag: str) -> int | None:
        for k in range(self.pos, len(self.nodes)):
            node = self.nodes[k]
            if node.trigger == tag and self.counts[k] < node.max:
                return k
        return None

    def missing(self, upto: int, before: str = "") -> list[str]:
        """Mandatory rows from the current position up to `upto` that never occurred."""
        out = []
        for j in range(self.pos, upto):
            node = self.nodes[j]
            if node.required and self.counts[j] == 0:
                out.append(
                    f"mandatory {node.label} missing in {self.name}" + (f" before {before}" if before else "")
                )
        return out


class _Checker:
    def __init__(self, directory: Directory, external: Mapping[str, Collection[str]]):
        self.directory = directory
        self.external = external
        self.problems: list[Problem] = []
        self.syntax = "UNOC"
        self.decimal = "."

    def add(self, kind: str, message: str, position: int = 0, tag: str = "") -> None:
        self.problems.append(Problem(kind, message, position, tag))

    # values ---------------------------------------------------------------------------------------

    def charset_ok(self, value: str) -> bool:
        if self.syntax == "UNOA":
            return all(c in _UNOA for c in value)
        if self.syntax == "UNOB":
            return all(c in _UNOB for c in value)
        if not all(0x20 <= ord(c) <= 0x7E or ord(c) >= 0xA0 for c in value):
            return False
        try:
            value.encode(ENCODINGS.get(self.syntax, "latin-1"))
        except UnicodeEncodeError:
            return False
        return True

    def check_value(self, value: str, spec: dict, where: str, pos: int, tag: str, codes: bool) -> None:
        eid, kind = spec["id"], spec.get("type", "an")
        if not self.charset_ok(value):
            self.add("charset", f"{where} {eid}: characters outside {self.syntax}: {value!r}", pos, tag)
        if kind == "n":
            body = value[1:] if value.startswith("-") else value
            if not re.fullmatch(rf"\d+(?:{re.escape(self.decimal)}\d+)?", body):
                self.add("element", f"{where} {eid}: {value!r} is not numeric (n)", pos, tag)
            size = sum(c.isdigit() for c in body)
        else:
            size = len(value)
            if kind == "a" and any(c.isdigit() for c in value):
                self.add(
                    "element", f"{where} {eid}: {value!r} has digits in an alphabetic (a) element", pos, tag
                )
        if "max" in spec and size > spec["max"]:
            rep = f"{kind}..{spec['max']}"
            self.add("element", f"{where} {eid}: {value!r} is longer than {rep} ({size})", pos, tag)
        if "len" in spec and size != spec["len"]:
            rep = f"{kind}{spec['len']}"
            self.add("element", f"{where} {eid}: {value!r} is not {rep} long ({size})", pos, tag)
        if codes:
            allowed = self.directory.codes.get(eid) or self.external.get(eid)
            if allowed is not None and value not in allowed:
                self.add("code", f"{where} {eid}: {value!r} is not a code of data element {eid}", pos, tag)

    def check_segment(self, seg: Segment, pos: int) -> None:
        spec = self.directory.segments.get(seg.tag)
        if spec is None:
            self.add(
                "structure", f"segment {seg.tag} is not in the {self.directory.name} directory", pos, seg.tag
            )
            return
        defs = spec["elements"]
        if len(seg.elements) > len(defs):
            self.add("element", f"{len(seg.elements)} data elements, {seg.tag} has {len(defs)}", pos, seg.tag)
        for index, d in enumerate(defs):
            value = seg.elements[index] if index < len(seg.elements) else ""
            where = f"{seg.tag} element {index + 1}"
            if "components" in d:
                parts = value if isinstance(value, list) else [value]
                if not any(parts):
                    if d["required"]:
                        self.add("element", f"{where}: mandatory composite {d['id']} missing", pos, seg.tag)
                    continue
                comps = d["components"]
                if len(parts) > len(comps):
                    self.add(
                        "element",
                        f"{where} {d['id']}: {len(parts)} components, at most {len(comps)}",
                        pos,
                        seg.tag,
                    )
                # A code from another agency's list (3055 other than 6, UN/ECE) is not checked against UNTDID.
                foreign = any(
                    c["id"] == "3055" and i < len(parts) and parts[i] not in ("", "6")
                    for i, c in enumerate(comps)
                )
                for j, c in enumerate(comps):
                    part = parts[j] if j < len(parts) else ""
                    if not part:
                        if c["required"]:
                            self.add(
                                "element",
                                f"{where}: mandatory component {c['id']} of {d['id']} missing",
                                pos,
                                seg.tag,
                            )
                        continue
                    self.check_value(
                        part, c, where, pos, seg.tag, codes=not foreign or c["id"] in ("1131", "3055")
                    )
            else:
                if isinstance(value, list):
                    self.add(
                        "element",
                        f"{where} {d['id']}: a simple data element, got components {value}",
                        pos,
                        seg.tag,
                    )
                    value = value[0]
                if not value:
                    if d["required"]:
                        self.add(
                            "element", f"{where}: mandatory data element {d['id']} missing", pos, seg.tag
                        )
                    continue
                self.check_value(value, d, where, pos, seg.tag, codes=True)
        if seg.tag == "DTM":
            self.check_date(seg, pos)

    def check_date(self, seg: Segment, pos: int) -> None:
        value, fmt = component(seg, 0, 1), component(seg, 0, 2)
        patterns = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
        if value and fmt in patterns:
            try:
                dt.datetime.strptime(value, patterns[fmt])
            except ValueError:
                self.add("element", f"DTM: {value!r} is not a date in format {fmt}", pos, "DTM")

    # structure ------------------------------------------------------------------------------------

    def check_structure(self, message: str, segs: Sequence[tuple[int, Segment]]) -> None:
        frames = [_Frame(self.directory.messages[message], message)]
        for pos, seg in segs:
            placed = False
            for depth in range(len(frames) - 1, -1, -1):
                frame = frames[depth]
                k = frame.find(seg.tag)
                if k is None:
                    continue
                for inner in frames[depth + 1 :][::-1]:
                    for text in inner.missing(len(inner.nodes)):
                        self.add("structure", text, pos, seg.tag)
                del frames[depth + 1 :]
                for text in frame.missing(k, seg.tag):
                    self.add("structure", text, pos, seg.tag)
                frame.pos = k
                frame.counts[k] += 1
                node = frame.nodes[k]
                if node.kind == "G":
                    counts = [0] * len(node.children)
                    counts[0] = 1
                    frames.append(_Frame(node.children, node.name, counts))
                placed = True
                break
            if not placed:
                self.add("structure", self.misplaced(message, frames, seg.tag), pos, seg.tag)
        last = segs[-1][0] if segs else 0
        for frame in frames[::-1]:
            for text in frame.missing(len(frame.nodes)):
                self.add("structure", text, last, "UNT")

    def misplaced(self, message: str, frames: list[_Frame], tag: str) -> str:
        if tag not in self.directory.tags(message):
            return f"segment {tag} is not part of {message}"
        for frame in frames[::-1]:
            for k, node in enumerate(frame.nodes):
                if node.trigger != tag:
                    continue
                if k < frame.pos:
                    after = frame.nodes[frame.pos].label
                    return f"segment {tag} out of order in {frame.name}: it comes before {after}"
                if frame.counts[k] >= node.max:
                    return f"{node.label} repeated more than {node.max} times in {frame.name}"
        return f"segment {tag} not expected here in {message} (out of order)"

    # the interchange ------------------------------------------------------------------------------

    def check(self, data: bytes | str) -> list[Problem]:
        try:
            text = decode(data)
        except (UnicodeDecodeError, LookupError) as e:
            self.add("charset", f"cannot decode the interchange with the character set its UNB names: {e}")
            return self.problems
        try:
            segs = parse_segments(text)
        except (EDISyntaxError, ValueError, IndexError) as e:
            self.add("syntax", f"not an EDIFACT interchange: {e}")
            return self.problems
        if segs and segs[0].tag == "UNA":
            chars = str(segs[0].elements[0]) if segs[0].elements else ""
            self.decimal = chars[2] if len(chars) == 6 else "."
            segs = segs[1:]
        numbered = list(enumerate(segs, start=1))
        if not segs or segs[0].tag != "UNB":
            self.add("envelope", "the interchange does not start with UNB", 1, segs[0].tag if segs else "")
            return self.problems
        unb = segs[0]
        self.syntax = component(unb, 0, 0)
        if self.syntax not in ENCODINGS:
            self.add("envelope", f"syntax identifier {self.syntax!r} not known (UNOA..UNOF)", 1, "UNB")
            self.syntax = "UNOC"
        if component(unb, 0, 1) != "3":
            self.add(
                "envelope",
                f"syntax version {component(unb, 0, 1)!r}: expected 3 for {self.directory.name}",
                1,
                "UNB",
            )
        date, time = component(unb, 3, 0), component(unb, 3, 1)
        try:
            dt.datetime.strptime(date + time, "%y%m%d%H%M")
        except ValueError:
            self.add("envelope", f"UNB date/time {date}:{time} is not YYMMDD:HHMM", 1, "UNB")
        for pos, seg in numbered:
            self.check_segment(seg, pos)

        control = component(unb, 4)
        unz_at = [pos for pos, seg in numbered if seg.tag == "UNZ"]
        if not unz_at:
            self.add("envelope", "UNZ missing at the end of the interchange", len(segs), segs[-1].tag)
        elif unz_at[0] != len(segs):
            self.add("envelope", "segments after UNZ", unz_at[0], "UNZ")

        references: set[str] = set()
        count = 0
        current: list[tuple[int, Segment]] | None = None
        for pos, seg in numbered[1:]:
            if seg.tag == "UNZ":
                break
            if seg.tag in ("UNG", "UNE"):
                self.add("envelope", "functional groups (UNG/UNE) are not supported", pos, seg.tag)
                continue
            if seg.tag == "UNH":
                if current is not None:
                    self.add("envelope", "UNH before the UNT of the previous message", pos, "UNH")
                    self.check_message(current)
                current = [(pos, seg)]
                count += 1
                ref = component(seg, 0)
                if ref in references:
                    self.add(
                        "envelope", f"message reference {ref!r} used twice in the interchange", pos, "UNH"
                    )
                references.add(ref)
                continue
            if current is None:
                self.add("envelope", f"segment {seg.tag} outside a message (no UNH before it)", pos, seg.tag)
                continue
            current.append((pos, seg))
            if seg.tag == "UNT":
                self.check_message(current)
                current = None
        if current is not None:
            self.add("envelope", "message not closed by UNT", current[-1][0], current[-1][1].tag)
            self.check_message(current)
        if count == 0:
            self.add("envelope", "no message in the interchange (UNH...UNT)", 1, "UNB")
        if unz_at:
            unz = segs[unz_at[0] - 1]
            if component(unz, 0) != str(count):
                self.add(
                    "envelope",
                    f"UNZ counts {component(unz, 0)!r} messages, the interchange has {count}",
                    unz_at[0],
                    "UNZ",
                )
            if component(unz, 1) != control:
                self.add(
                    "envelope",
                    f"UNZ reference {component(unz, 1)!r} differs from UNB {control!r}",
                    unz_at[0],
                    "UNZ",
                )
        return self.problems

    def check_message(self, segs: list[tuple[int, Segment]]) -> None:
        (first, unh), (last, unt) = segs[0], segs[-1]
        identifier = unh.elements[1] if len(unh.elements) > 1 else []
        identifier = tuple(identifier if isinstance(identifier, list) else [identifier])[:4]
        name = identifier[0] if identifier else ""
        if unt.tag == "UNT":
            if component(unt, 0) != str(len(segs)):
                self.add(
                    "envelope",
                    f"UNT counts {component(unt, 0)!r} segments, the message has {len(segs)}",
                    last,
                    "UNT",
                )
            if component(unt, 1) != component(unh, 0):
                self.add(
                    "envelope",
                    f"UNT reference {component(unt, 1)!r} differs from UNH {component(unh, 0)!r}",
                    last,
                    "UNT",
                )
        if name not in self.directory.messages:
            self.add(
                "structure",
                f"message type {name!r} is not in the shipped {self.directory.name} directory",
                first,
                "UNH",
            )
            return
        if identifier != self.directory.identifiers[name]:
            expected = ":".join(self.directory.identifiers[name])
            self.add("envelope", f"message identifier {':'.join(identifier)} is not {expected}", first, "UNH")
        self.check_structure(name, segs)


def check_interchange(
    data: bytes | str,
    *,
    directory: Directory | None = None,
    external_codes: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    """Every problem of an interchange against the D96A directory; an empty list means valid.

    `external_codes` adds code lists the directory does not hold (data element id -> codes), e.g.
    {"6411": Rec 20 units, "7065": Rec 21 packages, "8067": Rec 19 modes}; ISO 3166 countries (3207,
    3239) and ISO 4217 currencies (6345) are checked by default."""
    external = dict(default_external_codes())
    external.update(external_codes or {})
    return _Checker(directory or load_directory(), external).check(data)


def assert_valid(data: bytes | str, **kwargs) -> None:
    problems = check_interchange(data, **kwargs)
    if problems:
        raise InvalidInterchange(problems)
