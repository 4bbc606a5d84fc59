"""Need-to-know sharing: a provider under contract gets the data of its service's scope and nothing else,
through the page and the API, every read logged; it never reaches the trade itself."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ismit.accounts.actors import actor_for
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.marketplace import queries, scopes, services
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.models import ContractAccess, ServiceType
from ismit.marketplace.tests.support import make_offering
from ismit.trades.models import GoodsItem

pytestmark = pytest.mark.django_db

# Values of the cashew trade that only some scopes share.
UNIT_PRICE = "6.2000"  # a goods line's price: values
HS = "080132"  # hs_codes
INVOICE = "INV-2026-041"  # invoice
BUYER_VAT = "FR40303265045"  # never shared: a party's identifiers are in no scope
BUYER_STREET = "12 quai de la Joliette"  # parties


def _keys(view: dict) -> tuple[set[str], set[str]]:
    top = set(view) - {"goods"}
    lines = set().union(*(set(line) - {"line_no"} for line in view.get("goods", [])))
    return top, lines


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(groups=st.lists(st.sampled_from(sorted(scopes.FIELD_GROUPS)), unique=True))
def test_a_projection_holds_exactly_the_keys_of_its_groups(cashew_trade, groups):
    items = list(GoodsItem.objects.filter(trade=cashew_trade))
    view = scopes.project(
        cashew_trade, items, CargoSpec(origin_country="CI", destination_country="FR"), groups
    )
    allowed_top, allowed_line = scopes.allowed_keys(groups)
    top, lines = _keys(view)
    assert top == allowed_top
    assert lines == allowed_line
    assert ("goods" in view) == bool(allowed_line)


@pytest.mark.parametrize("service", ServiceType.values)
def test_each_service_shares_only_what_it_needs(cashew_trade, service):
    items = list(GoodsItem.objects.filter(trade=cashew_trade))
    view = scopes.project(
        cashew_trade, items, queries.cargo_from_trade(cashew_trade), scopes.scope_of(service)
    )
    text = json.dumps(view)
    assert BUYER_VAT not in text and "id" not in view and "reference" not in view
    assert (UNIT_PRICE in text) == (service in ("customs_brokerage", "insurance", "trade_finance"))
    assert (HS in text) == (service == "customs_brokerage")
    assert (INVOICE in text) == (service == "customs_brokerage")
    assert (BUYER_STREET in text) == (service in ("carriage", "customs_brokerage", "trade_finance"))


# -- through the pages and the API -----------------------------------------------------------------------


@pytest.fixture
def contract(cast, cashew_trade):
    make_offering(cast.forwarder_org, transit_days=21)
    exporter, forwarder = actor_for(cast.exporter), actor_for(cast.forwarder)
    rfq = services.create_rfq(
        actor=exporter,
        trade=cashew_trade,
        services=["carriage"],
        cargo={"volume_m3": "30"},
        deadline=timezone.now() + dt.timedelta(days=2),
    )
    quote = services.submit_quote(
        actor=forwarder,
        rfq=rfq,
        service_type="carriage",
        lines=[{"code": "FRT", "description": "Freight", "amount": "2500"}],
        currency="EUR",
        valid_until=timezone.localdate() + dt.timedelta(days=10),
        transit_days=20,
    )
    return services.accept_quote(actor=exporter, quote=quote)


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_the_provider_reads_the_scoped_data_through_the_api_and_each_read_is_logged(client, cast, contract):
    url = f"/api/v1/marketplace/contracts/{contract.pk}/shared-data"
    answer = client.get(url, headers=bearer(cast.forwarder))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["data_scope"] == scopes.scope_of("carriage")
    top, lines = _keys(body["data"])
    allowed_top, allowed_line = scopes.allowed_keys(body["data_scope"])
    assert top == allowed_top and lines <= allowed_line
    text = answer.content.decode()
    for secret in (UNIT_PRICE, HS, INVOICE, BUYER_VAT, "100250", "trade"):
        assert secret not in text
    assert body["data"]["consignee"]["street"] == BUYER_STREET
    client.get(url, headers=bearer(cast.forwarder))
    accesses = ContractAccess.objects.filter(contract=contract)
    assert accesses.count() == 2 and {a.channel for a in accesses} == {"api"}
    assert accesses.first().fields == scopes.scope_of("carriage")
    assert (
        AuditEvent.objects.filter(action="marketplace.shared_data_read", organisation_id=cast.msme.pk).count()
        == 2
    )


def test_the_provider_page_shows_the_scope_only_and_the_msme_sees_the_log(client, cast, contract):
    client.force_login(cast.forwarder)
    page = client.get(f"/marketplace/contracts/{contract.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Provence Fruits Secs SAS" in html and BUYER_STREET in html
    for secret in (UNIT_PRICE, "6.20", HS, INVOICE, BUYER_VAT, "100,250", "100250"):
        assert secret not in html
    assert ContractAccess.objects.filter(contract=contract, channel="page", user=cast.forwarder).count() == 1
    client.force_login(cast.exporter)
    page = client.get(f"/marketplace/contracts/{contract.pk}/")
    assert cast.forwarder.email in page.content.decode()  # the access log
    assert (
        ContractAccess.objects.filter(contract=contract).count() == 1
    )  # the MSME's own reads are not logged


def test_the_provider_never_reaches_the_trade(client, cast, contract):
    trade_id = contract.trade_id
    client.force_login(cast.forwarder)
    for url in (
        f"/trades/{trade_id}/",
        f"/trades/{trade_id}/services/",
        f"/trades/{trade_id}/finance/",
        f"/trades/{trade_id}/documents/",
    ):
        assert client.get(url).status_code == 404, url
    headers = bearer(cast.forwarder)
    for url in (f"/api/v1/trades/{trade_id}", f"/api/v1/trades/{trade_id}/rfqs"):
        assert client.get(url, headers=headers).status_code == 404, url
    # The RFQ as the provider sees it names no trade.
    rfq = client.get(f"/api/v1/marketplace/rfqs/{contract.rfq_id}", headers=headers).json()
    assert rfq["trade_id"] is None


def test_nobody_else_reads_the_shared_data(client, cast, contract):
    for user in (cast.other, cast.broker, cast.banker, cast.stranger, cast.operator):
        answer = client.get(f"/api/v1/marketplace/contracts/{contract.pk}/shared-data", headers=bearer(user))
        assert answer.status_code == 404, user.email
        client.force_login(user)
        assert client.get(f"/marketplace/contracts/{contract.pk}/").status_code == 404, user.email
    assert not ContractAccess.objects.exists()
