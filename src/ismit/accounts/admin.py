"""The back office of the accounts app, for the platform's staff."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from ismit.accounts.models import (
    ApiToken,
    Membership,
    Organisation,
    OrganisationIdentifier,
    User,
    VerificationEvidence,
)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user", "organisation")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "language", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "language")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal details"), {"fields": ("full_name", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )
    inlines = (MembershipInline,)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # the add form asks only for e-mail and password


class IdentifierInline(admin.TabularInline):
    model = OrganisationIdentifier
    extra = 0
    readonly_fields = ("validator",)


class EvidenceInline(admin.TabularInline):
    model = VerificationEvidence
    extra = 0
    fields = ("description", "file", "uploaded_by", "uploaded_at")
    readonly_fields = ("uploaded_by", "uploaded_at")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("legal_name", "kind", "country", "city", "verification_status", "created_at")
    list_filter = ("kind", "verification_status", "country")
    search_fields = ("legal_name", "city", "identifiers__value", "memberships__user__email")
    # Decisions go through the verification page, which audits them and tells the owners.
    readonly_fields = (
        "verification_status",
        "verification_reason",
        "verified_at",
        "verified_by",
        "created_at",
    )
    inlines = (IdentifierInline, MembershipInline, EvidenceInline)
    date_hierarchy = "created_at"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation__kind")
    search_fields = ("user__email", "organisation__legal_name")
    raw_id_fields = ("user", "organisation")
    list_select_related = ("user", "organisation")


@admin.register(VerificationEvidence)
class VerificationEvidenceAdmin(admin.ModelAdmin):
    list_display = ("description", "organisation", "uploaded_by", "uploaded_at")
    search_fields = ("description", "organisation__legal_name")
    raw_id_fields = ("organisation", "uploaded_by")
    list_select_related = ("organisation", "uploaded_by")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made and revoked by their owners (the key is shown once): staff only look."""

    list_display = ("name", "user", "hint", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "hint")
    fields = ("user", "name", "hint", "key_hash", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
