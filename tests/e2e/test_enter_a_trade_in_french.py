"""End to end, as a person would: sign up, create the organisation, enter an export in French through the
guided form (with code-list autocomplete), and read its checklist; an operator verifies the organisation.
"""

from __future__ import annotations

import re
import secrets

import pytest
from django.utils import translation
from playwright.sync_api import expect

from ismit.trades.checklist import label_for

pytestmark = pytest.mark.browser


def french(code: str) -> str:
    with translation.override("fr"):
        return str(label_for(code))


def submit(page):
    page.locator("main form button[type=submit]").last.click()


def test_an_exporter_signs_up_and_enters_a_trade_in_french(live_platform, page):
    page.goto(f"{live_platform}/accounts/signup/")
    page.locator("form.language-switcher button[value=fr]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    email = f"aicha.{secrets.token_hex(3)}@anacarde.example"
    page.fill("input[name=full_name]", "Aïcha Traoré")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "Cajou-Abidjan-2026!")
    page.select_option("select[name=language]", "fr")
    submit(page)

    # A new user has no organisation yet: the platform asks for one.
    expect(page).to_have_url(re.compile(r"/accounts/organisations/new/"))
    page.fill("input[name=legal_name]", "Cajou d'Or Abidjan SARL")
    page.select_option("select[name=kind]", "msme")
    page.fill("input[name=country]", "CI")
    page.fill("input[name=city]", "Abidjan")
    submit(page)
    expect(page.locator("main")).to_contain_text("Cajou d'Or Abidjan SARL")

    page.goto(f"{live_platform}/trades/new/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.check("input[name=direction][value=export]")
    page.fill("input[name=buyer-name]", "Provence Fruits Secs SAS")
    page.fill("input[name=buyer-city]", "Marseille")
    page.fill("input[name=buyer-country]", "FR")

    # Autocomplete: typing a heading fills the field's datalist with HS subheadings from the server.
    hs = page.locator("input[name=items-0-hs_code]")
    hs.press_sequentially("0801", delay=60)
    datalist = page.locator(f"datalist#{hs.get_attribute('list')} option")
    expect(datalist.first).to_be_attached()
    assert "080132" in [datalist.nth(i).get_attribute("value") for i in range(datalist.count())]
    hs.fill("080132")

    page.fill("input[name=items-0-description]", "Amandes de cajou W320")
    page.fill("input[name=items-0-origin_country]", "CI")
    page.fill("input[name=items-0-quantity]", "1000")
    page.fill("input[name=items-0-unit]", "KGM")
    page.fill("input[name=items-0-unit_price]", "6,20")  # a decimal comma, as a French user types it
    page.fill("input[name=items-0-packages_count]", "50")
    page.fill("input[name=items-0-package_type]", "BG")
    page.fill("input[name=items-0-net_mass_kg]", "1000")
    page.fill("input[name=items-0-gross_mass_kg]", "1030")

    page.fill("input[name=invoice_number]", "CDA-2026-001")
    page.fill("input[name=currency]", "EUR")
    page.select_option("select[name=incoterm]", "CIF")
    page.fill("input[name=incoterm_place]", "FRMRS")
    page.select_option("select[name=payment_terms]", "lc")
    page.fill("input[name=payment_days]", "60")
    page.select_option("select[name=transport_mode]", "1")
    page.fill("input[name=place_of_loading]", "CIABJ")
    page.fill("input[name=place_of_discharge]", "FRMRS")
    submit(page)

    # The trade's page: its goods, derived totals and its checklist, in French.
    expect(page).to_have_url(re.compile(r"/trades/\d+/$"))
    main = page.locator("main")
    expect(main).to_contain_text("Provence Fruits Secs SAS")
    expect(main).to_contain_text("6 200")  # 1 000 kg × 6,20 EUR, localised
    steps = page.locator("ul.timeline > li")
    expect(steps.first).to_be_visible()
    assert steps.count() >= 15
    for code in ("contract", "cargo_insurance", "export_declaration", "lc_opened"):
        with translation.override("en"):
            english = str(label_for(code))
        assert french(code) != english, f"no French label for step {code}"
        expect(main).to_contain_text(french(code))

    # The exporter marks a commercial step; the timeline updates in place (htmx).
    contract = page.locator("ul.timeline > li", has_text=french("contract"))
    contract.locator("select[name=status]").select_option("done")
    contract.locator("button[type=submit]").click()
    expect(page.locator("ul.timeline > li.done", has_text=french("contract"))).to_be_visible()


def test_an_operator_verifies_a_pending_organisation(live_platform, page):
    page.goto(f"{live_platform}/accounts/login/")
    page.fill("input[name=username]", "operator@demo.ismit.example")
    page.fill("input[name=password]", "ismit-demo")
    submit(page)
    page.goto(f"{live_platform}/accounts/verification/")
    row = page.locator("main").get_by_text("Rift Valley Roses Ltd")
    expect(row).to_be_visible()
    row.click()
    verify = page.locator("form", has=page.get_by_role("button", name="Verify", exact=True))
    verify.locator("textarea[name=verify-reason]").fill(
        "Registration extract checked against the business registry."
    )
    verify.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Rift Valley Roses Ltd is verified")
    # The decision is in the organisation's audit trail, and the queue no longer lists it.
    page.goto(f"{live_platform}/accounts/verification/")
    expect(page.locator("main")).not_to_contain_text("Rift Valley Roses Ltd")
