"""Test-side access to the UK customs declarations API's published material in ../shared/refdata.

The schema is read from ../shared (not from the product's copy) and checked with `xmlschema`, a different
validator from the product's (lxml / libxml2), so the tests do not grade the product with its own tool.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).resolve().parents[5] / "shared" / "refdata" / "wco-declaration-uk"
SCHEMAS = PUBLISHED / "schemas"
EXAMPLES = PUBLISHED / "examples"
# The API's submission body: md:MetaData (DocumentMetaData DMS 2) around a Declaration (WCO DEC DMS 2).
SUBMISSION_XSD = SCHEMAS / "customs" / "wrapper_submit.xsd"
DECLARATION_XSD = SCHEMAS / "wco" / "declaration" / "WCO_DEC_2_DMS.xsd"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"published WCO material not found at {path}: the tests need ../shared beside the checkout"
        )
    return path


@functools.cache
def published_schema():
    import xmlschema

    return xmlschema.XMLSchema(str(_require(SUBMISSION_XSD)))


def published_errors(xml: bytes) -> list[str]:
    """xmlschema's complaints about a document against the published schema (empty when valid)."""
    from lxml import etree

    try:
        document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    return [str(error.reason or error) for error in published_schema().iter_errors(document)]


def export_scenarios() -> list[Path]:
    """Every XML file of the annotated export scenarios (TT_EX*) and the export sample, sorted."""
    root = _require(EXAMPLES)
    folders = sorted([*root.glob("TT_EX*"), *root.glob("Export_Sample*")])
    return sorted(path for folder in folders for path in folder.rglob("*.xml"))
