"""API of the accounts app: sign-up, personal access tokens, the current user, organisations.

Authentication (used by every router, see config/api.py): `Authorization: Bearer <token>` or the Django
session cookie with CSRF. Either one puts the request's `Actor` on `request.actor`. The organisation a
write is made for comes from the payload's `organisation`, else the `X-ISMIT-Organisation` header, else
the user's first organisation where they may make changes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.pagination import paginate
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from ismit.accounts import queries, services
from ismit.accounts.actors import Actor, actor_for
from ismit.accounts.middleware import SESSION_ORG_KEY
from ismit.accounts.models import Organisation
from ismit.audit.queries import events_for_organisation
from ismit.lib.api import PagePagination
from ismit.lib.scoping import ADMIN, CHANGE, VIEW

router = Router(tags=["accounts"])

ORG_HEADER = "X-ISMIT-Organisation"


# -- authentication and the actor -------------------------------------------------------------------


def _header_organisation(request: HttpRequest) -> int | None:
    raw = request.headers.get(ORG_HEADER, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({ORG_HEADER: [_("Give the organisation's number.")]})


def _bind_actor(request: HttpRequest, user, *, session: bool) -> None:
    preferred = _header_organisation(request)
    if preferred is None and session:
        preferred = request.session.get(SESSION_ORG_KEY)
    request.actor = actor_for(user, preferred)


class BearerTokenAuth(HttpBearer):
    """A personal access token (see POST /auth/tokens)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = services.user_for_api_key(token)
        if user is None:
            return None
        _bind_actor(request, user, session=False)
        return user


class SessionCookieAuth(APIKeyCookie):
    """The browser's Django session, for htmx pages. Unsafe methods need the CSRF token (X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF is checked in authenticate(), once a signed-in session is found: a request with no
        # credentials at all answers 401, not a CSRF failure. (self.csrf stays True: the docs page
        # then sends the CSRF token with its requests.)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise PermissionDenied(_("CSRF check failed: send the csrftoken cookie's value as X-CSRFToken."))
        _bind_actor(request, user, session=True)
        return user


AUTH = [BearerTokenAuth(), SessionCookieAuth()]


def actor_of(request: HttpRequest) -> Actor:
    """The Actor of an authenticated API request."""
    return request.actor


def organisation_for_write(request: HttpRequest, organisation_id: int | None = None) -> Organisation:
    """The organisation a new object is made for: the one named in the payload or header, else the
    user's first organisation where they may make changes. The service checks the permission (a
    read-only member gets 403); naming an organisation one is not a member of is a 422."""
    actor = actor_of(request)
    chosen = organisation_id if organisation_id is not None else _header_organisation(request)
    if chosen is not None:
        for org in actor.organisations:
            if org.id == chosen:
                return org
        raise ValidationError(
            {"organisation": [_("You are not a member of organisation %(id)s.") % {"id": chosen}]}
        )
    writable = [org for org in actor.organisations if actor.can(CHANGE, org.id)]
    for org in writable:
        if org.id == actor.preferred_org_id:
            return org
    if writable:
        return writable[0]
    if actor.organisations:  # read-only everywhere: the service answers 403
        return actor.organisations[0]
    message = _("You are not a member of any organisation: create one, or ask an owner to add you.")
    raise ValidationError({"organisation": [message]})


# -- schemas ----------------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    language: str


class SignUpIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    full_name: str = Field("", max_length=150)
    language: str = "en"


class TokenCreateIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    name: str = Field("", max_length=100)


class TokenCreatedOut(Schema):
    id: int
    name: str
    token: str = Field(description="The secret: shown only in this answer.")
    hint: str
    created_at: dt.datetime


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool

    @staticmethod
    def resolve_active(obj) -> bool:
        return obj.is_active


class OrganisationBriefOut(Schema):
    id: int
    legal_name: str
    kind: str
    verification_status: str


class MembershipOut(Schema):
    organisation: OrganisationBriefOut
    role: str


class MeOut(Schema):
    user: UserOut
    is_operator: bool
    memberships: list[MembershipOut]


class OrganisationOut(Schema):
    id: int
    legal_name: str
    kind: str
    provider_types: list[str]
    country: str
    street: str
    city: str
    postcode: str
    subdivision: str
    email: str
    phone: str
    identifiers: dict[str, str]
    verification_status: str
    verification_reason: str
    verified_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_identifiers(obj) -> dict[str, str]:
        return {ident.scheme: ident.value for ident in obj.identifiers.all()}


class OrganisationCreateIn(Schema):
    legal_name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    country: str = Field(max_length=2)
    city: str = Field(max_length=100)
    street: str = Field("", max_length=200)
    postcode: str = Field("", max_length=20)
    subdivision: str = Field("", max_length=10)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    provider_types: list[str] = []
    identifiers: dict[str, str] = Field(
        {}, description='{"vat": "…", "eori": "…", "tax": "…", "business": "…"}'
    )


class OrganisationPatchIn(Schema):
    legal_name: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=2)
    city: str | None = Field(None, max_length=100)
    street: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, max_length=20)
    subdivision: str | None = Field(None, max_length=10)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    provider_types: list[str] | None = None


class IdentifierIn(Schema):
    value: str = Field(max_length=40, description="Empty to remove the identifier.")


class DecisionIn(Schema):
    reason: str = Field("", max_length=2000)


class MemberIn(Schema):
    email: str = Field(max_length=254, description="The e-mail address of a user who has signed up.")
    role: str = Field("member", description="owner, member or read_only.")


class MemberPatchIn(Schema):
    role: str = Field(description="owner, member or read_only.")


class MemberOut(Schema):
    id: int
    user: UserOut
    role: str
    created_at: dt.datetime


class AuditEventOut(Schema):
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    changes: dict
    hash: str | None  # null until the event is linked into the chain, just after its commit

    @staticmethod
    def resolve_seq(obj) -> int:
        return obj.seq or obj.pk  # the linker numbers an event with its id, just after its commit


# -- sign-up and tokens -----------------------------------------------------------------------------


@router.post("/auth/signup", auth=None, response={201: UserOut})
def sign_up(request, payload: SignUpIn):
    return services.sign_up(
        email=payload.email, password=payload.password, full_name=payload.full_name, language=payload.language
    )


@router.post("/auth/tokens", auth=None, response={201: TokenCreatedOut})
def create_token(request, payload: TokenCreateIn):
    user = authenticate(request, email=payload.email.strip().lower(), password=payload.password)
    if user is None:
        raise AuthenticationError
    token, key = services.create_api_token(user=user, name=payload.name)
    return {
        "id": token.id,
        "name": token.name,
        "token": key,
        "hint": token.hint,
        "created_at": token.created_at,
    }


@router.get("/auth/tokens", response=list[TokenOut])
def list_tokens(request):
    return queries.tokens_of(request.auth)


@router.delete("/auth/tokens/{int:token_id}", response={204: None})
def revoke_token(request, token_id: int):
    token = queries.tokens_of(request.auth).filter(pk=token_id).first()
    if token is None:
        raise Http404
    services.revoke_api_token(user=request.auth, token=token)


# -- the current user -------------------------------------------------------------------------------


@router.get("/me", response=MeOut)
def me(request):
    actor = actor_of(request)
    return {
        "user": actor.user,
        "is_operator": actor.is_operator,
        "memberships": [{"organisation": org, "role": actor.roles[org.id]} for org in actor.organisations],
    }


# -- organisations ----------------------------------------------------------------------------------


@router.get("/organisations", response=list[OrganisationOut])
@paginate(PagePagination)
def list_organisations(request):
    return queries.organisations_visible_to(actor_of(request))


@router.post("/organisations", response={201: OrganisationOut})
def create_organisation(request, payload: OrganisationCreateIn):
    org = services.create_organisation(by=request.auth, **payload.model_dump())
    return queries.get_organisation_for(actor_of(request), org.pk)


@router.get("/organisations/{int:organisation_id}", response=OrganisationOut)
def get_organisation(request, organisation_id: int):
    return queries.get_organisation_for(actor_of(request), organisation_id)


@router.patch("/organisations/{int:organisation_id}", response=OrganisationOut)
def update_organisation(request, organisation_id: int, payload: OrganisationPatchIn):
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    services.update_organisation(actor=actor, organisation=org, **payload.model_dump(exclude_unset=True))
    return queries.get_organisation_for(actor, organisation_id)


@router.put("/organisations/{int:organisation_id}/identifiers/{scheme}", response=OrganisationOut)
def set_identifier(request, organisation_id: int, scheme: str, payload: IdentifierIn):
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    services.set_identifier(actor=actor, organisation=org, scheme=scheme, value=payload.value)
    return queries.get_organisation_for(actor, organisation_id)


@router.post("/organisations/{int:organisation_id}/verify", response=OrganisationOut)
def verify_organisation(request, organisation_id: int, payload: DecisionIn | None = None):
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    services.verify_organisation(actor=actor, organisation=org, reason=payload.reason if payload else "")
    return queries.get_organisation_for(actor, organisation_id)


@router.post("/organisations/{int:organisation_id}/reject", response=OrganisationOut)
def reject_organisation(request, organisation_id: int, payload: DecisionIn | None = None):
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    services.reject_organisation(actor=actor, organisation=org, reason=payload.reason if payload else "")
    return queries.get_organisation_for(actor, organisation_id)


@router.get("/organisations/{int:organisation_id}/members", response=list[MemberOut])
def list_members(request, organisation_id: int):
    return queries.members_of(queries.get_organisation_for(actor_of(request), organisation_id))


@router.post("/organisations/{int:organisation_id}/members", response={201: MemberOut})
def add_member(request, organisation_id: int, payload: MemberIn):
    """Give a user who has signed up a role in the organisation (owners only)."""
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    return Status(
        201, services.add_member(actor=actor, organisation=org, email=payload.email, role=payload.role)
    )


def _membership(request, organisation_id: int, member_id: int):
    membership = queries.get_membership_for(actor_of(request), member_id, VIEW)
    if membership.organisation_id != organisation_id:
        raise Http404
    return membership


@router.patch("/organisations/{int:organisation_id}/members/{int:member_id}", response=MemberOut)
def change_member_role(request, organisation_id: int, member_id: int, payload: MemberPatchIn):
    """Change a member's role (owners only; an organisation keeps at least one owner)."""
    membership = _membership(request, organisation_id, member_id)
    return services.change_member_role(actor=actor_of(request), membership=membership, role=payload.role)


@router.delete("/organisations/{int:organisation_id}/members/{int:member_id}", response={204: None})
def remove_member(request, organisation_id: int, member_id: int):
    """Take a member out of the organisation (owners only; an organisation keeps at least one owner)."""
    membership = _membership(request, organisation_id, member_id)
    services.remove_member(actor=actor_of(request), membership=membership)
    return Status(204, None)


@router.get("/organisations/{int:organisation_id}/audit", response=list[AuditEventOut])
@paginate(PagePagination)
def organisation_audit(request, organisation_id: int):
    actor = actor_of(request)
    org = queries.get_organisation_for(actor, organisation_id)
    if not actor.can(ADMIN, org.id):
        raise PermissionDenied(_("Only the organisation's owners read its audit log."))
    return events_for_organisation(org.id)
