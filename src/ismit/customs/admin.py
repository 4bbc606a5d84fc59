"""Operators configure the single windows here; declarations, answers and messages are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from ismit.customs.models import CustomsQuery, Declaration, DeclarationEvent, ExchangedMessage, SingleWindow


class SingleWindowForm(forms.ModelForm):
    base_url = forms.URLField(label="Base URL", max_length=300, assume_scheme="https")
    new_secret = forms.CharField(
        label="Shared secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current one (or use an environment variable).",
    )

    class Meta:
        model = SingleWindow
        fields = (
            "name",
            "country",
            "procedure",
            "connector",
            "base_url",
            "client_id",
            "secret_env",
            "timeout",
            "active",
        )

    def clean(self):
        data = super().clean()
        has_secret = bool(self.instance.secret_sealed) if self.instance.pk else False
        if not data.get("new_secret") and not data.get("secret_env") and not has_secret:
            self.add_error("new_secret", "Give the shared secret, or the environment variable that holds it.")
        data["country"] = (data.get("country") or "").upper()
        return data

    def save(self, commit=True):
        window = super().save(commit=False)
        if self.cleaned_data.get("new_secret"):
            window.set_secret(self.cleaned_data["new_secret"])
        if commit:
            window.save()
        return window


@admin.register(SingleWindow)
class SingleWindowAdmin(admin.ModelAdmin):
    form = SingleWindowForm
    list_display = (
        "name",
        "country",
        "procedure",
        "connector",
        "base_url",
        "client_id",
        "active",
        "polled_at",
    )
    list_filter = ("procedure", "connector", "active")
    readonly_fields = ("callback", "poll_after", "polled_at", "created_at")

    @admin.display(description="Callback path (give it to the single window)")
    def callback(self, obj: SingleWindow) -> str:
        return obj.callback_path if obj.pk else "—"


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Declaration)
class DeclarationAdmin(ReadOnly):
    list_display = ("trade", "version", "status", "mrn", "window", "submitted_by_organisation", "created_at")
    list_filter = ("status", "channel", "window")
    search_fields = ("trade__reference", "mrn", "lrn", "conversation_id", "idempotency_key")


@admin.register(DeclarationEvent)
class DeclarationEventAdmin(ReadOnly):
    list_display = ("conversation_id", "sequence", "status", "applied", "via", "arrivals", "received_at")
    list_filter = ("status", "applied", "via")
    search_fields = ("conversation_id", "notification_id")


@admin.register(ExchangedMessage)
class ExchangedMessageAdmin(ReadOnly):
    list_display = ("at", "direction", "kind", "method", "path", "status_code", "conversation_id", "sha256")
    list_filter = ("direction", "kind")
    search_fields = ("conversation_id", "notification_id", "idempotency_key", "sha256")


@admin.register(CustomsQuery)
class CustomsQueryAdmin(ReadOnly):
    list_display = ("trade", "declaration", "status", "created_at", "answered_at")
    list_filter = ("status",)
