"""The DCSA Track & Trace 3.0 API of the platform, at /dcsa/tnt/v3 (mounted by ismit/config/urls.py).

- `GET /events`: the events of the shipments the caller sees (filters carrierBookingReference,
  transportDocumentReference, equipmentReference, eventTypes, eventUpdatedDateTimeMin/Max; `limit` and
  `cursor`, the next page's cursor in the `Next-Page-Cursor` header);
- `POST /events`: carriers and forwarders send events — `{"events": [...]}` as the standard has it, a JSON
  array, or one event. All or nothing: 400 with `feedbackElements` naming each fault (JSONPath) when the
  message breaks the standard, 404 when an event finds no shipment the sender may report on (its own
  organisation's, or one it is authorised on); 200 with feedback (duplicates, older versions) otherwise;
- `POST/GET /event-subscriptions`, `GET/PUT/DELETE /event-subscriptions/{subscriptionID}`,
  `PUT /event-subscriptions/{subscriptionID}/secret`: a callback URL, filters and a secret; matching events
  are POSTed there as `{"events": [...]}` with `Notification-Signature: sha256=<hex HMAC-SHA256 of the
  body>`, retried with backoff.

Same bearer tokens as /api/v1. Every answer carries `API-Version: 3.0.0`. Errors are JSON documents with the
standard's `feedbackElements` and the RFC 9457 members (type, title, status, detail, instance).
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from ismit.accounts.api import AUTH, actor_of, organisation_for_write
from ismit.lib.errors import error_dict
from ismit.tracking import dcsa_messages as dm
from ismit.tracking import queries, services

logger = logging.getLogger("ismit.tracking.dcsa")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
JSON_TYPE = "application/json"
PROBLEM = "urn:ismit:problem:"


def answer(body, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=JSON_TYPE)
    response["API-Version"] = dm.API_VERSION
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error(
    request: HttpRequest,
    status: int,
    kind: str,
    title: str,
    feedback: list[dict],
    headers: dict | None = None,
) -> HttpResponse:
    detail = " ".join(
        f"{f.get('propertyPath')}: {f['message']}" if f.get("propertyPath") else f["message"]
        for f in feedback[:5]
    )
    body = {
        "type": PROBLEM + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "feedbackElements": feedback,
    }
    return answer(body, status, headers)


def _feedback(message: str, path: str | None = None) -> dict:
    out = {"severity": "ERROR", "message": message}
    if path:
        out["propertyPath"] = path
    return out


api = NinjaAPI(
    title="ISMIT DCSA Track & Trace",
    version=dm.API_VERSION,
    description=__doc__,
    urls_namespace="dcsa",
    auth=AUTH,
    docs_url=None,
    openapi_url="/openapi.json",
)


@api.exception_handler(dm.InvalidMessage)
def invalid_message(request, exc: dm.InvalidMessage):
    return error(request, 400, "dcsa-invalid", "Invalid message", [f.as_feedback() for f in exc.faults])


@api.exception_handler(services.NoShipment)
def no_shipment(request, exc: services.NoShipment):
    return error(request, 404, "not-found", "Not found", [f.as_feedback() for f in exc.faults])


@api.exception_handler(DjangoValidationError)
def invalid_data(request, exc: DjangoValidationError):
    feedback = [
        _feedback(message, None if path == "__all__" else f"$.{path}")
        for path, messages in error_dict(exc).items()
        for message in messages
    ]
    return error(request, 400, "validation", "Invalid data", feedback)


@api.exception_handler(NinjaValidationError)
def invalid_parameters(request, exc: NinjaValidationError):
    feedback = [
        _feedback(str(e.get("msg", "Invalid value.")), ".".join(map(str, e.get("loc", ()))))
        for e in exc.errors
    ]
    return error(request, 400, "validation", "Invalid data", feedback)


@api.exception_handler(Http404)
def not_found(request, exc):
    return error(
        request, 404, "not-found", "Not found", [_feedback("There is nothing here, or you may not see it.")]
    )


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return error(request, 403, "forbidden", "Not allowed", [_feedback(str(exc) or "You may not do this.")])


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return error(
        request,
        401,
        "unauthenticated",
        "Authentication required",
        [_feedback("Send a personal access token as “Authorization: Bearer <token>”.")],
        {"WWW-Authenticate": 'Bearer realm="ismit"'},
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return error(request, exc.status_code, "http", "Error", [_feedback(str(exc))])


@api.exception_handler(Exception)
def server_error(request, exc):
    logger.exception("DCSA API error on %s %s", request.method, request.path, exc_info=exc)
    return error(
        request, 500, "server-error", "Server error", [_feedback("Something went wrong on our side.")]
    )


def _body(request: HttpRequest):
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise dm.InvalidMessage([dm.Fault("$", f"The body is not JSON: {exc}")])


# -- events -------------------------------------------------------------------------------------------------

FEED_PARAMS = (
    "carrierBookingReference",
    "transportDocumentReference",
    "equipmentReference",
    "eventTypes",
    "eventUpdatedDateTimeMin",
    "eventUpdatedDateTimeMax",
)


@api.get("/events", operation_id="get-events", summary="Retrieves a list of events")
def get_events(request):
    params = {name: request.GET[name] for name in FEED_PARAMS if request.GET.get(name)}
    faults = []
    times = {}
    for name in ("eventUpdatedDateTimeMin", "eventUpdatedDateTimeMax"):
        if name in params:
            times[name] = dm.parse_time(params[name])
            if times[name] is None:
                faults.append(_feedback("Expected an RFC 3339 date-time with its offset.", name))
    types = [t.strip() for t in params.get("eventTypes", "").split(",") if t.strip()]
    unknown = set(types) - {*dm.EVENT_TYPES, "CUSTOMS", "PLATFORM"}
    if unknown:
        faults.append(_feedback(f"Unknown event types: {', '.join(sorted(unknown))}.", "eventTypes"))
    limit = DEFAULT_LIMIT
    if request.GET.get("limit"):
        try:
            limit = int(request.GET["limit"])
            if limit < 1:
                raise ValueError
        except ValueError:
            faults.append(_feedback("Expected a positive whole number.", "limit"))
    after = 0
    if request.GET.get("cursor"):
        try:
            after = queries.read_cursor(request.GET["cursor"], params)
        except queries.BadCursor as exc:
            faults.append(_feedback(str(exc), "cursor"))
    if faults:
        return error(request, 400, "validation", "Invalid query", faults)
    events, last = queries.event_feed(
        actor_of(request),
        booking=params.get("carrierBookingReference", ""),
        transport_document=params.get("transportDocumentReference", ""),
        equipment=params.get("equipmentReference", ""),
        event_types=types,
        updated_min=times.get("eventUpdatedDateTimeMin"),
        updated_max=times.get("eventUpdatedDateTimeMax"),
        after_pk=after,
        limit=min(limit, MAX_LIMIT),
    )
    headers = {"Next-Page-Cursor": queries.make_cursor(last, params)} if last else {}
    return answer({"events": events}, 200, headers)


@api.post("/events", operation_id="post-events", summary="Sends a list of events")
def post_events(request):
    actor = actor_of(request)
    organisation = organisation_for_write(request)
    result = services.post_events(actor=actor, organisation=organisation, document=_body(request))
    feedback = list(result.feedback)
    if result.duplicates:
        feedback.append(
            {
                "severity": "INFO",
                "message": f"{result.duplicates} event(s) received already: not stored again.",
            }
        )
    feedback.append({"severity": "INFO", "message": f"{len(result.stored)} event(s) stored."})
    return answer({"feedbackElements": feedback})


# -- subscriptions ---------------------------------------------------------------------------------


def _subscription_out(sub) -> dict:
    return {"subscriptionID": str(sub.subscription_id), "callbackUrl": sub.callback_url, **sub.filters}


def _object(request: HttpRequest, expected: str) -> dict:
    body = _body(request)
    if not isinstance(body, dict):
        raise dm.InvalidMessage([dm.Fault("$", f"Expected an object with {expected}.")])
    return body


@api.post("/event-subscriptions", summary="Create a subscription")
def create_subscription(request):
    body = _object(request, "callbackUrl and secret")
    filters = {k: v for k, v in body.items() if k not in ("callbackUrl", "secret")}
    sub = services.create_subscription(
        actor=actor_of(request),
        organisation=organisation_for_write(request),
        callback_url=body.get("callbackUrl"),
        secret=body.get("secret"),
        filters=filters,
    )
    return answer(_subscription_out(sub), 201)


@api.get("/event-subscriptions", summary="Your subscriptions")
def list_subscriptions(request):
    return answer([_subscription_out(s) for s in queries.subscriptions_visible_to(actor_of(request))])


@api.get("/event-subscriptions/{subscription_id}", summary="One subscription")
def get_subscription(request, subscription_id: str):
    return answer(_subscription_out(queries.get_subscription_for(actor_of(request), subscription_id)))


@api.put("/event-subscriptions/{subscription_id}", summary="Change a subscription's callback and filters")
def update_subscription(request, subscription_id: str):
    actor = actor_of(request)
    sub = queries.get_subscription_for(actor, subscription_id)
    body = _object(request, "callbackUrl and the filters")
    if str(body.get("subscriptionID", sub.subscription_id)) != str(sub.subscription_id):
        raise dm.InvalidMessage(
            [dm.Fault("$.subscriptionID", "It differs from the subscription of the URL.")]
        )
    if "secret" in body:
        raise dm.InvalidMessage([dm.Fault("$.secret", "Change the secret with PUT .../secret.")])
    filters = {k: v for k, v in body.items() if k not in ("callbackUrl", "subscriptionID")}
    sub = services.update_subscription(
        actor=actor, subscription=sub, callback_url=body.get("callbackUrl"), filters=filters
    )
    return answer(_subscription_out(sub))


@api.put("/event-subscriptions/{subscription_id}/secret", summary="Change a subscription's secret")
def change_subscription_secret(request, subscription_id: str):
    actor = actor_of(request)
    sub = queries.get_subscription_for(actor, subscription_id)
    body = _object(request, "secret")
    services.change_subscription_secret(actor=actor, subscription=sub, secret=body.get("secret"))
    return _no_content()


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    response["API-Version"] = dm.API_VERSION
    return response


@api.delete("/event-subscriptions/{subscription_id}", summary="Stop a subscription")
def delete_subscription(request, subscription_id: str):
    actor = actor_of(request)
    sub = queries.get_subscription_for(actor, subscription_id)
    services.delete_subscription(actor=actor, subscription=sub)
    return _no_content()


@csrf_exempt
def unknown_endpoint(request):
    return error(request, 404, "not-found", "Not found", [_feedback("There is no such DCSA endpoint.")])


def urls():
    patterns, app_name, namespace = api.urls
    return [*patterns, re_path(r"^.*$", unknown_endpoint)], app_name, namespace
