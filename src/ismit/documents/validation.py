"""XML Schema validation of generated documents, against schemas shipped or configured (standards.py).

Each schema has a short name ("cii-d16b", ...). A module that ships another schema registers it once at
import time with `register_schema(name, path)`; `validate_xml(xml, name)` then checks a document against
it. A schema is compiled on first use and kept for the life of the process.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from lxml import etree

from ismit.documents import standards

# Schemas found in the operator's standards folder (not shipped: see standards.py).
_CONFIGURED: dict[str, tuple[str, ...]] = {
    # UN/CEFACT Cross Industry Invoice D16B
    "cii-d16b": standards.CII_XSD,
}
_SCHEMA_FILES: dict[str, Path] = {}


def register_schema(name: str, path: Path | str) -> None:
    """Makes `name` usable with `validate_xml`; `path` is the schema's entry-point XSD file."""
    path = Path(path)
    known = _SCHEMA_FILES.get(name)
    if known is not None and known != path:
        raise ValueError(f"schema {name!r} is already registered as {known}")
    _SCHEMA_FILES[name] = path


def schema_path(name: str) -> Path:
    """The entry-point XSD of a schema; standards.StandardsUnavailable if it is not configured."""
    if name in _SCHEMA_FILES:
        return _SCHEMA_FILES[name]
    if name in _CONFIGURED:
        return standards.standard_path(*_CONFIGURED[name])
    raise LookupError(f"no XML schema registered as {name!r}")


def _parser() -> etree.XMLParser:
    # No DTDs, no entity expansion, no network: documents and schemas are data, never instructions.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@functools.cache
def _compiled(name: str) -> tuple[etree.XMLSchema, threading.Lock]:
    schema = etree.XMLSchema(etree.parse(str(schema_path(name)), _parser()))
    # An XMLSchema keeps its error log on itself: one validation at a time per schema.
    return schema, threading.Lock()


def validate_xml(xml_bytes: bytes, schema_name: str) -> list[str]:
    """The document's problems against the named schema, one message each; empty when it is valid."""
    schema, lock = _compiled(schema_name)
    try:
        document = etree.fromstring(xml_bytes, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    with lock:
        if schema.validate(document):
            return []
        return [f"line {error.line}: {error.message}" for error in schema.error_log]
