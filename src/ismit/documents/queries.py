"""Reads of the documents app, shared by pages, the API and the commands."""

from __future__ import annotations

from django.db.models import QuerySet

from ismit.accounts.actors import Actor
from ismit.documents.models import DocumentStatus, IssuedDocument
from ismit.lib.scoping import VIEW
from ismit.trades.models import Trade


def documents_of_trade(actor: Actor, trade_pk: int, action: str = VIEW) -> QuerySet[IssuedDocument]:
    """Every version of every document of a trade the actor may see: by kind and format, newest first."""
    return (
        IssuedDocument.objects.visible_to(actor, action)
        .filter(trade_id=trade_pk)
        .select_related("issued_by", "signer_key")
        .order_by("kind", "format", "-version")
    )


def get_document_for(
    actor: Actor, pk: int, *, trade_pk: int | None = None, action: str = VIEW
) -> IssuedDocument:
    """One issued document, or Http404 if it does not exist or the actor may not see it."""
    lookup = {"pk": pk} if trade_pk is None else {"pk": pk, "trade_id": trade_pk}
    return IssuedDocument.objects.select_related("trade", "signer_key").get_for(actor, action, **lookup)


def current_documents(trade: Trade) -> list[IssuedDocument]:
    """The latest version of each kind and format, unless revoked (for the trade's owner: not scoped)."""
    latest: dict[tuple[str, str], IssuedDocument] = {}
    for document in IssuedDocument.objects.filter(trade=trade).order_by("kind", "format", "-version"):
        latest.setdefault((document.kind, document.format), document)
    return [d for d in latest.values() if d.status == DocumentStatus.ISSUED]


def read_content(document: IssuedDocument) -> bytes:
    with document.file.open("rb") as f:
        return f.read()


def read_signature(document: IssuedDocument) -> bytes | None:
    if not document.signature:
        return None
    with document.signature.open("rb") as f:
        return f.read()


def get_trade_header_for(actor: Actor, pk: int, action: str = VIEW) -> Trade:
    """A trade with its organisation only (no goods, no steps): what the documents' pages and API need."""
    return Trade.objects.select_related("organisation").get_for(actor, action, pk=pk)
