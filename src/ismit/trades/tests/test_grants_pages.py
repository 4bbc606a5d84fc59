"""The "Customs broker" section of a trade's page: appoint, search by name, revoke; the broker's view."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import cashew_trade_data
from ismit.accounts.models import Organisation, VerificationStatus
from ismit.trades.models import Trade, TradeGrant
from ismit.trades.services import appoint, create_trade, revoke_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def grant(cast, cashew_trade, exporter_actor) -> TradeGrant:
    return appoint(actor=exporter_actor, trade=cashew_trade, organisation=cast.broker_org, scope="customs")


@pytest.fixture
def second_trade(cast, exporter_actor) -> Trade:
    return create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())


def detail(trade) -> str:
    return reverse("trades:detail", args=[trade.pk])


def section(page: str) -> str:
    start = page.index('<section class="card" id="grants"')
    return page[start : page.index("</section>", start)]


def _pending_broker() -> Organisation:
    return Organisation.objects.create(
        legal_name="Transit Nouveau",
        kind="provider",
        provider_types=["broker"],
        country="CI",
        city="Abidjan",
        verification_status=VerificationStatus.PENDING,
    )


# -- the owner's side -------------------------------------------------------------------------------


def test_the_owner_sees_the_appoint_form_with_verified_brokers_only(client, cast, cashew_trade):
    _pending_broker()
    client.force_login(cast.exporter)
    part = section(client.get(detail(cashew_trade)).content.decode())
    assert "No customs broker is appointed on this trade." in part
    assert f'<option value="{cast.broker_org.pk}">Transit Lagunaire' in part
    assert "Transit Nouveau" not in part  # not verified
    assert "Sahel Freight" not in part  # a forwarder
    assert reverse("trades:grant_create", args=[cashew_trade.pk]) in part


def test_the_owner_appoints_from_the_page(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(
        reverse("trades:grant_create", args=[cashew_trade.pk]),
        {"organisation": cast.broker_org.pk, "scope": "customs", "q": ""},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(detail(cashew_trade) + "#grants")
    grant = TradeGrant.objects.get()
    assert (grant.trade, grant.organisation, grant.is_active) == (cashew_trade, cast.broker_org, True)
    page = response.content.decode()
    assert "Transit Lagunaire is appointed on this trade." in page
    part = section(page)
    assert f'id="grant-{grant.pk}"' in part and "Active" in part
    assert reverse("trades:grant_revoke", args=[cashew_trade.pk, grant.pk]) in part


@pytest.mark.parametrize("chosen", ["forwarder", "pending", "garbage", "missing"])
def test_a_refused_choice_is_explained_and_nothing_is_appointed(client, cast, cashew_trade, chosen):
    value = {
        "forwarder": lambda: cast.forwarder_org.pk,
        "pending": lambda: _pending_broker().pk,
        "garbage": lambda: "abc",
        "missing": lambda: "",
    }[chosen]()
    client.force_login(cast.exporter)
    response = client.post(
        reverse("trades:grant_create", args=[cashew_trade.pk]), {"organisation": value}, follow=True
    )
    assert response.status_code == 200
    assert "Choose a customs broker registered on the platform." in response.content.decode()
    assert not TradeGrant.objects.exists()


def test_the_owner_revokes_from_the_page(client, cast, cashew_trade, grant):
    client.force_login(cast.exporter)
    response = client.post(reverse("trades:grant_revoke", args=[cashew_trade.pk, grant.pk]), follow=True)
    grant.refresh_from_db()
    assert not grant.is_active
    page = response.content.decode()
    assert "The appointment of Transit Lagunaire has ended." in page
    part = section(page)
    assert "ended " in part
    assert reverse("trades:grant_revoke", args=[cashew_trade.pk, grant.pk]) not in part


def test_a_read_only_member_sees_the_grants_but_no_form(client, cast, cashew_trade, grant):
    client.force_login(cast.viewer)
    part = section(client.get(detail(cashew_trade)).content.decode())
    assert "Transit Lagunaire" in part
    assert "<form" not in part
    for url in (
        reverse("trades:grant_create", args=[cashew_trade.pk]),
        reverse("trades:grant_revoke", args=[cashew_trade.pk, grant.pk]),
    ):
        assert client.post(url, {"organisation": cast.broker_org.pk}).status_code == 404
    grant.refresh_from_db()
    assert grant.is_active and TradeGrant.objects.count() == 1


def test_brokers_are_searched_by_name(client, cast, cashew_trade):
    Organisation.objects.create(
        legal_name="Douanes Express Abidjan",
        kind="provider",
        provider_types=["broker"],
        country="CI",
        city="Abidjan",
        verification_status=VerificationStatus.VERIFIED,
    )
    client.force_login(cast.exporter)
    url = reverse("trades:grant_brokers", args=[cashew_trade.pk])
    found = client.get(url, {"q": "lagun"}, headers={"HX-Request": "true"}).content.decode()
    assert "Transit Lagunaire" in found and "Douanes Express" not in found
    found = client.get(url, {"q": "express"}).content.decode()
    assert "Douanes Express" in found and "Transit Lagunaire" not in found
    assert "No verified customs broker matches this name." in client.get(url, {"q": "zzz"}).content.decode()


# -- the broker's side ------------------------------------------------------------------------------


def test_the_broker_sees_the_trade_page_without_edit_controls(client, cast, cashew_trade, grant):
    client.force_login(cast.broker)
    response = client.get(detail(cashew_trade))
    assert response.status_code == 200
    page = response.content.decode()
    assert cashew_trade.reference in page and "Cashew kernels W320, shelled" in page
    assert page.count('<li id="step-') == cashew_trade.steps.count()
    assert reverse("trades:edit", args=[cashew_trade.pk]) not in page
    assert 'class="step-form"' not in page
    part = section(page)
    assert "You act on this trade as the customs broker appointed by Anacarde Abidjan SARL." in part
    assert "<form" not in part


def test_the_broker_may_not_use_the_msmes_pages_to_change_anything(client, cast, cashew_trade, grant):
    client.force_login(cast.broker)
    before = Trade.objects.filter(pk=cashew_trade.pk).values().get()
    for name, args in (
        ("trades:edit", [cashew_trade.pk]),
        ("trades:duplicate", [cashew_trade.pk]),
        ("trades:delete", [cashew_trade.pk]),
        ("trades:step", [cashew_trade.pk, "contract"]),
        ("trades:grant_create", [cashew_trade.pk]),
        ("trades:grant_revoke", [cashew_trade.pk, grant.pk]),
    ):
        assert client.post(reverse(name, args=args), {"status": "done"}).status_code == 404, name
    assert client.get(reverse("trades:grant_brokers", args=[cashew_trade.pk])).status_code == 404
    assert Trade.objects.filter(pk=cashew_trade.pk).values().get() == before
    assert Trade.objects.filter(organisation=cast.msme).count() == 1
    grant.refresh_from_db()
    assert grant.is_active


def test_the_broker_sees_nothing_else_of_the_msme(client, cast, cashew_trade, second_trade, grant):
    client.force_login(cast.broker)
    for url in (
        detail(second_trade),
        reverse("accounts:organisation", args=[cast.msme.pk]),
        reverse("accounts:members", args=[cast.msme.pk]),
        reverse("accounts:organisation_audit", args=[cast.msme.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_the_brokers_list_shows_the_granted_trade_marked(client, cast, cashew_trade, second_trade, grant):
    client.force_login(cast.broker)
    response = client.get(reverse("trades:list"))
    assert [t.pk for t in response.context["page"]] == [cashew_trade.pk]
    page = response.content.decode()
    assert "via appointment" in page and "Anacarde Abidjan SARL" in page
    assert second_trade.reference not in page


def test_the_msmes_own_list_is_unmarked(client, cast, cashew_trade, second_trade, grant):
    client.force_login(cast.exporter)
    response = client.get(reverse("trades:list"))
    assert {t.pk for t in response.context["page"]} == {cashew_trade.pk, second_trade.pk}
    assert "via appointment" not in response.content.decode()


def test_after_revoke_the_broker_gets_404_and_an_empty_list(
    client, cast, cashew_trade, exporter_actor, grant
):
    client.force_login(cast.broker)
    assert client.get(detail(cashew_trade)).status_code == 200
    revoke_grant(actor=exporter_actor, grant=grant)
    assert client.get(detail(cashew_trade)).status_code == 404
    assert list(client.get(reverse("trades:list")).context["page"]) == []


def test_the_page_costs_the_same_with_and_without_grants(
    client, cast, cashew_trade, second_trade, exporter_actor
):
    client.force_login(cast.exporter)
    client.get(detail(second_trade))  # warm the session
    with CaptureQueriesContext(connection) as without:
        assert client.get(detail(second_trade)).status_code == 200
    for _n in range(3):
        grant = appoint(
            actor=exporter_actor, trade=second_trade, organisation=cast.broker_org, scope="customs"
        )
        revoke_grant(actor=exporter_actor, grant=grant)
    appoint(actor=exporter_actor, trade=second_trade, organisation=cast.broker_org, scope="customs")
    with CaptureQueriesContext(connection) as with_grants:
        page = client.get(detail(second_trade)).content.decode()
    assert page.count('<tr id="grant-') == 4
    assert len(with_grants) == len(without)
