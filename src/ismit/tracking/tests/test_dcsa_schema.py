"""The DCSA API checked against the standard's own OpenAPI document (the shared refdata copy of
TNT_v3.0.0.yaml): its sample requests are accepted, and every answer (events, feedback, errors) validates
against the component schema the specification names for it. Validation: jsonschema (Draft 4 rules, which
OpenAPI 3.0's schema objects follow) with the document's components as the $ref target."""

from __future__ import annotations

import json

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

from ismit.tracking.models import Event  # noqa: E402
from ismit.tracking.tests.support import bearer, make_shipment, voyage  # noqa: E402

pytestmark = pytest.mark.django_db
URL = "/dcsa/tnt/v3/events"
JSON = "application/json"
EXAMPLES = ("equipment", "shipment", "transport", "iot", "reefer")


@pytest.fixture(scope="module")
def spec(shared_refdata):
    return yaml.safe_load((shared_refdata / "dcsa-tnt" / "TNT_v3.0.0.yaml").read_text())


def check(spec: dict, component: str, document) -> None:
    schema = {"$ref": f"#/components/schemas/{component}", "components": spec["components"]}
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


def example(shared_refdata, name: str) -> dict:
    return json.loads((shared_refdata / "dcsa-tnt" / "examples" / f"tnt-300-request-{name}.json").read_text())


def test_the_standards_sample_requests_are_accepted(client, cast, spec, shared_refdata):
    make_shipment(cast.msme, route=["DEHAM", "NLRTM"])
    headers = bearer(cast.exporter, cast.msme)
    accepted = 0
    for name in EXAMPLES:
        body = example(shared_refdata, name)
        check(spec, "PostEventsRequest", body)
        answer = client.post(URL, body, content_type=JSON, headers=headers)
        assert answer.status_code == 200, (name, answer.content)
        check(spec, "PostEventsResponse", answer.json())
        accepted += len(body["events"])
    assert Event.objects.count() == accepted == len(EXAMPLES)


def test_the_feed_answers_validate(client, cast, spec):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    posted = client.post(URL, {"events": voyage()}, content_type=JSON, headers=headers)
    check(spec, "PostEventsResponse", posted.json())
    answer = client.get(URL, {"equipmentReference": "APZU4812090", "limit": 3}, headers=headers)
    assert answer.status_code == 200 and answer["API-Version"] == "3.0.0"
    check(spec, "GetEventsResponse", answer.json())
    assert len(answer.json()["events"]) == 3 and answer.headers.get("Next-Page-Cursor")
    bad = client.get(URL, {"eventUpdatedDateTimeMin": "yesterday"}, headers=headers)
    assert bad.status_code == 400
    check(spec, "GetEventsError", bad.json())


def test_what_breaks_the_schema_is_refused_with_a_valid_error(client, cast, spec):
    make_shipment(cast.msme)
    headers = bearer(cast.exporter, cast.msme)
    broken = voyage()[:2]
    broken[1] = {**broken[1], "eventID": 42, "eventLocation": {"UNLocationCode": "CIABJX"}}
    with pytest.raises(jsonschema.ValidationError):
        check(spec, "PostEventsRequest", {"events": broken})
    answer = client.post(URL, {"events": broken}, content_type=JSON, headers=headers)
    assert answer.status_code == 400
    check(spec, "PostEventsError", answer.json())
    paths = {f["propertyPath"] for f in answer.json()["feedbackElements"]}
    assert {"$.events[1].eventID", "$.events[1].eventLocation.UNLocationCode"} <= paths
    assert Event.objects.count() == 0
