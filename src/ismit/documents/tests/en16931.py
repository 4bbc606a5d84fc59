"""Test-side checks of CII invoices against the official artefacts in ../shared/refdata/cii-d16b/.

These deliberately use other code than the product: the official XSD read with `xmlschema` (the product
uses lxml on its own copy), and the EN 16931 business rules as the published compiled Schematron
(XSLT 2.0) run by Saxon. Each is compiled once per test process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

REFDATA = Path(__file__).resolve().parents[5] / "shared" / "refdata" / "cii-d16b"
OFFICIAL_XSD = (
    REFDATA / "schema" / "CII" / "uncefact" / "data" / "standard" / "CrossIndustryInvoice_100pD16B.xsd"
)
EN16931_XSLT = REFDATA / "en16931-xslt" / "EN16931-CII-validation.xslt"
SVRL = "http://purl.oclc.org/dsdl/svrl"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"official CII artefact not found at {path}: the tests need ../shared beside the checkout"
        )
    return path


@functools.cache
def _official_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(_require(OFFICIAL_XSD)))


def official_xsd_errors(xml: bytes) -> list[str]:
    """Problems of the document against the official D16B XSD (xmlschema); empty when valid."""
    return [f"{e.path}: {e.reason}" for e in _official_schema().iter_errors(xml.decode("utf-8"))]


@dataclass(frozen=True)
class Assertion:
    id: str
    flag: str  # "fatal" or "warning"
    text: str
    location: str


@functools.cache
def _en16931_stylesheet():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(_require(EN16931_XSLT))
    )
    return processor, executable


def en16931_failures(xml: bytes) -> list[Assertion]:
    """Every failed assertion of the EN 16931 CII business rules (SVRL failed-assert), fatal or not."""
    processor, executable = _en16931_stylesheet()
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    svrl = executable.transform_to_string(xdm_node=document)
    report = etree.fromstring(svrl.encode("utf-8"))
    if report.tag != f"{{{SVRL}}}schematron-output":
        raise AssertionError(f"the EN 16931 stylesheet did not produce an SVRL report: {svrl[:200]}")
    return [
        Assertion(
            id=failed.get("id", ""),
            flag=failed.get("flag", ""),
            text=" ".join(failed.findtext(f"{{{SVRL}}}text", "").split()),
            location=failed.get("location", ""),
        )
        for failed in report.iter(f"{{{SVRL}}}failed-assert")
    ]


def fatal_failures(xml: bytes) -> list[Assertion]:
    return [a for a in en16931_failures(xml) if a.flag == "fatal"]
