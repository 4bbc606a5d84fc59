"""The list of the organisation's trades: columns, filters, htmx table, empty state, query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.trades.models import ChecklistStep, Trade, TradeStatus
from ismit.trades.services import create_trade, mark_commercial_step

pytestmark = pytest.mark.django_db

LIST = reverse("trades:list")


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_someone_without_an_organisation_is_asked_to_create_one(client, cast):
    client.force_login(cast.stranger)
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")


def test_the_list_shows_the_organisations_trades_with_value_route_and_progress(
    client, cast, cashew_trade, other_trade, exporter_actor
):
    mark_commercial_step(
        actor=exporter_actor,
        step=ChecklistStep.objects.get(trade=cashew_trade, code="contract"),
        status="done",
    )
    client.force_login(cast.exporter)
    response = client.get(LIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert cashew_trade.reference in page
    assert "Provence Fruits Secs SAS" in page
    assert "Abidjan → Marseille" in page
    assert "100,250.00 EUR" in page
    assert "1 of 22" in page  # contract done; 22 steps apply to a CIF export paid by letter of credit
    assert "In progress" in page
    assert "RVR-77" not in page  # the other organisation's trade
    assert "Bloemen BV" not in page


def test_the_list_shows_only_the_current_organisations_trades(client, cast, cashew_trade, other_trade):
    from ismit.accounts.models import Membership, Role

    Membership.objects.create(user=cast.exporter, organisation=cast.other_msme, role=Role.MEMBER)
    client.force_login(cast.exporter)
    session = client.session
    session["ismit_org"] = cast.other_msme.pk
    session.save()
    rows = list(client.get(LIST).context["page"])
    assert [t.pk for t in rows] == [other_trade.pk]


def test_filters_narrow_the_list_by_status_direction_and_search(client, cast, cashew_trade, exporter_actor):
    imported = create_trade(
        actor=exporter_actor,
        organisation=cast.msme,
        data=cashew_trade_data(direction="import", invoice_number="PO-IMPORT-9"),
    )
    Trade.objects.filter(pk=imported.pk).update(status=TradeStatus.ACTIVE)
    client.force_login(cast.exporter)

    def refs(**params):
        return [t.reference for t in client.get(LIST, params).context["page"]]

    assert refs() == [imported.reference, cashew_trade.reference]
    assert refs(status="active") == [imported.reference]
    assert refs(status="draft") == [cashew_trade.reference]
    assert refs(direction="export") == [cashew_trade.reference]
    assert refs(q="po-import") == [imported.reference]
    assert refs(q="provence") == [imported.reference, cashew_trade.reference]
    assert refs(q="nothing like it") == []


def test_htmx_gets_only_the_table(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.get(LIST, {"q": cashew_trade.reference}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.templates[0].name == "trades/_table.html"
    assert "<html" not in page
    assert cashew_trade.reference in page


def test_a_search_without_results_says_so(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    page = client.get(LIST, {"q": "zzz"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No trade matches these filters." in page


def test_the_empty_list_explains_what_a_trade_is(client, cast):
    client.force_login(cast.exporter)
    page = client.get(LIST).content.decode()
    assert "No trade yet" in page
    assert "A trade is one sale across a border" in page
    assert reverse("trades:create") in page


def test_read_only_members_see_the_trades_but_no_new_trade_button(client, cast, cashew_trade):
    client.force_login(cast.viewer)
    page = client.get(LIST).content.decode()
    assert cashew_trade.reference in page
    assert f'href="{reverse("trades:create")}"' not in page


def test_the_list_needs_the_same_queries_for_1_and_10_trades(
    client, cast, cashew_trade, django_assert_max_num_queries
):
    client.force_login(cast.exporter)
    client.get(LIST)  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    actor = actor_for(cast.exporter)
    for n in range(9):
        create_trade(actor=actor, organisation=cast.msme, data=cashew_trade_data(reference=f"R-{n}"))
    with django_assert_max_num_queries(len(one)):
        response = client.get(LIST)
    assert len(response.context["page"]) == 10
