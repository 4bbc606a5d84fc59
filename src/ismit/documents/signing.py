"""Electronic signatures of issued documents, and their verification.

- PDF: a PAdES baseline signature (pyHanko, ETSI.CAdES.detached) embedded in the file, with the signer's
  certificate and the platform CA's in it.
- XML and EDIFACT: a detached XAdES signature (signxml) in a file beside the message. Its first reference
  points at the message by file name, with no transform: the digest is SHA-256 over the message's exact
  bytes, so the message itself is unchanged (and stays valid against its schema).
- JSON: a detached JWS (jwcrypto, ES256) in compact form with an empty payload part (RFC 7515 appendix F).

All three use the organisation's ECDSA P-256 key (documents/keys.py). Verification trusts a signature when
its certificate was issued by one of the platform's CA certificates; which organisation and whether the key
was revoked is for the caller to look up (documents/verification.py), by the certificate's fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, replace
from io import BytesIO

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, SignatureReference
from signxml.algorithms import SignatureConstructionMethod
from signxml.util import namespaces as XML_NS
from signxml.xades import XAdESDataObjectFormat, XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from ismit.documents.keys import SignerMaterial, fingerprint

DER = serialization.Encoding.DER
PDF_FIELD = "ISMIT-Signature"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signed:
    data: bytes  # the document as issued: for a PDF, with its signature embedded
    signature: bytes | None  # the detached signature, for the other formats
    signature_sha256: str  # of the detached signature, or of the CMS container embedded in the PDF


@dataclass(frozen=True)
class SignatureCheck:
    present: bool  # a signature of ours was found (in the PDF, or given beside the document)
    ok: bool = False  # ... and it is intact, valid and made with a certificate of the platform's CA
    reason: str = ""
    certificate: x509.Certificate | None = None  # the signer's, as carried by the signature
    document_sha256: str = ""  # XAdES: the digest of the document the signature refers to
    signature_sha256: str = ""

    @property
    def certificate_fingerprint(self) -> str:
        return fingerprint(self.certificate) if self.certificate is not None else ""


def sign(content: bytes, *, fmt: str, signer: SignerMaterial, filename: str, media_type: str) -> Signed:
    """Sign one rendered document. `filename` is the name the document travels under (the XAdES reference)."""
    if fmt == "pdf":
        data = _sign_pdf(content, signer)
        return Signed(data=data, signature=None, signature_sha256=_embedded_cms_sha256(data))
    if fmt in ("xml", "edi"):
        signature = _sign_xades(content, signer, filename=filename, media_type=media_type)
    elif fmt == "json":
        signature = _sign_jws(content, signer)
    else:
        raise ValueError(f"no signature method for format {fmt!r}")
    return Signed(data=content, signature=signature, signature_sha256=sha256_hex(signature))


def verify_signature(
    data: bytes | None, signature: bytes | None, *, ca_certificates: list[x509.Certificate]
) -> SignatureCheck:
    """Check the signature in (PDF) or beside (`signature`) a document, whichever it carries."""
    if data is not None and (data.lstrip()[:5] == b"%PDF-" or b"/ByteRange" in data):
        return verify_pdf(data, ca_certificates=ca_certificates)
    if signature:
        head = signature.lstrip()[:1]
        if head == b"<":
            return verify_xades(data, signature, ca_certificates=ca_certificates)
        if head == b"e":
            return verify_jws(data, signature, ca_certificates=ca_certificates)
        return SignatureCheck(present=False, reason="not a signature this platform makes")
    return SignatureCheck(present=False, reason="no signature")


def issued_by_platform(certificate: x509.Certificate, ca_certificates: list[x509.Certificate]) -> bool:
    return any(_issued_by(certificate, ca) for ca in ca_certificates)


def _issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        # Certificates parse lazily: a damaged one fails here, on first reading.
        certificate.verify_directly_issued_by(ca)  # issuer name, then signature
    except Exception:  # ValueError, InvalidSignature
        return False
    return True


# -- PDF: PAdES ----------------------------------------------------------------------------------------


def _sign_pdf(content: bytes, signer: SignerMaterial) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    pdf_signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(signer.certificate.public_bytes(DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            signer.private_key.private_bytes(
                DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(signer.ca_certificate.public_bytes(DER))]
        ),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=PDF_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=signer.name,
        reason="Issued on ISMIT",
    )
    writer = IncrementalPdfFileWriter(BytesIO(content), strict=False)
    return signers.sign_pdf(writer, metadata, signer=pdf_signer).getvalue()


def _embedded_signatures(data: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(data), strict=False).embedded_signatures


def _cms_der(embedded) -> bytes:
    """The CMS container of an embedded signature, without the zeros that pad /Contents."""
    raw = bytes(embedded.pkcs7_content)
    _, _, _, header, content, trailer = asn1_parser.parse(raw)
    return raw[: len(header) + len(content) + len(trailer)]


def _written_as_ours(data: bytes, embedded, der: bytes) -> bool:
    """/Contents holds exactly what we write: upper-case hexadecimal of the container, then zeros. Those
    bytes are the only ones the signed byte range leaves out: without this check, a changed padding digit
    or letter case would go unnoticed by the signature."""
    start, length, resume, _ = (int(n) for n in embedded.byte_range)
    gap = data[start + length : resume]
    padding = (len(gap) - 2) // 2 - len(der)
    return padding >= 0 and gap == b"<" + (der + b"\x00" * padding).hex().upper().encode() + b">"


def _embedded_cms_sha256(data: bytes) -> str:
    return sha256_hex(_cms_der(_embedded_signatures(data)[0]))


_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]{256,})>")


def _salvage(data: bytes) -> SignatureCheck:
    """A PDF too damaged to read: if it still holds one of our signature containers, it was signed and then
    changed. The container names the signer (and leads to the original)."""
    found = _CONTENTS.search(data)
    if found is None:
        return SignatureCheck(present=b"/ByteRange" in data, reason="the PDF cannot be read")
    try:
        raw = bytes.fromhex(found.group(1).decode())
        _, _, _, header, content, trailer = asn1_parser.parse(raw)
        der = raw[: len(header) + len(content) + len(trailer)]
        signed = cms.ContentInfo.load(der)["content"]
        serial = signed["signer_infos"][0]["sid"].chosen["serial_number"].native
        certificate = next(
            x509.load_der_x509_certificate(c.chosen.dump())
            for c in signed["certificates"]
            if c.chosen.serial_number == serial
        )
    except Exception:
        return SignatureCheck(present=True, reason="the PDF cannot be read")
    return SignatureCheck(
        present=True,
        reason="the PDF cannot be read",
        certificate=certificate,
        signature_sha256=sha256_hex(der),
    )


def _check_cms(der: bytes, allowed_certificates: set[bytes]) -> None:
    """The parts of the CMS container that its signature does not cover hold exactly what we put there."""
    info = cms.ContentInfo.load(der, strict=True)
    if info.dump(force=True) != der:
        raise ValueError("the signature container is not in canonical DER")
    if info["content_type"].native != "signed_data":
        raise ValueError("not a signed-data container")
    signed = info["content"]
    sha256 = [{"algorithm": "sha256", "parameters": None}]
    checks = (
        signed["version"].native == "v1",
        signed["digest_algorithms"].native == sha256,
        signed["encap_content_info"].native == {"content_type": "data", "content": None},
        signed["crls"].native is None,
        len(signed["signer_infos"]) == 1,
    )
    if not all(checks):
        raise ValueError("unexpected signed-data structure")
    signer_info = signed["signer_infos"][0]
    if not (
        signer_info["version"].native == "v1"
        and signer_info["digest_algorithm"].native == sha256[0]
        and signer_info["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
        and signer_info["unsigned_attrs"].native is None
    ):
        raise ValueError("unexpected signer information")
    for certificate in signed["certificates"]:
        if certificate.chosen.dump() not in allowed_certificates:
            raise ValueError("a certificate in the signature is not one of ours")


def verify_pdf(data: bytes, *, ca_certificates: list[x509.Certificate]) -> SignatureCheck:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = _embedded_signatures(data)
    except Exception:
        return _salvage(data)
    if not signatures:
        return SignatureCheck(present=False, reason="the PDF carries no signature")
    if len(signatures) != 1:
        return SignatureCheck(present=True, reason="the PDF carries more than one signature")
    embedded = signatures[0]
    try:
        der = _cms_der(embedded)
        certificate = x509.load_der_x509_certificate(embedded.signer_cert.dump())
    except Exception as exc:
        return SignatureCheck(present=True, reason=f"unreadable signature: {exc}"[:300])
    check = SignatureCheck(present=True, certificate=certificate, signature_sha256=sha256_hex(der))
    if not _written_as_ours(data, embedded, der):
        return replace(check, reason="the signature container was changed")
    if not issued_by_platform(certificate, ca_certificates):
        return replace(check, reason="not signed with a certificate of this platform")
    try:
        _check_cms(der, {certificate.public_bytes(DER), *(ca.public_bytes(DER) for ca in ca_certificates)})
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(ca.public_bytes(DER)) for ca in ca_certificates]
        )
        status = validate_pdf_signature(embedded, context, skip_diff=True)
    except Exception as exc:  # any parsing or validation failure of a present signature: altered
        return replace(check, reason=f"the signature does not hold: {exc}"[:300])
    if not (status.intact and status.valid):
        return replace(check, reason="the document was changed after it was signed")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return replace(check, reason="the signature does not cover the whole file")
    return replace(check, ok=True, document_sha256=sha256_hex(data))


# -- XML and EDIFACT: detached XAdES ---------------------------------------------------------------


class _DetachedXAdESSigner(XAdESSigner):
    """XAdES over external bytes: one reference by file name, digested as an octet stream (no transform)."""

    def __init__(self, content: bytes, uri: str, **kwargs):
        super().__init__(method=SignatureConstructionMethod.detached, **kwargs)
        self._content, self._uri = content, uri

    def _unpack(self, data, references):
        sig_root = etree.Element(self._ds_tag("Signature"), nsmap=self.namespaces)
        return sig_root, sig_root, [self._content], [SignatureReference(URI=self._uri)]

    def _build_sig(self, sig_root, references, c14n_inputs, inclusive_ns_prefixes, **kwargs):
        signed_info = etree.SubElement(sig_root, self._ds_tag("SignedInfo"), nsmap=self.namespaces)
        etree.SubElement(signed_info, self._ds_tag("CanonicalizationMethod"), Algorithm=self.c14n_alg.value)
        etree.SubElement(signed_info, self._ds_tag("SignatureMethod"), Algorithm=self.sign_alg.value)
        reference = etree.SubElement(signed_info, self._ds_tag("Reference"), URI=self._uri)
        etree.SubElement(reference, self._ds_tag("DigestMethod"), Algorithm=self.digest_alg.value)
        digest = etree.SubElement(reference, self._ds_tag("DigestValue"))
        digest.text = base64.b64encode(self._get_digest(self._content, self.digest_alg)).decode()
        return signed_info, etree.SubElement(sig_root, self._ds_tag("SignatureValue"))


def _sign_xades(content: bytes, signer: SignerMaterial, *, filename: str, media_type: str) -> bytes:
    xades = _DetachedXAdESSigner(
        content,
        filename,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        data_object_format=XAdESDataObjectFormat(Description=filename, MimeType=media_type),
    )
    # Only the signer's certificate: XAdES's SigningCertificateV2 lists the certificates of KeyInfo. No
    # KeyValue beside it (signxml's XAdES default): the certificate carries the key, and a second copy is
    # one a verifier could be led to trust instead.
    root = xades.sign(None, key=signer.private_key, cert=[signer.certificate], always_add_key_value=False)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


def _external_reference(root) -> tuple[str, str]:
    """(URI, SHA-256 hex) of the one reference to a document outside the signature."""
    found = [
        ref
        for ref in root.findall("ds:SignedInfo/ds:Reference", namespaces=XML_NS)
        if not (ref.get("URI") or "#").startswith("#")
    ]
    if len(found) != 1:
        raise ValueError("the signature must refer to exactly one document")
    method = found[0].find("ds:DigestMethod", namespaces=XML_NS)
    if method is None or method.get("Algorithm") != DigestAlgorithm.SHA256.value:
        raise ValueError("the document's digest is not SHA-256")
    value = found[0].findtext("ds:DigestValue", namespaces=XML_NS) or ""
    return found[0].get("URI"), base64.b64decode(value, validate=True).hex()


def verify_xades(
    data: bytes | None, signature: bytes, *, ca_certificates: list[x509.Certificate]
) -> SignatureCheck:
    signature_sha256 = sha256_hex(signature)
    try:
        root = etree.fromstring(signature, parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return SignatureCheck(present=True, reason="the signature file is not well-formed XML")
    if root.tag != f"{{{XML_NS.ds}}}Signature":
        return SignatureCheck(present=False, reason="not an XML signature")
    certificate = None
    try:
        text = root.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=XML_NS) or ""
        certificate = x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
        uri, document_sha256 = _external_reference(root)
    except Exception as exc:
        return SignatureCheck(
            present=True, reason=f"unreadable signature: {exc}"[:300], certificate=certificate
        )
    check = SignatureCheck(
        present=True,
        certificate=certificate,
        document_sha256=document_sha256,
        signature_sha256=signature_sha256,
    )
    if data is None:
        return replace(check, reason="the document was not given")
    if not issued_by_platform(certificate, ca_certificates):
        return replace(check, reason="not signed with a certificate of this platform")
    target = root.find("ds:Object/xades:QualifyingProperties", namespaces=XML_NS)
    if target is None or target.get("Target") != f"#{root.get('Id')}":
        return replace(check, reason="the signed properties do not belong to this signature")
    try:
        XAdESVerifier().verify(
            signature,
            x509_cert=certificate,
            uri_resolver=lambda requested: data if requested == uri else None,
            parser=_SAFE_XML,
            expect_config=XAdESSignatureConfiguration(
                signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
                digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
            ),
        )
    except Exception as exc:  # InvalidDigest, InvalidSignature, InvalidInput, schema errors
        return replace(check, reason=f"the signature does not hold: {exc}"[:300])
    return replace(check, ok=True)


# -- JSON: detached JWS ----------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign_jws(content: bytes, signer: SignerMaterial) -> bytes:
    header = {
        "alg": "ES256",
        "kid": fingerprint(signer.certificate),
        "x5c": [
            base64.b64encode(c.public_bytes(DER)).decode()
            for c in (signer.certificate, signer.ca_certificate)
        ],
        "x5t#S256": _b64url(hashlib.sha256(signer.certificate.public_bytes(DER)).digest()),
    }
    token = jws.JWS(content)
    token.add_signature(jwk.JWK.from_pyca(signer.private_key), None, json_encode(header))
    protected, _payload, value = token.serialize(compact=True).split(".")
    return f"{protected}..{value}".encode()  # RFC 7515 appendix F: the payload travels on its own


def verify_jws(
    data: bytes | None, signature: bytes, *, ca_certificates: list[x509.Certificate]
) -> SignatureCheck:
    signature_sha256 = sha256_hex(signature)
    try:
        text = signature.decode("ascii").strip()
        protected, payload, _value = text.split(".")
        if payload:
            raise ValueError("the payload is not detached")
        header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
        certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    except Exception as exc:
        return SignatureCheck(present=True, reason=f"unreadable signature: {exc}"[:300])
    check = SignatureCheck(present=True, certificate=certificate, signature_sha256=signature_sha256)
    if data is None:
        return replace(check, reason="the document was not given")
    if header.get("alg") != "ES256" or not issued_by_platform(certificate, ca_certificates):
        return replace(check, reason="not signed with a certificate of this platform")
    try:
        token = jws.JWS()
        token.deserialize(text)
        token.verify(jwk.JWK.from_pyca(certificate.public_key()), alg="ES256", detached_payload=data)
    except Exception as exc:  # InvalidJWSSignature
        return replace(check, reason=f"the signature does not hold: {exc}"[:300])
    return replace(check, ok=True, document_sha256=sha256_hex(data))
