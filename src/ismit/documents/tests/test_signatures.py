"""Signatures: each format signs and verifies (round trip), and one changed byte is caught.

The signing functions are tested on their own, with documents of every format: a PDF made with reportlab,
a CII-like XML message, an EDIFACT interchange and a JSON data set.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from ismit.documents import keys, signing
from ismit.documents.tests.issuing import flipped, sample_positions, tiny_pdf

pytestmark = pytest.mark.django_db

XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
    b"<rsm:ExchangedDocument><ID>INV-2026-041</ID></rsm:ExchangedDocument></rsm:CrossIndustryInvoice>\n"
)
EDIFACT = (
    b"UNA:+.? 'UNB+UNOC:3+ANACARDE+PROVENCE+261102:1200+1'UNH+1+INVOIC:D:96A:UN'"
    b"BGM+380+INV-2026-041+9'MOA+77:100250.00'UNT+4+1'UNZ+1+1'"
)
JSON = json.dumps({"reference": "EXP-2026-00001", "total_amount": "100250.00", "seller": "Côte"}).encode()
DETACHED = [
    ("xml", XML, "cii_invoice.xml", "application/xml"),
    ("edi", EDIFACT, "edifact_invoic.edi", "application/EDIFACT"),
    ("json", JSON, "trade_dataset.json", "application/json"),
]


@pytest.fixture
def cas():
    return keys.ca_certificates()


def _sign(fmt, data, name, media_type, signer):
    return signing.sign(data, fmt=fmt, signer=signer, filename=name, media_type=media_type)


@pytest.mark.parametrize(("fmt", "data", "name", "media_type"), DETACHED, ids=["xml", "edifact", "json"])
def test_detached_formats_sign_beside_the_document_and_verify(fmt, data, name, media_type, msme_signer, cas):
    signed = _sign(fmt, data, name, media_type, msme_signer)

    assert signed.data == data  # the message itself is untouched: still schema-valid
    assert signed.signature and signed.signature_sha256 == signing.sha256_hex(signed.signature)
    check = signing.verify_signature(data, signed.signature, ca_certificates=cas)
    assert check.ok, check.reason
    assert check.certificate_fingerprint == keys.fingerprint(msme_signer.certificate)


@pytest.mark.parametrize(("fmt", "data", "name", "media_type"), DETACHED, ids=["xml", "edifact", "json"])
def test_every_changed_byte_of_a_detached_document_is_caught(fmt, data, name, media_type, msme_signer, cas):
    signed = _sign(fmt, data, name, media_type, msme_signer)
    for position in range(len(data)):  # every byte, not a sample
        check = signing.verify_signature(flipped(data, position), signed.signature, ca_certificates=cas)
        assert check.present and not check.ok, f"byte {position} changed and not caught"


def test_the_xades_signature_refers_to_the_document_by_its_sha256(msme_signer):
    signed = _sign("edi", EDIFACT, "edifact_invoic.edi", "application/EDIFACT", msme_signer)

    root = etree.fromstring(signed.signature)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xades": "http://uri.etsi.org/01903/v1.3.2#"}
    references = root.findall("ds:SignedInfo/ds:Reference", ns)
    external = [r for r in references if not r.get("URI").startswith("#")]
    assert [r.get("URI") for r in external] == ["edifact_invoic.edi"]
    assert external[0].find("ds:Transforms", ns) is None  # the exact bytes, no canonicalisation
    import base64

    assert base64.b64decode(
        external[0].findtext("ds:DigestValue", namespaces=ns)
    ).hex() == signing.sha256_hex(EDIFACT)
    assert root.find(".//xades:SigningCertificateV2", ns) is not None
    assert root.findtext(".//xades:MimeType", namespaces=ns) == "application/EDIFACT"


def test_a_changed_detached_signature_is_caught(msme_signer, cas):
    for fmt, data, name, media_type in DETACHED:
        signed = _sign(fmt, data, name, media_type, msme_signer)
        caught = 0
        positions = sample_positions(len(signed.signature), 150)
        for position in positions:
            check = signing.verify_signature(data, flipped(signed.signature, position), ca_certificates=cas)
            caught += not check.ok
        # Bytes of an XML signature that no signature covers (whitespace, the prefix of an unsigned
        # attribute) may change without effect; the digest of the signature file still differs, which is
        # how verification.py notices. Nearly every change is caught by the signature itself.
        assert caught >= len(positions) * 0.95, (fmt, caught, len(positions))


def test_pdf_carries_a_pades_signature_and_verifies(msme_signer, cas):
    pdf = tiny_pdf()
    signed = signing.sign(
        pdf, fmt="pdf", signer=msme_signer, filename="commercial_invoice.pdf", media_type="application/pdf"
    )

    assert signed.signature is None and signed.data.startswith(b"%PDF") and len(signed.data) > len(pdf)
    assert signed.data.startswith(pdf)  # an incremental update: the original bytes are kept
    assert b"/ETSI.CAdES.detached" in signed.data
    check = signing.verify_signature(signed.data, None, ca_certificates=cas)
    assert check.ok, check.reason
    assert check.signature_sha256 == signed.signature_sha256
    assert check.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Anacarde Abidjan SARL"
    )


def test_one_changed_byte_anywhere_in_a_signed_pdf_is_caught(msme_signer, cas):
    signed = signing.sign(
        tiny_pdf(), fmt="pdf", signer=msme_signer, filename="x.pdf", media_type="application/pdf"
    )
    data = signed.data
    start = data.index(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    # Bytes spread over the whole file, and more of those the signed byte range leaves out (the signature
    # container and its zero padding), where only the container checks can notice a change. (Every byte
    # of such a file was tried once, in development: none went unnoticed.)
    inside = [start + p for p in sample_positions(end - start, 30, seed=7)]
    for position in sorted(set(sample_positions(len(data), 35)) | set(inside)):
        for mask in (0x01, 0x20):  # another digit or letter, and another letter case
            check = signing.verify_signature(flipped(data, position, mask), None, ca_certificates=cas)
            assert not check.ok, f"byte {position} ({data[position : position + 1]!r}) changed and not caught"


def test_padding_and_letter_case_of_the_signature_container_are_checked(msme_signer, cas):
    data = signing.sign(
        tiny_pdf(), fmt="pdf", signer=msme_signer, filename="x.pdf", media_type="application/pdf"
    ).data
    end = data.index(b">", data.index(b"/Contents <"))
    padded = data[: end - 1] + b"1" + data[end:]  # the last padding digit
    assert not signing.verify_signature(padded, None, ca_certificates=cas).ok
    start = data.index(b"/Contents <") + len(b"/Contents <")
    letter = next(i for i in range(start, end) if data[i : i + 1].isalpha())
    lower = data[:letter] + data[letter : letter + 1].lower() + data[letter + 1 :]
    assert not signing.verify_signature(lower, None, ca_certificates=cas).ok


def test_a_signature_by_a_certificate_the_platform_did_not_issue_is_not_trusted(msme_signer, cas):
    from dataclasses import replace

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    # A self-made certificate with the same names as the organisation's: not issued by the platform's CA.
    forged_key = ec.generate_private_key(ec.SECP256R1())
    cert = msme_signer.certificate
    forged = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(forged_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .sign(forged_key, hashes.SHA256())
    )
    impostor = replace(msme_signer, private_key=forged_key, certificate=forged)
    for fmt, data, name, media_type in DETACHED:
        signed = _sign(fmt, data, name, media_type, impostor)
        check = signing.verify_signature(data, signed.signature, ca_certificates=cas)
        assert check.present and not check.ok
    pdf = signing.sign(tiny_pdf(), fmt="pdf", signer=impostor, filename="x.pdf", media_type="application/pdf")
    assert not signing.verify_signature(pdf.data, None, ca_certificates=cas).ok


def test_a_document_without_signature_is_not_signed():
    cas = keys.ca_certificates()
    assert not signing.verify_signature(tiny_pdf(), None, ca_certificates=cas).present
    assert not signing.verify_signature(XML, None, ca_certificates=cas).present
    assert not signing.verify_signature(JSON, b"not a signature", ca_certificates=cas).present
