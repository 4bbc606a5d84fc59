"""End to end: an exporter issues the signed documents of its trade; anyone holding a copy checks it on the
public verification page, with no account — the copy as issued is valid, a copy with one byte changed is
altered.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser


def _verify(browser, base: str, name: str, data: bytes, signature: tuple[str, bytes] | None = None):
    """A visitor with no account uploads a file on /verify/ and reads the answer."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/verify/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.set_input_files(
        "input[name=document]", {"name": name, "mimeType": "application/pdf", "buffer": data}
    )
    if signature is not None:
        page.set_input_files(
            "input[name=signature]",
            {"name": signature[0], "mimeType": "application/xml", "buffer": signature[1]},
        )
    page.locator("#verify-form button[type=submit]").click()
    result = page.locator("section.verification-result")
    expect(result).to_be_visible()
    return context, page, result


def test_a_document_issued_on_the_platform_is_verified_and_a_changed_copy_is_caught(
    live_platform, page, browser
):
    log_in(page, live_platform, "msme1@demo.ismit.example", "ismit-demo")
    page.goto(f"{live_platform}/trades/")
    page.get_by_role("link", name="DEMO-EXP-0001").first.click()
    expect(page).to_have_url(re.compile(r"/trades/\d+/$"))
    page.goto(page.url + "documents/")

    page.locator("#issue-form button[type=submit]").click()
    invoice = page.locator('tbody[data-kind="commercial_invoice"] tr[data-version="1"][data-status="issued"]')
    expect(invoice).to_be_visible()
    pdf_url = invoice.locator("a").first.get_attribute("href")
    pdf = page.request.get(f"{live_platform}{pdf_url}").body()
    assert pdf.startswith(b"%PDF")
    edifact = page.locator('tbody[data-kind="edifact_invoic"] tr[data-version="1"]')
    edi_url, signature_url = (edifact.locator("a").nth(i).get_attribute("href") for i in (0, 1))
    edi = page.request.get(f"{live_platform}{edi_url}").body()
    xades = page.request.get(f"{live_platform}{signature_url}").body()

    # The copy as issued: valid, with who issued it and for which trade.
    context, visitor, result = _verify(browser, live_platform, "invoice.pdf", pdf)
    expect(result).to_have_attribute("data-status", "valid")
    expect(visitor.locator("#verification-status")).to_have_text("Valid")
    expect(result).to_contain_text("Anacarde Abidjan SARL")
    expect(result).to_contain_text("DEMO-EXP-0001")
    context.close()

    # One byte changed in the middle of the PDF: altered.
    tampered = bytearray(pdf)
    tampered[len(pdf) // 2] ^= 0x01
    context, visitor, result = _verify(browser, live_platform, "invoice.pdf", bytes(tampered))
    expect(result).to_have_attribute("data-status", "altered")
    expect(visitor.locator("#verification-status")).to_have_text("Altered")
    expect(result).to_contain_text("Anacarde Abidjan SARL")
    context.close()

    # An EDIFACT message with its detached signature file; then with one byte of the message changed.
    context, _visitor, result = _verify(
        browser, live_platform, "invoic.edi", edi, ("invoic.edi.xades.xml", xades)
    )
    expect(result).to_have_attribute("data-status", "valid")
    context.close()
    changed = edi.replace(b"UNH+", b"UNH-", 1)
    context, _visitor, result = _verify(
        browser, live_platform, "invoic.edi", changed, ("invoic.edi.xades.xml", xades)
    )
    expect(result).to_have_attribute("data-status", "altered")
    context.close()


def test_the_ca_certificate_is_public(live_platform, browser):
    context = browser.new_context()
    response = context.request.get(f"{live_platform}/verify/ca.pem")
    assert response.status == 200 and response.text().startswith("-----BEGIN CERTIFICATE-----")
    context.close()
