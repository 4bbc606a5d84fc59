"""Pages of the refdata app: the autocomplete options behind the code fields of the forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ismit.refdata import queries


@dataclass(frozen=True)
class Option:
    code: str
    label: str


def _hs(q: str, request: HttpRequest) -> list[Option]:
    return [Option(h.code, h.description) for h in queries.search_hs(q)]


def _locations(q: str, request: HttpRequest) -> list[Option]:
    found = queries.search_locations(
        q, country=request.GET.get("country") or None, function=request.GET.get("function") or None
    )
    return [Option(loc.code, f"{loc.name} ({loc.country})") for loc in found]


def _countries(q: str, request: HttpRequest) -> list[Option]:
    return [Option(c.code, queries.localized_name(c)) for c in queries.search_countries(q)]


def _currencies(q: str, request: HttpRequest) -> list[Option]:
    return [Option(c.code, c.name) for c in queries.search_currencies(q)]


def _units(q: str, request: HttpRequest) -> list[Option]:
    return [Option(u.code, u.name) for u in queries.search_units(q)]


def _package_types(q: str, request: HttpRequest) -> list[Option]:
    return [Option(p.code, p.name) for p in queries.search_package_types(q)]


def signed_in(view):
    """login_required, but htmx gets a bare 401: a redirect would fill the list with the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request"):
            return HttpResponse(status=401)
        return redirect_to_login(request.get_full_path())

    return wrapper


SUGGESTERS: dict[str, Callable[[str, HttpRequest], list[Option]]] = {
    "hs": _hs,
    "locations": _locations,
    "countries": _countries,
    "currencies": _currencies,
    "units": _units,
    "package-types": _package_types,
}


@require_GET
@signed_in
def suggest(request: HttpRequest, list_name: str) -> HttpResponse:
    """`<option>`s matching ?q= for an htmx-filled `<datalist>` (?country= and ?function= for places)."""
    suggester = SUGGESTERS.get(list_name)
    if suggester is None:
        raise Http404("unknown code list")
    options = suggester(request.GET.get("q", "")[:100], request)
    return render(request, "refdata/_options.html", {"options": options})
