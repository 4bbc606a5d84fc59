"""The provider portal's catalogue pages, the providers' directory and profile, operators' actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ismit.marketplace.models import Provider, ServiceOffering
from ismit.marketplace.tests.support import make_offering

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"catalogue:{name}", args=args)


def form(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "name": "Air Abidjan–Paris",
        "service_type": "carriage",
        "currency": "EUR",
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=60)).isoformat(),
        "modes": ["4"],
        "transit_days": "2",
        "origin_country": ["CI", ""],
        "origin_location": ["CIABJ", ""],
        "destination_country": ["FR", ""],
        "destination_location": ["FRCDG", ""],
        "rate_code": ["AFR", "SEC", ""],
        "rate_description": ["Air freight", "Security", ""],
        "rate_basis": ["kg", "kg", "shipment"],
        "rate_amount": ["2.10", "0.15", ""],
        "rate_surcharge": ["1"],
    }
    data.update(overrides)
    return data


def test_a_provider_publishes_from_the_form_and_sees_its_catalogue(client, cast):
    client.force_login(cast.forwarder)
    assert client.get(url("new")).status_code == 200
    answer = client.post(url("new"), form())
    assert answer.status_code == 302
    offering = ServiceOffering.objects.get(organisation=cast.forwarder_org)
    assert [(r.code, r.is_surcharge) for r in offering.rate_lines.order_by("id")] == [
        ("AFR", False),
        ("SEC", True),
    ]
    assert [str(lane) for lane in offering.lanes.all()] == ["CIABJ→FRCDG"]
    page = client.get(url("list")).content.decode()
    assert f'data-offering="{offering.pk}"' in page and "Air Abidjan–Paris" in page
    edit = client.get(url("edit", offering.pk)).content.decode()
    assert 'value="AFR"' in edit and "Price a sample cargo" in edit


def test_form_errors_are_shown_beside_the_fields_and_nothing_is_saved(client, cast):
    client.force_login(cast.forwarder)
    answer = client.post(
        url("new"),
        form(
            name="",
            destination_location=["FRMRS", "XXYYY"],
            destination_country=["FR", "FR"],
            rate_amount=["abc", "0.15", ""],
        ),
    )
    assert answer.status_code == 422
    html = answer.content.decode()
    assert (
        "This field is required." in html
        and "Enter a number." in html
        and "Choose a UN/LOCODE place." in html
    )
    assert not ServiceOffering.objects.exists()


def test_price_a_sample_cargo_partial(client, cast):
    offering = make_offering(cast.forwarder_org)
    client.force_login(cast.forwarder)
    answer = client.post(url("price", offering.pk), {"gross_mass_kg": "100"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert answer.status_code == 200 and 'data-total="185.00"' in html and "Minimum charge" in html
    nothing = client.post(url("price", offering.pk), {"gross_mass_kg": "0"}).content.decode()
    assert "cannot price" in nothing


def test_csv_upload_lists_row_errors_and_a_good_file_imports(client, cast):
    offering = make_offering(cast.forwarder_org)
    client.force_login(cast.forwarder)
    exported = client.get(url("export"))
    assert exported.status_code == 200 and b"FRT" in exported.content
    bad = SimpleUploadedFile("rates.csv", exported.content.replace(b"0.45", b"lots"), content_type="text/csv")
    answer = client.post(url("import"), {"file": bad})
    assert answer.status_code == 422
    assert 'id="import-errors"' in answer.content.decode() and "lots" in answer.content.decode()
    good = SimpleUploadedFile(
        "rates.csv", exported.content.replace(b"0.45", b"0.50"), content_type="text/csv"
    )
    assert client.post(url("import"), {"file": good}).status_code == 302
    assert str(offering.rate_lines.get(code="FRT").amount) == "0.5000"


def test_the_catalogue_is_a_provider_portal_and_offerings_are_their_providers(client, cast):
    offering = make_offering(cast.forwarder_org)
    client.force_login(cast.exporter)
    assert client.get(url("list")).status_code == 404
    assert client.get(url("edit", offering.pk)).status_code == 403  # seen (public), not changed
    assert client.post(url("toggle", offering.pk)).status_code == 403
    client.force_login(cast.broker)
    assert client.post(url("edit", offering.pk), form()).status_code == 403
    offering.active = False
    offering.save()
    assert client.get(url("edit", offering.pk)).status_code == 404
    client.force_login(cast.forwarder)
    assert client.post(url("toggle", offering.pk)).status_code == 302
    offering.refresh_from_db()
    assert offering.active


def test_directory_and_profile_with_the_formula(client, cast):
    make_offering(cast.forwarder_org)
    client.force_login(cast.stranger)
    page = client.get(url("providers")).content.decode()
    assert f'data-provider="{cast.forwarder_org.pk}"' in page
    profile = client.get(url("provider", cast.forwarder_org.pk))
    html = profile.content.decode()
    assert profile.status_code == 200 and "How the score is computed" in html
    assert 'data-component="on_time"' in html and 'data-component="claims"' in html
    assert "operator-actions" not in html
    assert client.get(url("provider", cast.msme.pk)).status_code == 404


def test_operator_suspends_and_reinstates_from_the_profile(client, cast):
    make_offering(cast.forwarder_org)
    client.force_login(cast.exporter)
    standing = url("provider_standing", cast.forwarder_org.pk)
    assert client.post(standing, {"action": "suspend", "reason": "x"}).status_code == 403
    client.force_login(cast.operator)
    assert "operator-actions" in client.get(url("provider", cast.forwarder_org.pk)).content.decode()
    client.post(standing, {"action": "suspend", "reason": ""})
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "active"  # a reason is required
    client.post(standing, {"action": "suspend", "reason": "Insurance certificate expired"})
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "suspended"
    client.force_login(cast.exporter)
    assert client.get(url("provider", cast.forwarder_org.pk)).status_code == 404
    client.force_login(cast.operator)
    client.post(standing, {"action": "reinstate", "reason": "Renewed"})
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "active"


def test_the_owner_leaves_from_its_profile(client, cast):
    make_offering(cast.forwarder_org)
    client.force_login(cast.forwarder)
    assert 'id="leave"' in client.get(url("provider", cast.forwarder_org.pk)).content.decode()
    client.post(url("provider_standing", cast.forwarder_org.pk), {"action": "leave", "reason": ""})
    assert Provider.objects.get(organisation=cast.forwarder_org).status == "left"


def test_the_profile_shows_the_measured_kpis_and_the_score(client, cast):
    from decimal import Decimal

    from ismit.marketplace.quality import score_from

    make_offering(cast.forwarder_org)
    components = {"on_time": (8.0, 10), "rating": (1.5, 2)}
    Provider.objects.filter(organisation=cast.forwarder_org).update(
        quality_score=score_from(components),
        kpis={
            "on_time_rate": 0.8,
            "on_time_observations": 10,
            "mean_rating": 4.0,
            "ratings": 2,
            "median_response_hours": 3.5,
            "invitations_answered": 4,
            "components": {"on_time": {"observations": 10, "shrunk": 0.7}},
        },
        kpis_at=timezone.now(),
    )
    client.force_login(cast.exporter)
    html = client.get(url("provider", cast.forwarder_org.pk)).content.decode()
    assert "80 % (10)" in html and "4.0 / 5 (2)" in html and "3.5 h (4)" in html
    assert score_from(components) == Decimal("57.79")  # 30 × 0.7 + 25 × 4/7 + 45 × 0.5
    assert "57.8" in html
