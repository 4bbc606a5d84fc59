"""Shared pieces of the JSON API: RFC 9457 problem responses, error handlers, pagination.

Every error the API answers is an `application/problem+json` document:

    {"type": "urn:ismit:problem:validation", "title": "Invalid data", "status": 422,
     "detail": "Some fields are not valid.", "instance": "/api/v1/trades",
     "errors": [{"field": "items[0].hs_code", "message": "Enter the 6-digit HS subheading."}]}

`errors` is present for 422 only; field paths use the notation of the services ("items[2].hs_code",
"seller.country"); `field` is null for an error about the request as a whole. Titles and messages are in
the request's language (Accept-Language, through Django's LocaleMiddleware).
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from pydantic import BaseModel

from ismit.lib.errors import error_dict

logger = logging.getLogger("ismit.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM = "urn:ismit:problem:"
MAX_PAGE_SIZE = 200


class BodySchema(BaseModel):
    """Base of request bodies. ninja's Schema wraps every object it validates, nested ones included, so
    that it can read model instances; a JSON body holds none, and a trade with ten goods lines spent three
    quarters of its parsing in those wrappers."""


# -- problem documents ------------------------------------------------------------------------------


def problem(
    request: HttpRequest,
    *,
    status: int,
    kind: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_problem(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    general = [e["message"] for e in errors if e["field"] is None]
    return problem(
        request,
        status=422,
        kind="validation",
        title=_("Invalid data"),
        detail=" ".join(general) if general else _("Some fields are not valid."),
        errors=errors,
    )


# -- from pydantic's error locations to our field paths ----------------------------------------------

_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_path(loc: tuple | list) -> str | None:
    """("body", "payload", "items", 0, "quantity") -> "items[0].quantity"; the request as a whole -> None."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the handler's parameter name ("payload"), not part of the document
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or None


def _pydantic_message(error: dict[str, Any]) -> str:
    """The message of one pydantic error in the request's language, where we know the error type."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "int_type": _("Enter a whole number."),
        "int_parsing": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "decimal_parsing": _("Enter a number."),
        "decimal_type": _("Enter a number."),
        "decimal_finite_number": _("Enter a number."),
        "float_parsing": _("Enter a number."),
        "float_type": _("Enter a number."),
        "bool_parsing": _("Enter true or false."),
        "bool_type": _("Enter true or false."),
        "string_type": _("Enter a text."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_type": _("Enter a date as YYYY-MM-DD."),
        "list_type": _("Enter a list."),
        "dict_type": _("Enter an object."),
        "model_type": _("Enter an object."),
        "model_attributes_type": _("Enter an object."),
        "extra_forbidden": _("This field is not expected here."),
    }
    if kind in messages:
        return messages[kind]
    if kind == "string_too_long":
        return _("Use at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "too_long":
        return _("Enter at most %(max)s entries.") % {"max": ctx.get("max_length")}
    if kind == "greater_than_equal":
        return _("Enter a value of at least %(min)s.") % {"min": ctx.get("ge")}
    if kind == "greater_than":
        return _("Enter a value greater than %(min)s.") % {"min": ctx.get("gt")}
    if kind == "less_than_equal":
        return _("Enter a value of at most %(max)s.") % {"max": ctx.get("le")}
    if kind == "decimal_max_places":
        return _("Use at most %(places)s decimal places.") % {"places": ctx.get("decimal_places")}
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _("This number is too large.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    return str(error.get("msg", _("This value is not valid.")))


@contextmanager
def errors_relocated(prefix: str, to: str = ""):
    """Move the field paths of a service's ValidationError from under `prefix` to under `to`.

    The services check a lone goods item under "item.…"; where the payload is the item itself, its fields
    are at the top ("hs_code"), as pydantic reports them.
    """
    try:
        yield
    except DjangoValidationError as exc:
        moved: dict[str, list[str]] = {}
        for field, messages in error_dict(exc).items():
            if field == prefix:
                field = to or "__all__"
            elif field.startswith(prefix + ".") or field.startswith(prefix + "["):
                rest = field[len(prefix) :].lstrip(".")
                field = f"{to}.{rest}" if to and not rest.startswith("[") else f"{to}{rest}"
            moved.setdefault(field, []).extend(messages)
        raise DjangoValidationError(moved) from exc


# -- exception handlers -----------------------------------------------------------------------------


def install_problem_handlers(api: NinjaAPI) -> None:
    """Answer every error of `api` with a problem document."""

    @api.exception_handler(DjangoValidationError)
    def service_validation_error(request, exc: DjangoValidationError):
        errors = [
            {"field": None if field == "__all__" else field, "message": message}
            for field, messages in error_dict(exc).items()
            for message in messages
        ]
        return _validation_problem(request, errors)

    @api.exception_handler(NinjaValidationError)
    def schema_validation_error(request, exc: NinjaValidationError):
        errors = []
        for error in exc.errors:
            loc = tuple(error.get("loc", ()))
            if len(loc) == 2 and loc[0] == "body" and error.get("type") == "missing":
                message = _("Send the data as a JSON document in the request body.")
            else:
                message = _pydantic_message(error)
            errors.append({"field": field_path(loc), "message": message})
        return _validation_problem(request, errors)

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return problem(
            request,
            status=404,
            kind="not-found",
            title=_("Not found"),
            detail=_("There is nothing here, or you may not see it."),
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc: PermissionDenied):
        return problem(
            request,
            status=403,
            kind="forbidden",
            title=_("Not allowed"),
            detail=str(exc) or _("You may not do this."),
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        return problem(
            request,
            status=401,
            kind="unauthenticated",
            title=_("Authentication required"),
            detail=_("Send a personal access token as “Authorization: Bearer <token>”, or sign in."),
            headers={"WWW-Authenticate": 'Bearer realm="ismit"'},
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return problem(
            request,
            status=exc.status_code,
            kind="http",
            title=HTTPStatus(exc.status_code).phrase,
            detail=str(exc),
        )

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return problem(
            request,
            status=500,
            kind="server-error",
            title=_("Server error"),
            detail=_("Something went wrong on our side; it has been logged. Try again later."),
        )


@csrf_exempt
def unknown_endpoint(request: HttpRequest) -> HttpResponse:
    return problem(
        request,
        status=404,
        kind="not-found",
        title=_("Not found"),
        detail=_("There is no such API endpoint; see the OpenAPI document."),
    )


class ProblemAPI(NinjaAPI):
    """A NinjaAPI whose unknown paths also answer with a problem document (not Django's HTML 404)."""

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        return [*patterns, re_path(r"^.*$", unknown_endpoint)], app_name, namespace


# -- pagination -------------------------------------------------------------------------------------


class PagePagination(PaginationBase):
    """Page numbers: {count, next, previous, results}; settings.API_PAGE_SIZE a page, at most 200."""

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int | None = Field(None, ge=1, description=f"at most {MAX_PAGE_SIZE}")

    class Output(Schema):
        count: int
        next: str | None
        previous: str | None
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params):
        size = min(pagination.page_size or settings.API_PAGE_SIZE, MAX_PAGE_SIZE)
        offset = (pagination.page - 1) * size
        results = list(queryset[offset : offset + size])
        # A first page that is not full holds everything: no need to count.
        count = len(results) if offset == 0 and len(results) < size else self._items_count(queryset)
        return {
            "count": count,
            "next": _page_url(request, pagination.page + 1) if offset + size < count else None,
            "previous": _page_url(request, pagination.page - 1) if pagination.page > 1 else None,
            "results": results,
        }


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
