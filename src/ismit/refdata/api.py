"""Code lists under /api/v1/refdata: read-only searches and lookups.

Names are in French when the request's language is French and the list has French names. Access is
decided by the API object (signed-in users); this router adds no rule of its own.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from ismit.refdata import queries

router = Router(tags=["refdata"])


# --- Inputs ----------------------------------------------------------------------------------------


class SearchIn(Schema):
    q: str = Field("", description="Code prefix or words of the name")
    limit: int = Field(queries.DEFAULT_LIMIT, ge=1, le=queries.MAX_LIMIT)


class LocationSearchIn(SearchIn):
    country: str = Field("", description="ISO 3166-1 alpha-2 code, e.g. CI")
    function: str = Field("", pattern=r"^[0-7B]?$", description="UN/LOCODE function: 1 port, 4 airport…")


class CodeListSearchIn(SearchIn):
    common: bool = Field(False, description="Only the codes commonly used in trade documents")


# --- Outputs ---------------------------------------------------------------------------------------


class LocalizedName(Schema):
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return queries.localized_name(obj)


class CountryOut(LocalizedName):
    code: str
    alpha3: str
    numeric: str


class CurrencyOut(Schema):
    code: str
    numeric: str
    name: str


class HSCodeOut(Schema):
    code: str
    level: int
    parent: str
    section: str
    description: str


class LocationOut(Schema):
    code: str
    country: str
    name: str
    name_ascii: str
    subdivision: str
    functions: str
    status: str
    iata: str
    latitude: float | None
    longitude: float | None


class UnitOut(Schema):
    code: str
    name: str
    symbol: str
    common: bool


class PackageTypeOut(Schema):
    code: str
    name: str
    common: bool


class IncotermOut(LocalizedName):
    code: str
    any_mode: bool
    export_clearance: str
    main_carriage: str
    insurance: str
    insurance_required: bool
    import_clearance: str
    place_meaning: str


class TransportModeOut(LocalizedName):
    code: str
    locode_function: str


# --- Operations ------------------------------------------------------------------------------------


@router.get("/countries", response=list[CountryOut])
def list_countries(request: HttpRequest, params: Query[SearchIn]):
    return queries.search_countries(params.q, limit=params.limit)


@router.get("/currencies", response=list[CurrencyOut])
def list_currencies(request: HttpRequest, params: Query[SearchIn]):
    return queries.search_currencies(params.q, limit=params.limit)


@router.get("/hs-codes", response=list[HSCodeOut])
def list_hs_codes(request: HttpRequest, params: Query[SearchIn]):
    return queries.search_hs(params.q, limit=params.limit)


@router.get("/hs-codes/{code}", response=HSCodeOut)
def get_hs_code(request: HttpRequest, code: str):
    hs_code = queries.get_hs_code(code)
    if hs_code is None:
        raise Http404("unknown HS code")
    return hs_code


@router.get("/locations", response=list[LocationOut])
def list_locations(request: HttpRequest, params: Query[LocationSearchIn]):
    return queries.search_locations(
        params.q, country=params.country or None, function=params.function or None, limit=params.limit
    )


@router.get("/locations/{code}", response=LocationOut)
def get_location(request: HttpRequest, code: str):
    location = queries.get_location(code)
    if location is None:
        raise Http404("unknown UN/LOCODE")
    return location


@router.get("/units", response=list[UnitOut])
def list_units(request: HttpRequest, params: Query[CodeListSearchIn]):
    return queries.search_units(params.q, common_only=params.common, limit=params.limit)


@router.get("/package-types", response=list[PackageTypeOut])
def list_package_types(request: HttpRequest, params: Query[CodeListSearchIn]):
    return queries.search_package_types(params.q, common_only=params.common, limit=params.limit)


@router.get("/incoterms", response=list[IncotermOut])
def list_incoterms(request: HttpRequest):
    return queries.list_incoterms()


@router.get("/transport-modes", response=list[TransportModeOut])
def list_transport_modes(request: HttpRequest):
    return queries.list_transport_modes()
