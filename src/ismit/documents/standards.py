"""Official standards files the platform reads but does not ship, from a folder the operator gives.

Some official artefacts come under copyleft licences (the CII D16B schemas as packaged for EN 16931,
EUPL-1.2; the UN/EDIFACT directories in XML, LGPL-3.0), so they are not part of the product. An operator
who wants generated documents checked against them points ``ISMIT_STANDARDS_DIR`` at a folder laid out
as below (the official packages, unpacked); without it the documents are still generated, and the
checks that need these files say they are not configured.

    cii-d16b/schema/CII/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd
    edifact/D96A/{messages/*.xml, segments.xml, codes.xml, service_codes_v3.xml}
"""

from __future__ import annotations

import os
from pathlib import Path

CII_XSD = ("cii-d16b", "schema", "CII", "uncefact", "data", "standard", "CrossIndustryInvoice_100pD16B.xsd")
EDIFACT_D96A = ("edifact", "D96A")


class StandardsUnavailable(LookupError):
    """The standards folder is not configured, or lacks the file asked for."""


def standards_dir() -> Path:
    value = ""
    try:
        from django.conf import settings

        if settings.configured:
            value = getattr(settings, "ISMIT_STANDARDS_DIR", "")
    except ImportError:  # pragma: no cover - used without Django by the single window simulator
        pass
    value = value or os.environ.get("ISMIT_STANDARDS_DIR", "")
    if not value:
        raise StandardsUnavailable(
            "ISMIT_STANDARDS_DIR is not set: official standards files are not configured"
        )
    return Path(value)


def standard_path(*parts: str) -> Path:
    path = standards_dir().joinpath(*parts)
    if not path.exists():
        raise StandardsUnavailable(f"{path} does not exist (ISMIT_STANDARDS_DIR)")
    return path
