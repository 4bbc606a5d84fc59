"""The Requirements panel of a trade: findings by severity, documents, landed cost, the Check button."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from ismit.audit.models import AuditEvent
from ismit.trades.models import GoodsItem

pytestmark = pytest.mark.django_db


def url(trade) -> str:
    return reverse("compliance:requirements", args=[trade.pk])


def test_the_panel_renders_in_french(client, cast, starter_rules, cashew_trade):
    client.force_login(cast.exporter)
    client.cookies["django_language"] = "fr"

    page = client.get(url(cashew_trade)).content.decode()

    assert '<html lang="fr">' in page
    assert escape("Preuve de l'origine pour l'APE UE–Côte d'Ivoire") in page  # the rule's French title
    assert "délivré par la douane ivoirienne" in page  # and its French explanation
    assert escape("Autorisation d'exportation des amandes de cajou") in page
    assert escape("TVA à l'importation en France") in page
    assert 'data-cost="total"' in page and 'data-assumption="cif_basis"' in page
    assert "5,5 %" in page and "5\xa0513,75 EUR" in page  # French numbers: rates and amounts
    assert "https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=OJ:L:2009:059:FULL" in page
    assert "Proof of origin for the EU" not in page


def test_findings_are_grouped_by_severity_with_a_link_to_the_field_to_fix(
    client, cast, starter_rules, cashew_trade
):
    GoodsItem.objects.filter(trade=cashew_trade, line_no=2).update(gross_mass_kg=1)
    client.force_login(cast.exporter)
    client.cookies["django_language"] = "en"

    page = client.get(url(cashew_trade)).content.decode()

    errors, warnings, info = (page.index(f'id="findings-{s}"') for s in ("error", "warning", "info"))
    assert errors < warnings < info
    assert 'data-code="data.gross_below_net"' in page[errors:warnings]
    assert f'href="/trades/{cashew_trade.pk}/edit/#id_items-1-gross_mass_kg"' in page
    assert f'href="/trades/{cashew_trade.pk}/edit/#id_buyer-eori"' in page
    assert "declarations cannot be generated" in page
    documents = page[page.index('id="documents-title"') :]
    assert "861" in documents and "811" in documents


def test_a_read_only_member_sees_the_panel_without_edit_links(client, cast, starter_rules, cashew_trade):
    client.force_login(cast.viewer)

    response = client.get(url(cashew_trade))

    assert response.status_code == 200
    assert "/edit/#" not in response.content.decode()


def test_the_check_button_reruns_the_check_for_htmx_and_audits_it(client, cast, starter_rules, cashew_trade):
    client.force_login(cast.colleague)

    response = client.post(url(cashew_trade), headers={"HX-Request": "true"})

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.startswith('<div id="requirements-results"') and "<html" not in fragment
    assert "Checked just now" in fragment
    event = AuditEvent.objects.get(action="compliance.checked")
    assert (event.organisation_id, event.actor_id, event.changes["via"]) == (
        cast.msme.pk,
        cast.colleague.pk,
        "page",
    )


def test_without_htmx_the_check_button_redirects_back_to_the_panel(client, cast, starter_rules, cashew_trade):
    client.force_login(cast.exporter)

    response = client.post(url(cashew_trade))

    assert response.status_code == 302 and response["Location"] == url(cashew_trade)
    assert AuditEvent.objects.filter(action="compliance.checked").count() == 1


def test_another_tenants_trade_is_not_found_and_nothing_is_audited(client, cast, starter_rules, cashew_trade):
    client.force_login(cast.other)

    assert client.get(url(cashew_trade)).status_code == 404
    assert client.post(url(cashew_trade), headers={"HX-Request": "true"}).status_code == 404
    assert not AuditEvent.objects.filter(action="compliance.checked").exists()


def test_signed_out_visitors_are_sent_to_log_in(client, cashew_trade):
    response = client.get(url(cashew_trade))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
