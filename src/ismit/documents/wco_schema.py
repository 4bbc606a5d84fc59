"""Validation of WCO Data Model declarations against the schema the UK customs declarations API publishes.

The published schema files are not shipped: they are read from the operator's standards folder
(`ISMIT_STANDARDS_DIR`, see standards.py), as `wco-declaration-uk/schemas/`. The entry point is the
API's own `customs/wrapper_submit.xsd`: the
`md:MetaData` envelope (WCO DocumentMetaData DMS 2) holding one `Declaration` (WCO DEC DMS 2), which is
exactly the body the API accepts. Each schema is compiled once per process, on first use.
"""

from __future__ import annotations

import functools
import threading

from lxml import etree

from ismit.documents import standards

DECLARATION_XSD = ("wco-declaration-uk", "schemas", "customs", "wrapper_submit.xsd")

MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"


def _parser() -> etree.XMLParser:
    # No DTDs, no entity expansion, no network: a declaration is data, never instructions.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@functools.cache
def _compiled() -> tuple[etree.XMLSchema, threading.Lock]:
    path = standards.standard_path(*DECLARATION_XSD)
    schema = etree.XMLSchema(etree.parse(str(path), _parser()))
    # An XMLSchema keeps its error log on itself: one validation at a time.
    return schema, threading.Lock()


def validate_wco(xml_bytes: bytes) -> list[str]:
    """The declaration's problems against the published schema, one message each; empty when valid.

    Besides the schema, the root must be the `md:MetaData` envelope with a `Declaration` in it: the
    schema alone would also accept a bare `Declaration`, which the API does not take.
    """
    try:
        document = etree.fromstring(xml_bytes, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if document.tag != f"{{{MD_NS}}}MetaData":
        return [f"line {document.sourceline}: the root element must be {{{MD_NS}}}MetaData"]
    problems = []
    if document.find(f"{{{DEC_NS}}}Declaration") is None:
        problems.append(f"line {document.sourceline}: MetaData holds no {{{DEC_NS}}}Declaration")
    schema, lock = _compiled()
    with lock:
        if not schema.validate(document):
            problems += [f"line {error.line}: {error.message}" for error in schema.error_log]
    return problems
