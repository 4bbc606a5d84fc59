"""The tracking demo: the demo trade's container in transit from Abidjan, its forwarder's DCSA events, an
arrival that slipped by two days; seeded once, however often the command runs."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ismit.accounts.models import Notification, Organisation, User
from ismit.audit.models import AuditEvent
from ismit.tracking import dcsa_messages as dm
from ismit.tracking.models import Alert, Event, Shipment, ShipmentAccess, ShipmentReference
from ismit.tracking.samples import demo_messages
from ismit.trades.models import ChecklistStep

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Shipment, ShipmentReference, ShipmentAccess, Event, Alert, AuditEvent, Notification)
    }


def _seed_tracking() -> str:
    out = io.StringIO()
    call_command("seed_tracking_demo", stdout=out)
    return out.getvalue()


def test_the_demo_shipment_is_in_transit_and_late_and_seeded_once(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=io.StringIO())
    before = timezone.now()
    first = _seed_tracking()
    after_first = _counts()
    second = _seed_tracking()
    assert _counts() == after_first
    assert "created" in first and "7 event(s) stored" in first
    assert "exists" in second and "0 event(s) stored" in second

    exporter = Organisation.objects.get(legal_name="Anacarde Abidjan SARL")
    forwarder = Organisation.objects.get(legal_name="Sahel Freight Forwarding")
    shipment = Shipment.objects.get()
    assert shipment.organisation == exporter and shipment.trade.reference == "DEMO-EXP-0001"
    assert shipment.route == ["CIABJ", "ESALG", "FRMRS"]
    refs = dict(shipment.references.values_list("kind", "value"))
    assert set(refs) == {"BKG", "TRD", "EQ"} and dm.container_fault(refs["EQ"]) is None
    assert ShipmentAccess.objects.get(shipment=shipment).organisation == forwarder

    # In transit when the demo starts: left Abidjan in the past, arrives in the future.
    assert shipment.status == "in_transit"
    assert shipment.planned_departure < before < shipment.planned_arrival
    assert shipment.last_location == "CIABJ" and shipment.last_event_at < before
    assert before - shipment.last_event_at < dt.timedelta(days=3)  # no "no news" alert at once

    events = Event.objects.filter(shipment=shipment)
    assert events.count() == 7  # six events posted, one estimate revised (a second version)
    assert set(events.values_list("posted_by_organisation", flat=True)) == {forwarder.pk}
    assert sorted(events.filter(classifier="ACT").values_list("type_code", flat=True)) == [
        "DEPA",
        "GTIN",
        "GTOT",
        "LOAD",
    ]
    revised = events.get(supersedes__isnull=False)
    assert (revised.type_code, revised.location) == ("ARRI", "FRMRS")

    # The arrival at Marseille slipped by two days: the latest estimate is the ETA, and an alert says so.
    assert shipment.eta_classifier == "EST"
    assert shipment.eta == revised.event_datetime == shipment.planned_arrival + dt.timedelta(days=2)
    assert shipment.eta > before and shipment.delayed
    [alert] = Alert.objects.filter(shipment=shipment)
    assert alert.kind == "delay" and "48 hours after the plan" in alert.message
    msme1 = User.objects.get(email="msme1@demo.ismit.example")
    assert Notification.objects.filter(user=msme1, kind="tracking.delay").count() == 1

    # The trade's checklist moved with the forwarder's actual events.
    steps = {s.code: s for s in ChecklistStep.objects.filter(trade=shipment.trade)}
    for code in ("handover_to_carrier", "departed"):
        assert steps[code].status == "done" and steps[code].acting_organisation == forwarder
    assert steps["arrived"].status != "done"

    client.force_login(msme1)
    html = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert 'class="alert delay"' in html and "48 hours later than planned" in html


def test_the_demo_messages_follow_the_standard(shared_refdata):
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((shared_refdata / "dcsa-tnt" / "TNT_v3.0.0.yaml").read_text())
    schema = {"$ref": "#/components/schemas/PostEventsRequest", "components": spec["components"]}
    departure = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    messages = demo_messages(departure)
    for message in messages:
        jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
            {"events": message}
        )
    parsed = [p for message in messages for p in dm.parse_events({"events": message})]
    assert [(p.type_code, p.classifier, p.location) for p in parsed] == [
        ("GTOT", "ACT", "CIABJ"),
        ("GTIN", "ACT", "CIABJ"),
        ("LOAD", "ACT", "CIABJ"),
        ("DEPA", "ACT", "CIABJ"),
        ("ARRI", "EST", "ESALG"),
        ("ARRI", "EST", "FRMRS"),
        ("ARRI", "EST", "FRMRS"),
    ]
    assert parsed[-1].event_id == parsed[-2].event_id  # a new version of the estimate
    assert parsed[-1].event_updated_at > parsed[-2].event_updated_at
    assert all(p.event_datetime < departure + dt.timedelta(days=2) for p in parsed if p.classifier == "ACT")
    assert json.dumps(messages) == json.dumps(demo_messages(departure))  # the same events every time


def test_it_needs_the_demo_trade(settings):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_tracking_demo", stdout=io.StringIO())
    assert not Shipment.objects.exists()


def test_an_alert_reads_in_each_readers_language(settings):
    from django.utils import translation

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=io.StringIO())
    _seed_tracking()
    alert = Alert.objects.get(kind="delay")
    assert alert.message.startswith("DEMO-EXP-0001: arrival now expected")  # stored in the default language
    with translation.override("fr"):
        french = alert.localized_message
    with translation.override("en"):
        english = alert.localized_message
    assert french.startswith("DEMO-EXP-0001 : arrivée désormais attendue le") and "48 heures" in french
    assert english.startswith("DEMO-EXP-0001: arrival now expected") and "48 hours" in english
    assert "T" not in french.split("le ", 1)[1].split(",")[0]  # a local date, not an ISO timestamp
