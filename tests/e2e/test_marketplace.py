"""End to end: an MSME requests carriage from its trade, a freight forwarder (another browser) submits a
firm quote, the MSME compares and accepts it, the forwarder sees the contract with only the data its
service needs and records a milestone, and the MSME sees the booked step on its checklist.

The forwarder's rate card (a seeded catalogue entry) is written into the platform's database before the
browsers start; everything else goes through the pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser import log_in
from tests.e2e.conftest import ISMIT

pytestmark = pytest.mark.browser

PASSWORD = "ismit-demo"
MSME = "msme1@demo.ismit.example"
FORWARDER = "forwarder@demo.ismit.example"

CATALOGUE = """
import datetime as dt
from decimal import Decimal
from ismit.accounts.models import Organisation
from ismit.marketplace.models import Lane, Provider, RateLine, ServiceOffering
org = Organisation.objects.get(legal_name="Sahel Freight Forwarding")
Provider.objects.get_or_create(organisation=org)
if not ServiceOffering.objects.filter(organisation=org, name="E2E sea Abidjan-France").exists():
    today = dt.date.today()
    offering = ServiceOffering.objects.create(
        organisation=org, name="E2E sea Abidjan-France", service_type="carriage", modes=["1"],
        currency_id="EUR", transit_days=21, valid_from=today - dt.timedelta(days=1),
        valid_until=today + dt.timedelta(days=200),
    )
    Lane.objects.create(offering=offering, origin_country="CI", destination_country="FR")
    for code, basis, amount, surcharge in (("FRT", "kg", "0.45", False), ("BAF", "shipment", "35", True)):
        RateLine.objects.create(
            offering=offering, code=code, description=code, basis=basis, amount=Decimal(amount),
            is_surcharge=surcharge,
        )
"""


@pytest.fixture
def catalogue(live_platform, server_database):
    env = {**os.environ, "DATABASE_URL": server_database}
    subprocess.run([ISMIT, "shell", "-c", CATALOGUE], env=env, check=True, capture_output=True)
    return live_platform


def _log_in(browser, base: str, email: str):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, base, email, PASSWORD)
    return context, page


def test_rfq_to_contract_between_an_msme_and_a_forwarder(catalogue, browser):
    base = catalogue
    msme_context, msme = _log_in(browser, base, MSME)
    forwarder_context, forwarder = _log_in(browser, base, FORWARDER)
    try:
        # The MSME opens its trade and asks for carriage door to door.
        msme.goto(f"{base}/trades/")
        msme.get_by_role("link", name="DEMO-EXP-0001").first.click()
        expect(msme).to_have_url(re.compile(r"/trades/\d+/$"))
        trade_url = msme.url
        msme.locator(f'nav.tabs a[href$="{trade_url.removeprefix(base)}services/"]').click()
        form = msme.locator("#rfq-form")
        expect(form.locator('input[name=services][value="carriage"]')).to_be_checked()
        form.locator("input[name=volume_m3]").fill("31")
        form.locator("button[type=submit]").click()
        expect(msme).to_have_url(re.compile(r"/marketplace/rfqs/\d+/$"))
        rfq_url = msme.url
        # The indicative quote from the forwarder's rate card is there at once.
        expect(
            msme.locator('tr[data-kind="indicative"][data-provider="Sahel Freight Forwarding"]')
        ).to_be_visible()

        # The forwarder finds the request in its inbox and submits a firm quote, all-in.
        forwarder.goto(f"{base}/marketplace/inbox/")
        forwarder.locator("table.inbox a").first.click()
        expect(forwarder).to_have_url(rfq_url)
        expect(forwarder.locator("dl.cargo")).to_contain_text("CIABJ")
        expect(forwarder.locator("body")).not_to_contain_text("DEMO-EXP-0001")
        quote_form = forwarder.locator("#quote-carriage form.quote-form")
        codes = quote_form.locator("input[name=line_code]")
        descriptions = quote_form.locator("input[name=line_description]")
        amounts = quote_form.locator("input[name=line_amount]")
        for n, (code, text, amount) in enumerate(
            [("FRT", "Ocean freight", "2100"), ("BAF", "Bunker surcharge", "180"), ("THC", "Terminal", "240")]
        ):
            codes.nth(n).fill(code)
            descriptions.nth(n).fill(text)
            amounts.nth(n).fill(amount)
        valid = (dt.date.today() + dt.timedelta(days=20)).isoformat()
        quote_form.locator("input[name=valid_until]").fill(valid)
        quote_form.locator("input[name=transit_days]").fill("18")
        quote_form.locator("button[type=submit]").click()
        expect(forwarder.locator('tr[data-kind="firm"]')).to_be_visible()

        # The MSME compares (sorted by transit time) and accepts the firm quote.
        msme.goto(rfq_url)
        msme.locator('a[data-sort="transit"]').click()
        expect(msme.locator('a[data-sort="transit"]')).to_have_attribute("aria-current", "true")
        firm = msme.locator('tr[data-kind="firm"]')
        expect(firm).to_have_attribute("data-total", "2520.00")
        firm.locator("button[type=submit]").click()
        expect(msme).to_have_url(re.compile(r"/marketplace/contracts/\d+/$"))
        contract_url = msme.url

        # The forwarder sees the contract with the scoped data only, and records the pick-up.
        forwarder.goto(f"{base}/marketplace/contracts/")
        forwarder.locator("table.contracts a").first.click()
        expect(forwarder).to_have_url(contract_url)
        shared = forwarder.locator("#shared")
        expect(shared.locator('dt[data-key="consignee"]')).to_be_visible()
        expect(shared.locator('dt[data-key="invoice_number"]')).to_have_count(0)
        expect(shared.locator('th[data-key="hs_code"]')).to_have_count(0)
        expect(forwarder.locator("body")).not_to_contain_text("INV-2026-041")
        forwarder.locator("#milestone-form select[name=code]").select_option("picked_up")
        forwarder.locator("#milestone-form button[type=submit]").click()
        expect(forwarder.locator('li[data-milestone="picked_up"]')).to_be_visible()
        # The trade itself stays out of the forwarder's reach.
        assert forwarder.request.get(trade_url).status == 404

        # The MSME sees the reading in the access log, and the booked step on its checklist.
        msme.goto(contract_url)
        expect(msme.locator("#accesses")).to_contain_text(FORWARDER)
        msme.goto(trade_url)
        expect(msme.locator("#step-carriage_booked")).to_have_class(re.compile(r"\bdone\b"))
        expect(msme.locator("#step-handover_to_carrier")).to_have_class(re.compile(r"\bdone\b"))
    finally:
        msme_context.close()
        forwarder_context.close()
