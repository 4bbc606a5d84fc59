"""The Finance tab of a trade: payments and totals, the cross-check before the submit buttons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ismit.finance.models import Payment, VatClaim

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"finance:{name}", args=args)


def test_the_tab_lists_payments_totals_and_the_mismatches_before_the_buttons(
    client, cast, trade, pay, identifiers
):
    pay(trade, "60000.00", reference="SGCI-1")
    client.force_login(cast.colleague)
    page = client.get(url("trade", trade.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "SGCI-1" in html and "100,250.00" in html and "60,000.00" in html
    assert 'data-code="value.payments"' in html and 'data-code="declaration.missing"' in html
    # the cross-check of each filing comes before its submit button, which stays disabled
    fx = html[html.index('id="fx-filing"') : html.index('id="vat-filing"')]
    assert fx.index('class="mismatches"') < fx.index("File the FX settlement report")
    assert "disabled>File the FX settlement report" in " ".join(fx.split())
    assert f'href="{url("trade", trade.pk)}"' in html  # the Finance tab


def test_the_trade_page_links_to_the_finance_tab(client, cast, trade):
    client.force_login(cast.exporter)
    page = client.get(reverse("trades:detail", args=[trade.pk]))
    assert url("trade", trade.pk) in page.content.decode()


def test_a_payment_is_recorded_from_the_page(client, cast, trade, today):
    client.force_login(cast.exporter)
    answer = client.post(
        url("payment_add", trade.pk),
        {
            "amount": "100 250,00",
            "currency": "EUR",
            "received_on": (today - dt.timedelta(days=1)).isoformat(),
            "bank_reference": "SGCI-77",
            "payer": "Provence Fruits Secs SAS",
        },
    )
    assert answer.status_code == 302 and answer["Location"] == url("trade", trade.pk)
    payment = Payment.objects.get()
    assert str(payment.amount) == "100250.00"
    page = client.get(url("trade", trade.pk)).content.decode()
    assert "SGCI-77" in page and 'data-code="value.payments"' not in page


def test_a_bad_payment_is_shown_again_with_its_errors(client, cast, trade):
    client.force_login(cast.exporter)
    answer = client.post(
        url("payment_add", trade.pk), {"amount": "abc", "currency": "EUR", "received_on": ""}
    )
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "Enter a number." in html and "Enter the bank&#x27;s reference of the payment." in html
    assert not Payment.objects.exists()


def test_a_payment_is_deleted_from_the_page(client, cast, trade, pay):
    payment = pay(trade, "10.00")
    client.force_login(cast.exporter)
    answer = client.post(url("payment_delete", trade.pk, payment.pk))
    assert answer.status_code == 302
    assert not Payment.objects.exists()


def test_filing_with_mismatches_is_refused_on_the_page(client, cast, trade, pay, identifiers):
    pay(trade, "10.00")
    client.force_login(cast.exporter)
    answer = client.post(url("fx_submit", trade.pk), {})
    assert answer.status_code == 422
    assert "Not filed" in answer.content.decode()
    answer = client.post(
        url("vat_submit", trade.pk),
        {"vat_amount": "1500", "input_invoices": "SUPPLIER-1", "action": "submit"},
    )
    assert answer.status_code == 422
    claim = VatClaim.objects.get()  # what was entered is kept, for the next try
    assert (str(claim.vat_amount), claim.input_invoices, claim.status) == ("1500.00", "SUPPLIER-1", "draft")


def test_the_vat_claim_is_saved_as_a_draft(client, cast, trade):
    client.force_login(cast.exporter)
    answer = client.post(
        url("vat_submit", trade.pk),
        {
            "vat_amount": "2 000,00",
            "vat_rate": "",
            "input_invoices": "CI-SUP-9 of 2026-10-01",
            "action": "save",
        },
    )
    assert answer.status_code == 302
    claim = VatClaim.objects.get()
    assert str(claim.vat_amount) == "2000.00" and claim.vat_rate is None
    page = client.get(url("trade", trade.pk)).content.decode()
    assert "CI-SUP-9 of 2026-10-01" in page


def test_read_only_members_see_no_forms(client, cast, trade, pay):
    pay(trade, "10.00")
    client.force_login(cast.viewer)
    html = client.get(url("trade", trade.pk)).content.decode()
    assert "payment-form" not in html and "File the FX settlement report" not in html
    assert client.post(url("fx_submit", trade.pk), {}).status_code == 403


@pytest.mark.parametrize("who", ["other", "broker", "stranger"])
def test_other_organisations_get_404(client, cast, trade, pay, who):
    payment = pay(trade, "10.00")
    client.force_login(getattr(cast, who))
    assert client.get(url("trade", trade.pk)).status_code == 404
    for name, args in (
        ("payment_add", (trade.pk,)),
        ("payment_delete", (trade.pk, payment.pk)),
        ("fx_submit", (trade.pk,)),
        ("vat_submit", (trade.pk,)),
    ):
        assert client.post(url(name, *args), {"amount": "1"}).status_code == 404
    assert Payment.objects.count() == 1


def test_an_appointed_broker_sees_the_trade_but_not_its_finance(client, cast, trade, exporter, pay):
    from ismit.trades.services import appoint

    pay(trade, "10.00")
    appoint(actor=exporter, trade=trade, organisation=cast.broker_org, scope="customs")
    client.force_login(cast.broker)
    page = client.get(reverse("trades:detail", args=[trade.pk]))
    assert page.status_code == 200
    assert url("trade", trade.pk) not in page.content.decode()
    assert client.get(url("trade", trade.pk)).status_code == 404
