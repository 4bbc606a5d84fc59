"""A trade's page: header, goods and totals, the checklist and its htmx step control, duplicate, delete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ismit.audit.models import AuditEvent
from ismit.trades.models import ChecklistStep, StepStatus, Trade, TradeStatus
from ismit.trades.services import GoodsItemData, add_goods_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def detail(trade) -> str:
    return reverse("trades:detail", args=[trade.pk])


def step_url(trade, code) -> str:
    return reverse("trades:step", args=[trade.pk, code])


def step_li(page: str, code: str) -> str:
    start = page.index(f'<li id="step-{code}"')
    return page[start : page.index("</li>", start)]


def test_the_page_shows_the_header_goods_and_derived_totals(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    page = client.get(detail(cashew_trade)).content.decode()
    assert cashew_trade.reference in page
    assert '<span id="trade-status" class="badge draft">Draft</span>' in page
    assert "Provence Fruits Secs SAS" in page and "VAT FR40303265045" in page
    assert "<strong>CIF</strong> Marseille" in page
    assert 'Abidjan <span class="muted">(CIABJ)</span> → Marseille' in page
    assert "Documentary letter of credit · 60 days" in page
    assert "Cashew kernels W320, shelled" in page
    assert '<td class="num">93,000.00</td>' in page  # 15000 x 6.20
    assert "<strong>100,250.00 EUR</strong>" in page
    assert '<td class="num" data-total="packages">812</td>' in page
    assert '<td class="num" data-total="gross">20,570</td>' in page


def test_the_checklist_is_a_timeline_with_responsibilities_from_the_msmes_point_of_view(
    client, cast, cashew_trade
):
    client.force_login(cast.exporter)
    page = client.get(detail(cashew_trade)).content.decode()
    assert page.count('<li id="step-') == 23
    insurance = step_li(page, "cargo_insurance")  # CIF: the seller insures, and we are the seller
    assert 'class="todo"' in insurance and "Cargo insurance arranged" in insurance
    assert '<span class="responsible">You</span>' in insurance
    assert '<span class="responsible">Buyer</span>' in step_li(page, "import_declaration")
    assert 'class="not_needed"' in step_li(page, "advance_payment")
    assert '<strong data-count="todo">22</strong>' in page
    assert '<strong data-count="not_needed">1</strong>' in page
    # commercial steps are marked by hand, the others by the platform
    assert f'hx-post="{step_url(cashew_trade, "contract")}"' in step_li(page, "contract")
    assert "Updated by the platform" in step_li(page, "export_declaration")
    assert "<form" not in step_li(page, "export_declaration")


def test_an_import_shows_the_seller_as_the_other_party(client, cast, exporter_actor):
    from conftest import cashew_trade_data
    from ismit.trades.services import create_trade

    trade = create_trade(
        actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(direction="import")
    )
    client.force_login(cast.exporter)
    page = client.get(detail(trade)).content.decode()
    assert '<span class="responsible">Seller</span>' in step_li(page, "contract")
    assert '<span class="responsible">You</span>' in step_li(page, "import_declaration")


def test_members_see_edit_duplicate_and_delete(client, cast, cashew_trade):
    client.force_login(cast.colleague)
    page = client.get(detail(cashew_trade)).content.decode()
    assert reverse("trades:edit", args=[cashew_trade.pk]) in page
    assert reverse("trades:duplicate", args=[cashew_trade.pk]) in page
    assert reverse("trades:delete", args=[cashew_trade.pk]) in page


def test_read_only_members_see_the_trade_without_any_control(client, cast, cashew_trade):
    client.force_login(cast.viewer)
    page = client.get(detail(cashew_trade)).content.decode()
    assert cashew_trade.reference in page
    assert reverse("trades:edit", args=[cashew_trade.pk]) not in page
    assert reverse("trades:duplicate", args=[cashew_trade.pk]) not in page
    assert reverse("trades:delete", args=[cashew_trade.pk]) not in page
    assert "hx-post" not in page


# -- marking steps ---------------------------------------------------------------------------------


def test_htmx_step_update_answers_the_steps_partial_and_records_the_change(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(
        step_url(cashew_trade, "contract"),
        {"status": "done", "note": "PO 4471 signed"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<li id="step-contract" class="done">')
    assert "PO 4471 signed" in page
    assert '<strong data-count="done">1</strong>' in page and 'hx-swap-oob="true"' in page
    assert '<span id="trade-status" class="badge active" hx-swap-oob="true">In progress</span>' in page
    assert "<html" not in page
    step = ChecklistStep.objects.get(trade=cashew_trade, code="contract")
    assert (step.status, step.note, step.updated_by) == (StepStatus.DONE, "PO 4471 signed", cast.exporter)
    event = AuditEvent.objects.filter(action="trade.step_changed").latest("id")
    assert event.changes["status"] == ["todo", "done"]


def test_a_step_update_without_htmx_returns_to_the_trade(client, cast, cashew_trade):
    client.force_login(cast.colleague)
    response = client.post(step_url(cashew_trade, "packing_list"), {"status": "in_progress"})
    assert response.status_code == 302 and response["Location"] == detail(cashew_trade)
    assert ChecklistStep.objects.get(trade=cashew_trade, code="packing_list").status == StepStatus.IN_PROGRESS


def test_an_unknown_status_is_refused_in_the_partial(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(
        step_url(cashew_trade, "contract"), {"status": "not_needed"}, HTTP_HX_REQUEST="true"
    )
    assert 'class="field-errors"' in response.content.decode()
    assert ChecklistStep.objects.get(trade=cashew_trade, code="contract").status == StepStatus.TODO


def test_steps_the_platform_updates_cannot_be_marked_by_hand(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(
        step_url(cashew_trade, "export_declaration"), {"status": "done"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert ChecklistStep.objects.get(trade=cashew_trade, code="export_declaration").status == StepStatus.TODO


def test_read_only_members_cannot_mark_steps(client, cast, cashew_trade):
    client.force_login(cast.viewer)
    response = client.post(step_url(cashew_trade, "contract"), {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert ChecklistStep.objects.get(trade=cashew_trade, code="contract").status == StepStatus.TODO


# -- another organisation's trade ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other", "stranger", "broker"])
def test_a_foreign_trade_is_not_found_and_nothing_changes(client, cast, cashew_trade, who):
    client.force_login(getattr(cast, who))
    pk = cashew_trade.pk
    before = AuditEvent.objects.count()
    assert client.get(detail(cashew_trade)).status_code == 404
    assert client.get(reverse("trades:edit", args=[pk])).status_code == 404
    assert client.post(reverse("trades:edit", args=[pk]), {"direction": "import"}).status_code == 404
    assert client.post(reverse("trades:duplicate", args=[pk])).status_code == 404
    assert client.get(reverse("trades:delete", args=[pk])).status_code == 404
    assert client.post(reverse("trades:delete", args=[pk])).status_code == 404
    assert client.post(step_url(cashew_trade, "contract"), {"status": "done"}).status_code == 404
    assert Trade.objects.count() == 1
    assert Trade.objects.get(pk=pk).status == TradeStatus.DRAFT
    assert ChecklistStep.objects.get(trade_id=pk, code="contract").status == StepStatus.TODO
    assert AuditEvent.objects.count() == before


def test_a_trade_that_does_not_exist_is_not_found(client, cast):
    client.force_login(cast.exporter)
    assert client.get(reverse("trades:detail", args=[999999])).status_code == 404


# -- duplicate and delete --------------------------------------------------------------------------


def test_duplicate_as_a_template_starts_a_new_trade_and_opens_it(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(reverse("trades:duplicate", args=[cashew_trade.pk]))
    copy = Trade.objects.exclude(pk=cashew_trade.pk).get()
    assert response.status_code == 302 and response["Location"] == detail(copy)
    assert copy.reference != cashew_trade.reference and copy.invoice_number == ""
    assert client.get(reverse("trades:duplicate", args=[cashew_trade.pk])).status_code == 405


def test_read_only_members_cannot_duplicate_or_delete(client, cast, cashew_trade):
    client.force_login(cast.viewer)
    assert client.post(reverse("trades:duplicate", args=[cashew_trade.pk])).status_code == 404
    assert client.post(reverse("trades:delete", args=[cashew_trade.pk])).status_code == 404
    assert Trade.objects.count() == 1


def test_deleting_a_draft_asks_for_confirmation_then_deletes_it(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    url = reverse("trades:delete", args=[cashew_trade.pk])
    page = client.get(url).content.decode()
    assert f"Delete draft {cashew_trade.reference}?" in page
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("trades:list")
    assert not Trade.objects.filter(pk=cashew_trade.pk).exists()


def test_a_trade_under_way_is_not_deleted_and_the_page_says_why(client, cast, cashew_trade):
    Trade.objects.filter(pk=cashew_trade.pk).update(status=TradeStatus.ACTIVE)
    client.force_login(cast.exporter)
    response = client.post(reverse("trades:delete", args=[cashew_trade.pk]), follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    assert Trade.objects.filter(pk=cashew_trade.pk).exists()
    assert reverse("trades:delete", args=[cashew_trade.pk]) not in response.content.decode()


# -- language and query count ----------------------------------------------------------------------


def test_the_page_is_in_french_when_the_language_cookie_says_so(client, cast, cashew_trade):
    client.cookies["django_language"] = "fr"
    client.force_login(cast.exporter)
    page = client.get(detail(cashew_trade)).content.decode()
    assert '<html lang="fr">' in page
    assert "Coût, assurance et fret" in page  # the Incoterms rule's French name, from the code list
    for url in (reverse("trades:list"), reverse("trades:create")):
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="fr">' in response.content.decode()


def test_the_page_needs_the_same_queries_for_1_and_10_goods_lines(
    client, cast, exporter_actor, django_assert_max_num_queries
):
    from conftest import cashew_trade_data
    from ismit.trades.services import create_trade

    data = cashew_trade_data()
    trade = create_trade(
        actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data(items=data.items[:1])
    )
    client.force_login(cast.exporter)
    client.get(detail(trade))
    with CaptureQueriesContext(connection) as one_line:
        assert client.get(detail(trade)).status_code == 200
    for n in range(9):
        add_goods_item(
            actor=exporter_actor,
            trade=trade,
            item=GoodsItemData(
                description=f"Kernels lot {n}",
                hs_code="080132" if n % 2 else "080131",
                origin_country="CI",
                quantity="10",
                unit="KGM",
                packages_count=1,
                package_type="BG",
                net_mass_kg="10",
                gross_mass_kg="11",
                unit_price="6",
            ),
        )
    with django_assert_max_num_queries(len(one_line)):
        response = client.get(detail(trade))
    assert len(response.context["items"]) == 10
