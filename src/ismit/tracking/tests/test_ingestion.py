"""Events posted to /dcsa/tnt/v3/events: out of order and twice, corrections, faults, who may post."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.tracking import services
from ismit.tracking.models import Event, ShipmentStatus
from ismit.tracking.queries import timeline
from ismit.tracking.tests.support import START, bearer, event, make_shipment, voyage

pytestmark = pytest.mark.django_db
URL = "/dcsa/tnt/v3/events"
JSON = "application/json"


def post(client, headers, body):
    return client.post(URL, body, content_type=JSON, headers=headers)


def test_events_out_of_order_and_twice_give_the_right_timeline_and_eta(client, cast):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    events = voyage()
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    # the later estimate first, then everything (again), one by one and as a batch
    assert post(client, headers, {"events": shuffled[:3]}).status_code == 200
    for one in reversed(events):
        answer = post(client, headers, one)
        assert answer.status_code == 200, answer.content
        assert answer["API-Version"] == "3.0.0"
    again = post(client, headers, events)  # a bare JSON array
    assert again.status_code == 200
    assert "6 event(s) received already" in str(again.json()["feedbackElements"])

    assert Event.objects.filter(shipment=shipment).count() == len(events)
    shipment.refresh_from_db()
    assert [e.event_id for e in timeline(shipment)] == [e["eventID"] for e in events[:4]] + [
        "e-eta-1",
        "e-eta-2",
    ]
    # the ETA is the estimate issued last (updated at +200 h), not the one received last
    assert shipment.eta == START + dt.timedelta(hours=72 + 270)
    assert shipment.eta_classifier == "EST"
    assert shipment.delayed  # 30 hours after the plan; threshold 24
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    assert shipment.last_location == "CIABJ"


def test_an_older_estimate_arriving_late_does_not_move_the_eta(client, cast):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    late, early = voyage()[5], voyage()[4]
    assert post(client, headers, [late]).status_code == 200
    assert post(client, headers, [early]).status_code == 200
    shipment.refresh_from_db()
    assert shipment.eta == START + dt.timedelta(hours=72 + 270)


def test_a_correction_supersedes_and_a_retraction_removes(client, cast, settings):
    settings.TRACKING_DELAY_HOURS = 24
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    first = event("e-eta", "TRANSPORT", "ARRI", "EST", 72 + 300, updated=90, place="FRMRS")
    corrected = event("e-eta", "TRANSPORT", "ARRI", "EST", 72 + 245, updated=95, place="FRMRS")
    assert post(client, headers, [first]).status_code == 200
    shipment.refresh_from_db()
    assert shipment.delayed
    assert post(client, headers, [corrected]).status_code == 200
    shipment.refresh_from_db()
    assert shipment.eta == START + dt.timedelta(hours=72 + 245) and not shipment.delayed
    versions = list(Event.objects.filter(event_id="e-eta").order_by("event_updated_at"))
    assert len(versions) == 2 and versions[1].supersedes_id == versions[0].pk  # the first one is kept
    assert [e.event_datetime for e in timeline(shipment)] == [versions[1].event_datetime]
    retract = {"eventID": "e-eta", "isRetracted": True, "eventUpdatedDateTime": "2026-01-20T00:00:00Z"}
    assert post(client, headers, {"events": [retract]}).status_code == 200
    assert timeline(shipment) == []
    shipment.refresh_from_db()
    assert shipment.eta is None


def test_a_message_that_breaks_the_standard_is_refused_naming_the_fault_and_nothing_is_stored(client, cast):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    audit_before = AuditEvent.objects.count()
    bad_container = event("e-2", "EQUIPMENT", "LOAD", "ACT", 70, place="CIABJ", container="APZU4812091")
    bad_code = event("e-3", "TRANSPORT", "DEPA", "ACT", 74, place="CIABJ")
    bad_code["eventClassification"]["transportEventTypeCode"] = "GONE"
    answer = post(
        client, headers, {"events": [voyage()[0], bad_container, bad_code, {"eventDateTime": "yesterday"}]}
    )
    assert answer.status_code == 400
    paths = {f["propertyPath"] for f in answer.json()["feedbackElements"]}
    assert paths == {
        "$.events[1].equipmentDetails.equipmentReference",
        "$.events[2].eventClassification.transportEventTypeCode",
        "$.events[3].eventID",
    }
    assert "check digit" in answer.json()["detail"]
    assert Event.objects.count() == 0 and AuditEvent.objects.count() == audit_before
    assert post(client, headers, b"{not json").status_code == 400
    assert post(client, headers, {"events": []}).status_code == 400


def test_an_unknown_reference_refuses_the_whole_batch(client, cast):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    stray = event("e-x", "SHIPMENT", "CONF", "ACT", 1, booking="NOT-OURS")
    answer = post(client, headers, [voyage()[0], stray])
    assert answer.status_code == 404
    assert answer.json()["feedbackElements"][0]["propertyPath"] == "$.events[1].shipmentDetails"
    assert Event.objects.count() == 0


def test_a_provider_posts_only_where_the_owner_authorised_it(client, cast, carrier_org):
    shipment = make_shipment(cast.msme)
    headers = bearer(cast.carrier, carrier_org)
    assert post(client, headers, voyage()).status_code == 404
    assert Event.objects.count() == 0
    access = services.grant_access(
        actor=actor_for(cast.exporter), shipment=shipment, organisation=carrier_org
    )
    answer = post(client, headers, voyage())
    assert answer.status_code == 200, answer.content
    assert Event.objects.filter(shipment=shipment, source=f"org:{carrier_org.pk}").count() == 6
    # the carrier sees the shipment's events; another MSME does not
    assert len(client.get(URL, headers=headers).json()["events"]) == 6
    assert client.get(URL, headers=bearer(cast.other, cast.other_msme)).json()["events"] == []
    assert client.get(f"/api/v1/shipments/{shipment.pk}", headers=bearer(cast.other)).status_code == 404
    services.revoke_access(actor=actor_for(cast.exporter), access=access)
    assert post(client, headers, [event("e-late", "SHIPMENT", "CONF", "ACT", 1)]).status_code == 404


def test_a_read_only_member_cannot_post_and_a_stranger_must_authenticate(client, cast):
    make_shipment(cast.msme)
    assert post(client, bearer(cast.viewer, cast.msme), voyage()).status_code == 403
    assert post(client, {}, voyage()).status_code == 401


def test_events_move_the_trade_checklist(client, cast, cashew_trade):
    shipment = make_shipment(cast.msme, trade=cashew_trade, route=["CIABJ", "ESALG", "FRMRS"])
    headers = bearer(cast.exporter, cast.msme)
    arrival = event("e-arri", "TRANSPORT", "ARRI", "ACT", 72 + 263, place="FRMRS")
    assert post(client, headers, [*voyage(), arrival]).status_code == 200
    steps = dict(cashew_trade.steps.values_list("code", "status"))
    for code in ("handover_to_carrier", "departed", "arrived"):
        if code in steps:
            assert steps[code] == "done", code
    assert steps.get("departed") == "done"
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.ARRIVED and shipment.eta_classifier == "ACT"


def test_the_feed_pages_with_a_cursor(client, cast):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    post(client, headers, voyage())
    seen, cursor = [], None
    for _ in range(5):
        query = {"carrierBookingReference": "ABC709951", "limit": 4, **({"cursor": cursor} if cursor else {})}
        answer = client.get(URL, query, headers=headers)
        assert answer.status_code == 200
        seen += [e["eventID"] for e in answer.json()["events"]]
        cursor = answer.headers.get("Next-Page-Cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(e["eventID"] for e in voyage())
    changed = client.get(URL, {"carrierBookingReference": "OTHER", "cursor": "x"}, headers=headers)
    assert changed.status_code == 400
