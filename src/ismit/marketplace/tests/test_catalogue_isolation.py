"""Another organisation's hidden catalogue data answers 404 on every page and endpoint that names it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.accounts.services import create_api_token
from ismit.marketplace.models import Provider, ServiceOffering
from ismit.marketplace.tests.support import make_hidden_offering, make_suspended_provider
from ismit.marketplace.tests.test_catalogue_api import body

pytestmark = pytest.mark.django_db


def valid_body(path: str) -> dict:
    """A body the endpoint would accept, so that only the object's visibility can refuse it."""
    if path.endswith("/lanes"):
        return {"origin_country": "CI", "destination_country": "FR"}
    if "/rate-lines" in path:
        return {"code": "X", "basis": "shipment", "amount": "1"}
    if path.endswith("/price"):
        return {"gross_mass_kg": "100"}
    if path.rsplit("/", 1)[-1].isdigit() and "/offerings/" in path:
        return body()
    return {"reason": "taken over"}


def test_pages_answer_404_for_a_hidden_offering_and_a_suspended_provider(client, cast):
    offering = make_hidden_offering(cast.forwarder_org)
    make_suspended_provider(cast.broker_org)
    client.force_login(cast.other)
    for name in ("edit", "toggle", "price", "offering_csv"):
        path = reverse(f"catalogue:{name}", args=[offering.pk])
        assert client.get(path).status_code in (404, 405)
        assert client.post(path, {"name": "taken over", "reason": "x"}).status_code in (404, 405)
    assert client.get(reverse("catalogue:provider", args=[cast.broker_org.pk])).status_code == 404
    standing = reverse("catalogue:provider_standing", args=[cast.broker_org.pk])
    for action in ("suspend", "reinstate", "exit", "leave"):
        assert client.post(standing, {"action": action, "reason": "x"}).status_code == 404
    offering.refresh_from_db()
    assert offering.name == "Inactive offering" and not offering.active
    assert Provider.objects.get(organisation=cast.broker_org).status == "suspended"


def test_api_answers_404_for_a_hidden_offering_and_a_suspended_provider(client, cast):
    offering = make_hidden_offering(cast.forwarder_org)
    make_suspended_provider(cast.broker_org)
    _t, key = create_api_token(user=cast.other, name="t")
    headers = {"Authorization": f"Bearer {key}"}
    base = f"/api/v1/marketplace/offerings/{offering.pk}"
    lane, line = offering.lanes.get(), offering.rate_lines.first()
    calls = [
        ("get", base),
        ("put", base),
        ("post", f"{base}/deactivate"),
        ("post", f"{base}/activate"),
        ("post", f"{base}/lanes"),
        ("delete", f"{base}/lanes/{lane.pk}"),
        ("post", f"{base}/rate-lines"),
        ("put", f"{base}/rate-lines/{line.pk}"),
        ("delete", f"{base}/rate-lines/{line.pk}"),
        ("post", f"{base}/price"),
        ("get", f"{base}/rates.csv"),
        ("put", f"{base}/rates.csv"),
        ("get", f"/api/v1/marketplace/providers/{cast.broker_org.pk}"),
        ("post", f"/api/v1/marketplace/providers/{cast.broker_org.pk}/suspend"),
        ("post", f"/api/v1/marketplace/providers/{cast.broker_org.pk}/reinstate"),
        ("post", f"/api/v1/marketplace/providers/{cast.broker_org.pk}/exit"),
    ]
    for method, path in calls:
        answer = getattr(client, method)(
            path, valid_body(path), content_type="application/json", headers=headers
        )
        assert answer.status_code == 404, (method, path, answer.status_code)
    offering.refresh_from_db()
    assert offering.lanes.count() == 1 and offering.rate_lines.count() == 3
    assert ServiceOffering.objects.get(pk=offering.pk).active is False
    assert Provider.objects.get(organisation=cast.broker_org).status == "suspended"
