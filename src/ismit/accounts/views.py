"""Pages of the accounts app: sign-up and log-in, organisations, members, verification, API tokens."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ismit.accounts import queries, services
from ismit.accounts.actors import actor_for
from ismit.accounts.forms import (
    AddMemberForm,
    ApiTokenForm,
    EmailAuthenticationForm,
    EvidenceForm,
    LocalisedPasswordResetForm,
    OrganisationCreateForm,
    OrganisationProfileForm,
    RejectForm,
    RoleForm,
    SignUpForm,
    SwitchOrganisationForm,
    VerifyForm,
    add_service_errors,
)
from ismit.accounts.middleware import SESSION_ORG_KEY
from ismit.accounts.models import Organisation, OrganisationKind, ProviderType, User, VerificationEvidence
from ismit.audit.queries import events_for_organisation
from ismit.lib.errors import error_dict
from ismit.lib.scoping import ADMIN, CHANGE, VIEW

AUDIT_PAGE_SIZE = 50


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _use_language(response: HttpResponse, user: User) -> HttpResponse:
    """Show the pages in the language the person chose, from now on (as Django's set_language does)."""
    translation.activate(user.language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        user.language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def _org_context(request: HttpRequest, org: Organisation, **extra) -> dict:
    actor = request.actor
    labels = dict(ProviderType.choices)
    return {
        "org": org,
        "can_change": actor.can(CHANGE, org.pk),
        "can_admin": actor.can(ADMIN, org.pk),
        "provider_type_labels": [labels.get(code, code) for code in org.provider_types],
        **extra,
    }


def _message_errors(request: HttpRequest, exc: ValidationError) -> None:
    for field_messages in error_dict(exc).values():
        for message in field_messages:
            messages.error(request, message)


# -- signing up, logging in -------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        return _use_language(super().form_valid(form), form.get_user())

    def get_default_redirect_url(self) -> str:
        if not actor_for(self.request.user).roles:
            return resolve_url("accounts:organisation_create")
        return super().get_default_redirect_url()


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LocalisedPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(_posted(request), initial={"language": translation.get_language()})
    if form.is_valid():
        try:
            user = services.sign_up(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Now tell us about the organisation you work for."))
            return _use_language(redirect("accounts:organisation_create"), user)
    return render(request, "registration/signup.html", {"form": form})


# -- organisations ----------------------------------------------------------------------------------


@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationCreateForm(_posted(request), allow_operator=request.user.is_superuser)
    if form.is_valid():
        try:
            org = services.create_organisation(
                by=request.user,
                kind=form.cleaned_data["kind"],
                identifiers=form.identifiers(),
                provider_types=form.cleaned_data["provider_types"],
                **form.profile(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[SESSION_ORG_KEY] = org.pk
            messages.success(
                request,
                _("%(org)s was created. It is pending verification by the platform's operators.")
                % {"org": org.legal_name},
            )
            return redirect("accounts:organisation", org.pk)
    return render(request, "accounts/organisation_form.html", {"form": form})


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = queries.get_organisation_for(request.actor, pk)
    return render(
        request,
        "accounts/organisation_detail.html",
        _org_context(
            request,
            org,
            members=queries.members_of(org),
            evidence=org.evidence.order_by("-uploaded_at"),
        ),
    )


def _save_profile(actor, org: Organisation, form: OrganisationProfileForm) -> None:
    """The profile and the identifiers change together, or not at all; raise every error at once."""
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        profile = form.profile()
        if org.kind == OrganisationKind.PROVIDER:
            profile["provider_types"] = form.cleaned_data["provider_types"]
        try:
            services.update_organisation(actor=actor, organisation=org, **profile)
        except ValidationError as exc:
            errors.update(error_dict(exc))
        current = {ident.scheme: ident.value for ident in org.identifiers.all()}
        for scheme, value in form.identifiers().items():
            if value != current.get(scheme, ""):
                try:
                    services.set_identifier(actor=actor, organisation=org, scheme=scheme, value=value)
                except ValidationError as exc:
                    errors.update(error_dict(exc))
        if errors:
            raise ValidationError(errors)  # leaving the block rolls back whatever was saved


@login_required
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = queries.get_organisation_for(request.actor, pk, ADMIN)
    form = OrganisationProfileForm(_posted(request), organisation=org)
    if form.is_valid():
        try:
            _save_profile(request.actor, org, form)
        except ValidationError as exc:
            org.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The organisation's profile was saved."))
            return redirect("accounts:organisation", org.pk)
    return render(request, "accounts/organisation_form.html", _org_context(request, org, form=form))


@login_required
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    org = queries.get_organisation_for(request.actor, pk, CHANGE if request.method == "POST" else VIEW)
    form = EvidenceForm(_posted(request), request.FILES or None)
    if form.is_valid():
        try:
            services.add_evidence(actor=request.actor, organisation=org, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The document was added."))
            return redirect("accounts:evidence", org.pk)
    return render(
        request,
        "accounts/evidence.html",
        _org_context(
            request,
            org,
            form=form,
            evidence=org.evidence.select_related("uploaded_by").order_by("-uploaded_at"),
        ),
    )


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    document = VerificationEvidence.objects.get_for(request.actor, VIEW, pk=pk)
    try:
        stream = document.file.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(stream, as_attachment=True, filename=PurePosixPath(document.file.name).name)


@login_required
def members(request: HttpRequest, pk: int) -> HttpResponse:
    org = queries.get_organisation_for(request.actor, pk, ADMIN if request.method == "POST" else VIEW)
    form = AddMemberForm(_posted(request))
    if form.is_valid():
        try:
            services.add_member(actor=request.actor, organisation=org, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(email)s was added.") % {"email": form.cleaned_data["email"]})
            return redirect("accounts:members", org.pk)
    return render(
        request,
        "accounts/members.html",
        _org_context(
            request,
            org,
            form=form,
            members=queries.members_of(org),
            role_form=RoleForm(),
        ),
    )


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = queries.get_membership_for(request.actor, pk, ADMIN)
    form = RoleForm(request.POST)
    try:
        services.change_member_role(
            actor=request.actor,
            membership=membership,
            role=form.cleaned_data["role"] if form.is_valid() else "",
        )
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, _("The role of %(email)s was changed.") % {"email": membership.user.email})
    return redirect("accounts:members", membership.organisation_id)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = queries.get_membership_for(request.actor, pk, ADMIN)
    try:
        services.remove_member(actor=request.actor, membership=membership)
    except ValidationError as exc:
        _message_errors(request, exc)
        return redirect("accounts:members", membership.organisation_id)
    messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("accounts:members", membership.organisation_id)


@login_required
def organisation_audit(request: HttpRequest, pk: int) -> HttpResponse:
    org = queries.get_organisation_for(request.actor, pk, ADMIN)
    page = Paginator(events_for_organisation(org.pk), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(event, _readable_changes(event.changes)) for event in page]
    return render(
        request, "accounts/organisation_audit.html", _org_context(request, org, page=page, rows=rows)
    )


def _readable_changes(changes: dict) -> list[tuple[str, str]]:
    """(field, value) pairs; values other than text as compact JSON (["old", "new"] for a change)."""
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
        for key, value in changes.items()
    ]


@login_required
@require_POST
def switch_organisation(request: HttpRequest) -> HttpResponse:
    form = SwitchOrganisationForm(request.POST)
    if not form.is_valid() or form.cleaned_data["organisation"] not in request.actor.roles:
        raise Http404
    request.session[SESSION_ORG_KEY] = form.cleaned_data["organisation"]
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("home")


# -- verification by the platform's operators ---------------------------------------------------------


def _operator_only(request: HttpRequest) -> None:
    if not request.actor.is_operator:
        raise Http404


@login_required
def verification_queue(request: HttpRequest) -> HttpResponse:
    _operator_only(request)
    pending = queries.verification_queue(request.actor).order_by("created_at")
    return render(request, "accounts/verification_queue.html", {"organisations": pending})


def _review_page(request: HttpRequest, org: Organisation, reject_form: RejectForm | None = None):
    return render(
        request,
        "accounts/verification_review.html",
        _org_context(
            request,
            org,
            members=queries.members_of(org),
            evidence=org.evidence.order_by("-uploaded_at"),
            verify_form=VerifyForm(prefix="verify"),
            reject_form=reject_form or RejectForm(prefix="reject"),
        ),
    )


@login_required
def verification_review(request: HttpRequest, pk: int) -> HttpResponse:
    _operator_only(request)
    return _review_page(request, queries.get_organisation_for(request.actor, pk))


@login_required
@require_POST
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    _operator_only(request)
    org = queries.get_organisation_for(request.actor, pk)
    form = VerifyForm(request.POST, prefix="verify")
    note = form.cleaned_data["reason"] if form.is_valid() else ""
    services.verify_organisation(actor=request.actor, organisation=org, reason=note)
    messages.success(request, _("%(org)s is verified.") % {"org": org.legal_name})
    return redirect("accounts:verification_queue")


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    _operator_only(request)
    org = queries.get_organisation_for(request.actor, pk)
    form = RejectForm(request.POST, prefix="reject")
    if form.is_valid():
        try:
            services.reject_organisation(
                actor=request.actor, organisation=org, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(org)s was rejected.") % {"org": org.legal_name})
            return redirect("accounts:verification_queue")
    return _review_page(request, org, reject_form=form)


# -- API tokens -------------------------------------------------------------------------------------


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(_posted(request))
    if form.is_valid():
        token, key = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
        # The key exists only in this response: never stored, never cached.
        response = render(request, "accounts/token_created.html", {"token": token, "key": key})
        add_never_cache_headers(response)
        return response
    return render(request, "accounts/tokens.html", {"form": form, "tokens": queries.tokens_of(request.user)})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(queries.tokens_of(request.user), pk=pk)
    services.revoke_api_token(user=request.user, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


NOTIFICATIONS_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        count = services.mark_notifications_read(user=request.user)
        if count:
            messages.success(request, _("Every notification is marked as read."))
        return redirect("accounts:notifications")
    page = Paginator(queries.notifications_for(request.actor), NOTIFICATIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/notifications.html", {"page": page})
