"""The marketplace pages: a trade's services, the comparison, the provider's inbox and quote, contracts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ismit.marketplace.models import Contract, Milestone, Quote, Rfq
from ismit.marketplace.tests.support import forwarder_for, make_offering
from ismit.trades.models import ChecklistStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def offering(cast):
    return make_offering(cast.forwarder_org, transit_days=21)


def request_form(**overrides) -> dict:
    form = {
        "services": ["carriage"],
        "deadline": (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "volume_m3": "30",
        "containers_20": "1",
        "notes": "Jute bags",
    }
    form.update(overrides)
    return form


def test_the_msme_requests_compares_and_accepts_and_the_provider_quotes(client, cast, cashew_trade, offering):
    forwarder_for()
    client.force_login(cast.exporter)
    page = client.get(f"/trades/{cashew_trade.pk}/services/")
    assert page.status_code == 200 and b"rfq-form" in page.content
    assert (
        f'href="/trades/{cashew_trade.pk}/services/"'.encode()
        in client.get(f"/trades/{cashew_trade.pk}/").content
    )
    sent = client.post(f"/trades/{cashew_trade.pk}/services/", request_form())
    rfq = Rfq.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/marketplace/rfqs/{rfq.pk}/"
    assert rfq.cargo["containers"] == {"20": 1}

    # The provider's inbox and quote form.
    client.force_login(cast.forwarder)
    inbox = client.get("/marketplace/inbox/")
    assert rfq.reference in inbox.content.decode()
    page = client.get(f"/marketplace/rfqs/{rfq.pk}/")
    assert page.status_code == 200 and b"quote-form" in page.content
    assert cashew_trade.reference not in page.content.decode()
    posted = client.post(
        f"/marketplace/rfqs/{rfq.pk}/quote/",
        {
            "service_type": "carriage",
            "line_code": ["FRT", "BAF", "", ""],
            "line_description": ["Ocean freight", "Bunker", "", ""],
            "line_amount": ["1500", "99.90", "", ""],
            "currency": "EUR",
            "valid_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
            "transit_days": "17",
        },
    )
    assert posted.status_code == 302
    firm = Quote.objects.get(kind="firm")
    assert str(firm.total) == "1599.90"

    # The MSME's comparison, sorted by a link (a full page, or the htmx partial), then acceptance.
    client.force_login(cast.exporter)
    page = client.get(f"/marketplace/rfqs/{rfq.pk}/?sort=quality")
    html = page.content.decode()
    assert 'data-sort="quality" aria-current="true"' in html and f'data-quote="{firm.pk}"' in html
    partial = client.get(f"/marketplace/rfqs/{rfq.pk}/?sort=transit", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'id="comparison"' in partial.content
    accepted = client.post(f"/marketplace/quotes/{firm.pk}/accept/")
    contract = Contract.objects.get()
    assert accepted["Location"] == f"/marketplace/contracts/{contract.pk}/"
    assert ChecklistStep.objects.get(trade=cashew_trade, code="carriage_booked").status == "done"

    # The provider records a milestone on its contract page.
    client.force_login(cast.forwarder)
    assert contract.reference in client.get("/marketplace/contracts/").content.decode()
    client.post(f"/marketplace/contracts/{contract.pk}/milestones/", {"code": "departed", "note": "MSC Ama"})
    assert Milestone.objects.get(contract=contract).code == "departed"
    assert ChecklistStep.objects.get(trade=cashew_trade, code="departed").status == "done"


def test_a_request_with_errors_shows_them(client, cast, cashew_trade, offering):
    client.force_login(cast.exporter)
    page = client.post(
        f"/trades/{cashew_trade.pk}/services/", request_form(services=[], deadline="yesterday")
    )
    assert page.status_code == 422
    assert not Rfq.objects.exists()


def test_the_pages_are_404_for_whoever_may_not_see_them(client, cast, cashew_trade, offering):
    client.force_login(cast.exporter)
    client.post(f"/trades/{cashew_trade.pk}/services/", request_form())
    rfq = Rfq.objects.get()
    quote = Quote.objects.filter(rfq=rfq).first()
    for user in (cast.other, cast.broker, cast.stranger, cast.operator):
        client.force_login(user)
        assert client.get(f"/trades/{cashew_trade.pk}/services/").status_code == 404
        assert client.get(f"/marketplace/rfqs/{rfq.pk}/").status_code == 404
        assert client.post(f"/marketplace/quotes/{quote.pk}/accept/").status_code == 404
    # The invited provider sees the RFQ but may not accept, nor reach the trade.
    client.force_login(cast.forwarder)
    assert client.post(f"/marketplace/quotes/{quote.pk}/accept/").status_code == 403
    assert client.get(f"/trades/{cashew_trade.pk}/services/").status_code == 404
    assert not Contract.objects.exists()
