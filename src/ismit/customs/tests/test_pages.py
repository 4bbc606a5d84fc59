"""The trade's Customs tab: submit, follow ("queued, will retry"), answer a query, download the messages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils.html import escape

from ismit.customs.models import CustomsQuery, Declaration, ExchangedMessage
from ismit.customs.tests.support import deliver, follow
from ismit.trades.models import GoodsItem
from ismit.trades.services import appoint

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_tab_offers_to_submit_then_shows_the_queued_declaration(cashew_trade, offline_window, cast):
    client = browser(cast.colleague)
    url = f"/trades/{cashew_trade.pk}/customs/"
    page = client.get(url).content.decode()
    assert 'id="submit-form"' in page and "Submit the declaration" in page
    assert f'href="{url}"' in client.get(f"/trades/{cashew_trade.pk}/").content.decode()  # the tab

    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == url
    page = response.content.decode()
    assert "Declaration queued" in page and 'data-status="queued"' in page
    assert 'id="submit-form"' not in page  # one at a time
    declaration = Declaration.objects.get(trade=cashew_trade)
    assert declaration.submitted_by == cast.colleague

    deliver(declaration)  # the window cannot be reached: the outbox will retry
    page = client.get(url).content.decode()
    assert 'id="delivery-retrying"' in page and "Queued, will retry" in page


def test_the_format_is_offered_when_two_windows_take_the_declaration(cashew_trade, offline_window, cast):
    offline_window.pk = None
    offline_window.connector = "edifact"
    offline_window.save()
    client = browser(cast.exporter)
    page = client.get(f"/trades/{cashew_trade.pk}/customs/").content.decode()
    assert 'name="channel"' in page and 'value="edifact"' in page
    client.post(f"/trades/{cashew_trade.pk}/customs/", {"channel": "edifact"})
    assert Declaration.objects.get().channel == "edifact"


def test_errors_are_shown_and_nothing_is_sent(cashew_trade, offline_window, cast):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(gross_mass_kg=1)
    response = browser(cast.colleague).post(f"/trades/{cashew_trade.pk}/customs/", follow=True)
    assert "the gross mass is less than the net mass" in response.content.decode()
    assert not Declaration.objects.exists()


def test_without_a_window_the_tab_says_so(cashew_trade, cast):
    page = browser(cast.colleague).get(f"/trades/{cashew_trade.pk}/customs/").content.decode()
    assert "No single window is configured for this country yet" in page and 'id="submit-form"' not in page


def test_a_read_only_member_sees_the_tab_but_may_not_submit(cashew_trade, offline_window, cast):
    client = browser(cast.viewer)
    assert 'id="submit-form"' not in client.get(f"/trades/{cashew_trade.pk}/customs/").content.decode()
    assert client.post(f"/trades/{cashew_trade.pk}/customs/").status_code == 403


def test_other_organisations_get_404(cashew_trade, offline_window, cast):
    client = browser(cast.other)
    assert client.get(f"/trades/{cashew_trade.pk}/customs/").status_code == 404
    assert client.post(f"/trades/{cashew_trade.pk}/customs/").status_code == 404
    assert not Declaration.objects.exists()


def test_the_appointed_broker_declares_from_the_tab(cashew_trade, offline_window, cast, exporter):
    appoint(actor=exporter, trade=cashew_trade, organisation=cast.broker_org, scope="customs")
    client = browser(cast.broker)
    assert 'id="submit-form"' in client.get(f"/trades/{cashew_trade.pk}/customs/").content.decode()
    client.post(f"/trades/{cashew_trade.pk}/customs/")
    assert Declaration.objects.get().submitted_by_organisation == cast.broker_org


def test_a_query_is_answered_from_its_page_and_the_messages_downloaded(
    cashew_trade, window, relay, cast, exporter
):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=1).update(description="Goods")
    client = browser(cast.colleague)
    client.post(f"/trades/{cashew_trade.pk}/customs/")
    declaration = Declaration.objects.get()
    deliver(declaration)
    follow(Client(), relay, declaration, "query")
    query = CustomsQuery.objects.get()
    page = client.get(f"/trades/{cashew_trade.pk}/customs/").content.decode()
    assert 'id="open-queries"' in page and escape(query.text) in page
    assert f"/trades/{cashew_trade.pk}/customs/queries/{query.pk}/" in page

    answer_url = f"/trades/{cashew_trade.pk}/customs/queries/{query.pk}/"
    form = client.get(answer_url).content.decode()
    assert 'id="answer-form"' in form and 'value="Goods"' in form
    response = client.post(answer_url, {"answer": "", "description": "Goods"})  # nothing changed: refused
    assert response.status_code == 200 and "Answer the question" in response.content.decode()
    response = client.post(answer_url, {"answer": "", "description": "Cashew kernels W320, shelled, in bags"})
    assert response.status_code == 302
    correction = Declaration.objects.get(version=2)
    assert correction.corrects == declaration
    assert (
        GoodsItem.objects.get(trade=cashew_trade, line_no=1).description
        == "Cashew kernels W320, shelled, in bags"
    )
    assert 'id="answer-form"' not in client.get(answer_url).content.decode()  # answered

    message = ExchangedMessage.objects.filter(declaration=declaration, kind="notification").first()
    download = client.get(f"/trades/{cashew_trade.pk}/customs/messages/{message.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == message.read()
    assert download["Content-Disposition"].startswith("attachment")
    stranger = browser(cast.other)
    assert stranger.get(f"/trades/{cashew_trade.pk}/customs/messages/{message.pk}/").status_code == 404
    assert stranger.get(answer_url).status_code == 404
    assert stranger.post(answer_url, {"answer": "forged"}).status_code == 404


def timeline_marks(page: str) -> list[tuple[str, str]]:
    """(class, label) of each entry of the Customs tab's "What happened", in order."""
    timeline = page.split('id="customs-timeline"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<li class="(\w+)"[^>]*>\s*<strong>([^<]+)</strong>', timeline)


def test_the_timeline_shows_the_steps_gone_through_as_done_and_the_current_one_as_it_is(
    cashew_trade, window, relay, cast
):
    client = browser(cast.colleague)
    url = f"/trades/{cashew_trade.pk}/customs/"
    client.post(url)
    declaration = Declaration.objects.get()
    deliver(declaration)
    follow(Client(), relay, declaration, "accepted")
    marks = timeline_marks(client.get(url).content.decode())
    assert [label for _, label in marks] == [
        "Version 1 submitted",
        f"Sent to {window.name}",
        "Received by customs",
        "Accepted",
    ]
    assert [mark for mark, _ in marks] == ["done", "done", "done", "in_progress"]

    follow(Client(), relay, declaration, "goods_exited")
    marks = timeline_marks(client.get(url).content.decode())
    assert marks[-1] == ("done", "Goods exited") and {mark for mark, _ in marks} == {"done"}

    # What the window says beside a status is shown in the reader's language (translated by its code).
    client.cookies["django_language"] = "fr"
    timeline = client.get(url).content.decode().split('id="customs-timeline"', 1)[1]
    assert '<div class="help">Sortie des marchandises confirmée.</div>' in timeline
    assert "Exit of the goods confirmed" not in timeline
