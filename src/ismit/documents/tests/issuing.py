"""Fixtures and helpers of the signature, issuing and verification tests (imported by those modules)."""

from __future__ import annotations

import io
import random

import pytest

from ismit.documents import keys
from ismit.documents.models import IssuedDocument


@pytest.fixture
def media_root(settings, tmp_path):
    """Issued files go to a temporary folder through the default storage."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def tiny_pdf(text: str = "Commercial invoice INV-2026-041") -> bytes:
    """A one-page PDF made with reportlab, as the PDF generators make theirs."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, text)
    page.save()
    return buffer.getvalue()


@pytest.fixture
def msme_signer(cast):
    """The exporter's organisation's signing material (made when the test cast is verified, or now)."""
    return keys.signer_material(keys.ensure_signing_key(cast.msme))


@pytest.fixture
def issued_set(cashew_trade, exporter_actor, media_root):
    """The cashew trade's whole set of documents, issued once."""
    from ismit.documents.services import issue_documents

    return issue_documents(actor=exporter_actor, trade=cashew_trade, language="en")


def content(document: IssuedDocument) -> bytes:
    with document.file.open("rb") as f:
        return f.read()


def signature(document: IssuedDocument) -> bytes | None:
    if not document.signature:
        return None
    with document.signature.open("rb") as f:
        return f.read()


def flipped(data: bytes, position: int, mask: int = 0x01) -> bytes:
    changed = bytearray(data)
    changed[position] ^= mask
    return bytes(changed)


def sample_positions(size: int, count: int, seed: int = 20261102) -> list[int]:
    """Positions spread over the whole file, the first and last bytes included (deterministic)."""
    rng = random.Random(seed)
    return sorted({0, size - 1, size // 2, *rng.sample(range(size), min(count, size))})
