"""Events from elsewhere and exceptions: a customs answer (a real ismit.customs DeclarationEvent, received by
the customs app) lands on the timeline of the trade's shipments and raises a hold; a container discharged at
a transshipment port and not loaded again before the vessel leaves raises a missed-connection alert."""

from __future__ import annotations

import pytest

from ismit.accounts.actors import actor_for
from ismit.customs.models import DeclarationEvent
from ismit.customs.tests.support import seed_query
from ismit.tracking import services
from ismit.tracking.models import Alert, AlertKind, Event, EventType
from ismit.tracking.tests.support import event, make_shipment

pytestmark = pytest.mark.django_db


def _post(cast, events):
    return services.post_events(actor=actor_for(cast.exporter), organisation=cast.msme, document=events)


def _call(vessel: str) -> dict:
    return {"transportDetails": {"transportCall": {"vesselTransport": {"vesselName": vessel}}}}


def test_a_customs_answer_goes_on_the_timeline_and_raises_a_hold(
    cast, cashew_trade, django_capture_on_commit_callbacks
):
    shipment = make_shipment(cast.msme, trade=cashew_trade)
    unrelated = make_shipment(cast.msme, reference="OTHER", booking="OTHER-1")
    with django_capture_on_commit_callbacks(execute=True):
        declaration, _query, _message = seed_query(actor_for(cast.exporter), cashew_trade)
    answer = DeclarationEvent.objects.get(declaration=declaration, applied=True)
    events = list(Event.objects.filter(shipment=shipment, source=services.CUSTOMS_SOURCE))
    assert [(e.event_type, e.type_code, e.location) for e in events] == [
        (EventType.CUSTOMS, "query", cashew_trade.place_of_loading_id)
    ]
    assert events[0].event_id == f"declaration-event-{answer.pk}"
    assert not Event.objects.filter(shipment=unrelated).exists()
    holds = Alert.objects.filter(shipment=shipment, kind=AlertKind.CUSTOMS_HOLD)
    assert holds.count() == 1
    # The same answer applied again stores nothing more and raises nothing more.
    assert services.record_customs_event(declaration_event=answer) == []
    assert Event.objects.filter(shipment=shipment, source=services.CUSTOMS_SOURCE).count() == 1
    assert holds.count() == 1


def test_a_container_left_at_the_transshipment_port_is_a_missed_connection(cast):
    shipment = make_shipment(cast.msme)  # Abidjan → Algeciras → Marseille
    _post(
        cast,
        [
            event("m-load", "EQUIPMENT", "LOAD", "ACT", 70, place="CIABJ"),
            event("m-depa-1", "TRANSPORT", "DEPA", "ACT", 74, place="CIABJ", **_call("FEEDER ONE")),
            event("m-arri", "TRANSPORT", "ARRI", "ACT", 170, place="ESALG", **_call("FEEDER ONE")),
            event("m-disc", "EQUIPMENT", "DISC", "ACT", 172, place="ESALG"),
        ],
    )
    assert not Alert.objects.filter(shipment=shipment, kind=AlertKind.MISSED_CONNECTION).exists()
    _post(cast, [event("m-depa-2", "TRANSPORT", "DEPA", "ACT", 200, place="ESALG", **_call("MOTHER TWO"))])
    missed = Alert.objects.get(shipment=shipment, kind=AlertKind.MISSED_CONNECTION)
    assert missed.details["vessel"] == "MOTHER TWO" and "ESALG" in missed.message
    # Told once: the same departure reported again (a duplicate) raises nothing more.
    _post(cast, [event("m-depa-2", "TRANSPORT", "DEPA", "ACT", 200, place="ESALG", **_call("MOTHER TWO"))])
    assert Alert.objects.filter(shipment=shipment, kind=AlertKind.MISSED_CONNECTION).count() == 1


def test_a_container_loaded_again_makes_its_connection(cast):
    shipment = make_shipment(cast.msme)
    _post(
        cast,
        [
            event("c-disc", "EQUIPMENT", "DISC", "ACT", 172, place="ESALG"),
            event("c-load", "EQUIPMENT", "LOAD", "ACT", 190, place="ESALG"),
            event("c-depa", "TRANSPORT", "DEPA", "ACT", 200, place="ESALG", **_call("MOTHER TWO")),
        ],
    )
    assert not Alert.objects.filter(shipment=shipment, kind=AlertKind.MISSED_CONNECTION).exists()
    # A departure from a port that is not a transshipment port is no connection to miss.
    _post(cast, [event("c-depa-pol", "TRANSPORT", "DEPA", "ACT", 74, place="CIABJ")])
    assert not Alert.objects.filter(shipment=shipment, kind=AlertKind.MISSED_CONNECTION).exists()
