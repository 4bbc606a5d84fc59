"""JSON API of the documents app (mounted at /api/v1/ by ismit/config/api.py; paths are absolute).

A trade's documents are listed and issued under the trade; one document's bytes and detached signature are
read by its id. `POST /verify` needs no authentication: anyone holding a document may check it.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from ismit.accounts.api import actor_of
from ismit.documents import queries, services, verification
from ismit.documents.forms import MAX_VERIFY_BYTES
from ismit.documents.models import IssuedDocument
from ismit.lib.api import PagePagination

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: int
    trade_id: int
    kind: str
    label: str
    format: str = Field(description="pdf, xml, edi or json")
    media_type: str
    version: int
    status: str = Field(description="issued, superseded or revoked")
    language: str
    sha256: str = Field(description="SHA-256 of the document's bytes as issued (what /verify looks up)")
    size: int
    issued_at: dt.datetime
    issued_by: str | None
    supersedes: int | None = Field(description="id of the version this one replaces")
    signer_certificate: str = Field(description="SHA-256 fingerprint of the signing certificate")
    content_url: str
    signature_url: str | None = Field(description="the detached signature (XAdES or JWS); none for a PDF")

    @staticmethod
    def resolve_label(obj: IssuedDocument) -> str:
        return obj.label

    @staticmethod
    def resolve_issued_by(obj: IssuedDocument) -> str | None:
        return obj.issued_by.email if obj.issued_by else None

    @staticmethod
    def resolve_supersedes(obj: IssuedDocument) -> int | None:
        return obj.supersedes_id

    @staticmethod
    def resolve_signer_certificate(obj: IssuedDocument) -> str:
        return obj.signer_key.fingerprint

    @staticmethod
    def resolve_content_url(obj: IssuedDocument) -> str:
        return reverse("api:document_content", kwargs={"document_id": obj.pk})

    @staticmethod
    def resolve_signature_url(obj: IssuedDocument) -> str | None:
        return reverse("api:document_signature", kwargs={"document_id": obj.pk}) if obj.signature else None


class IssueIn(Schema):
    kinds: list[str] | None = Field(None, description="Kinds to issue (e.g. commercial_invoice); none: all")
    language: str = Field("en", max_length=8, description="en or fr")


class VerificationOut(Schema):
    status: str = Field(description="valid, superseded (still valid), revoked, altered or unknown")
    label: str
    explanation: str
    sha256: str
    issuer: str = Field(description="The issuing organisation, as its certificate names it")
    issued_at: dt.datetime | None
    reference: str = Field(description="The trade's reference")
    kind: str
    format: str
    version: int | None
    latest_version: int | None = Field(description="When superseded: the version that replaces it")
    signature_checked: bool = Field(description="A signature was verified, not only the hash looked up")


def _verification_out(result: verification.VerificationResult) -> VerificationOut:
    return VerificationOut(
        status=result.status,
        label=result.label,
        explanation=result.explanation,
        sha256=result.sha256,
        issuer=result.issuer,
        issued_at=result.issued_at,
        reference=result.reference,
        kind=result.kind,
        format=result.format,
        version=result.version,
        latest_version=result.latest_version,
        signature_checked=result.signature_checked,
    )


@router.get("/trades/{int:trade_id}/documents", response=list[DocumentOut])
@paginate(PagePagination)
def list_documents(request, trade_id: int):
    """Every version of every document of the trade, by kind and format, newest version first."""
    actor = actor_of(request)
    trade = queries.get_trade_header_for(actor, trade_id)
    return queries.documents_of_trade(actor, trade.pk)


@router.post("/trades/{int:trade_id}/documents", response={201: list[DocumentOut]})
def issue_documents(request, trade_id: int, payload: IssueIn | None = None):
    """Generate, sign and store the trade's documents (each a new version). Declarations are left out of
    the whole set while the compliance check reports errors; asked for by name, they answer 422."""
    actor = actor_of(request)
    trade = queries.get_trade_header_for(actor, trade_id)
    payload = payload or IssueIn()
    issued = services.issue_documents(
        actor=actor, trade=trade, kinds=payload.kinds, language=payload.language
    )
    return issued


def _file_response(field, *, filename: str, media_type: str) -> FileResponse:
    try:
        stream = field.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=media_type)


@router.get("/documents/{int:document_id}/content", url_name="document_content")
def document_content(request, document_id: int):
    """The document's bytes as issued (a PDF with its signature inside)."""
    document = queries.get_document_for(actor_of(request), document_id)
    return _file_response(document.file, filename=document.filename, media_type=document.media_type)


@router.get("/documents/{int:document_id}/signature", url_name="document_signature")
def document_signature(request, document_id: int):
    """The detached signature of an XML, EDIFACT or JSON document (404 for a PDF: its signature is inside)."""
    document = queries.get_document_for(actor_of(request), document_id)
    if not document.signature:
        raise Http404
    return _file_response(
        document.signature, filename=document.signature_filename, media_type=document.signature_media_type
    )


VERIFY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the document"},
                        "signature": {
                            "type": "string",
                            "format": "binary",
                            "description": "its detached signature (.xades.xml or .jws), if it has one",
                        },
                        "sha256": {"type": "string", "description": "instead of the file"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}},
                    "required": ["sha256"],
                }
            },
        },
    }
}


def _read_upload(request: HttpRequest, name: str) -> bytes | None:
    upload = request.FILES.get(name)
    if upload is None:
        return None
    if upload.size > MAX_VERIFY_BYTES:
        raise ValidationError({name: [_("The file is larger than 25 MB.")]})
    return upload.read()


@router.post("/verify", auth=None, response=VerificationOut, openapi_extra=VERIFY_BODY)
def verify_document(request):
    """Check a document (multipart `file`, with its `signature` file if it came with one) or only its SHA-256
    (JSON `{"sha256": "…"}`): who issued it, when, for which trade reference, and whether it is valid,
    superseded, revoked, altered or unknown. No authentication."""
    data = signature = None
    if (request.content_type or "").startswith("multipart/"):
        data, signature = _read_upload(request, "file"), _read_upload(request, "signature")
        sha256 = request.POST.get("sha256", "")
    else:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError(
                {"__all__": [_('Send a file as multipart/form-data, or JSON {"sha256": "…"}.')]}
            )
        sha256 = body.get("sha256", "") if isinstance(body, dict) else ""
    sha256 = "".join(str(sha256 or "").split()).lower()
    if data is None and signature is None:
        if not sha256:
            raise ValidationError(
                {"__all__": [_("Send the document as `file`, or its SHA-256 as `sha256`.")]}
            )
        if not verification.SHA256.match(sha256):
            raise ValidationError({"sha256": [_("A SHA-256 is 64 hexadecimal characters.")]})
    result = verification.verify(
        data=data, sha256=sha256 or None, signature=signature, actor=request.user, channel="api"
    )
    return _verification_out(result)
