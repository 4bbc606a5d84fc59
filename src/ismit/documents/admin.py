"""Operators' view of signing keys and issued documents: read-only, plus revoking a key."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from ismit.accounts.actors import actor_for
from ismit.documents.models import IssuedDocument, SigningKey
from ismit.documents.services import revoke_key


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnly):
    list_display = ("subject_name", "role", "status", "fingerprint", "not_after", "created_at", "revoked_at")
    list_filter = ("role", "status")
    search_fields = ("subject_name", "fingerprint", "organisation__legal_name")
    exclude = ("private_key_encrypted",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected keys (their documents are then reported as revoked)")
    def revoke(self, request, queryset):
        actor = actor_for(request.user)
        for key in queryset:
            try:
                revoke_key(actor=actor, key=key, reason="Revoked by an operator in the admin.")
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{key}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{key.subject_name}: revoked.", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_superuser  # the action list needs it; no edit form


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnly):
    list_display = ("trade", "kind", "format", "version", "status", "issued_at", "sha256")
    list_filter = ("status", "kind", "format")
    search_fields = ("trade__reference", "sha256")
    raw_id_fields = ("trade", "organisation", "supersedes", "signer_key", "issued_by")
