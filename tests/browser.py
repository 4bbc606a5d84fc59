"""Debian's Chromium driven by Playwright, for every test that uses a real browser (tests/e2e, tests/e2e_sw):
the session's `browser` fixture, and `log_in(page, base, email, password)`. Never a browser download:
without /usr/bin/chromium the tests fail, saying how to install it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see README)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def log_in(page, base: str, email: str, password: str) -> None:
    """Log in through the login page (the header's own form aside) and wait to be let in."""
    from playwright.sync_api import expect

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
