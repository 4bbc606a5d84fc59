"""What every document generator is: a kind, a format, the fields it reads, and a pure render function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ismit.documents.data import DocumentData


class Generator(Protocol):
    kind: str  # "commercial_invoice", "packing_list", "coo_application", "export_declaration",
    # "cii_invoice", "wco_declaration", "edifact_invoic", "edifact_cusdec", "trade_dataset"
    format: str  # "pdf", "xml", "edi" or "json": also the file extension
    media_type: str
    is_declaration: bool  # declarations are refused while the compliance check reports errors
    reads: tuple[str, ...]  # DocumentData field paths written into the document (see documents/data.py)

    def render(self, data: DocumentData, *, language: str) -> bytes:
        """The document's bytes, unsigned. Pure: same data and language, same bytes (bar timestamps)."""
        ...


@dataclass(frozen=True)
class GeneratorInfo:
    kind: str
    format: str
    media_type: str
    is_declaration: bool
    reads: tuple[str, ...]
