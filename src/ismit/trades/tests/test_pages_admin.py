"""The operators' admin of trades: list, search, and a trade with its goods and read-only checklist."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="root@ismit.example", password="x" * 12))
    return client


def test_the_trade_list_searches_by_reference(admin_client, cashew_trade, other_trade):
    url = reverse("admin:trades_trade_changelist")
    assert admin_client.get(url).status_code == 200
    response = admin_client.get(url, {"q": "RVR-77"})
    assert list(response.context["cl"].result_list) == [other_trade]
    response = admin_client.get(url, {"status__exact": "draft", "direction__exact": "export"})
    assert response.context["cl"].result_count == 2


def test_a_trade_shows_its_goods_inline_and_its_checklist_read_only(admin_client, cashew_trade):
    response = admin_client.get(reverse("admin:trades_trade_change", args=[cashew_trade.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cashew kernels W320, shelled" in page
    assert 'name="steps-0-status"' not in page  # steps move through the services, not here
    assert "export_declaration" in page


def test_parties_and_column_mappings_are_listed(admin_client, cashew_trade):
    assert admin_client.get(reverse("admin:trades_party_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:trades_columnmapping_changelist")).status_code == 200


def test_members_without_staff_rights_cannot_open_the_admin(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.get(reverse("admin:trades_trade_change", args=[cashew_trade.pk]))
    assert response.status_code == 302
