"""Operators maintain the requirement rules here: rules, country groups, YAML import and export.

Every change made in the admin is written to the audit log, as the YAML import is.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.audit.services import record_event
from ismit.compliance import services
from ismit.compliance.models import CountryGroup, GroupMembership, Rule
from ismit.lib.errors import error_dict


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletions are audited (platform reference data: no organisation)."""

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            if hasattr(obj, "updated_at"):
                obj.updated_at = timezone.now()
            super().save_model(request, obj, form, change)
            record_event(
                actor=request.user,
                organisation_id=None,
                action=f"compliance.{obj._meta.model_name}_{'changed' if change else 'created'}",
                obj=obj,
                changes={name: form.cleaned_data.get(name) for name in form.changed_data},
            )

    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            record_event(
                actor=request.user,
                organisation_id=None,
                action=f"compliance.{obj._meta.model_name}_deleted",
                obj=obj,
                changes={"str": str(obj)},
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                record_event(
                    actor=request.user,
                    organisation_id=None,
                    action=f"compliance.{obj._meta.model_name}_deleted",
                    obj=obj,
                    changes={"str": str(obj)},
                )
            super().delete_queryset(request, queryset)


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 1
    raw_id_fields = ("country",)


@admin.register(CountryGroup)
class CountryGroupAdmin(AuditedAdmin):
    list_display = ("code", "name", "customs_union")
    list_filter = ("customs_union",)
    search_fields = ("code", "name", "name_fr", "memberships__country__code")
    inlines = (GroupMembershipInline,)

    def save_formset(self, request, form, formset, change) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.has_changed():
                record_event(
                    actor=request.user,
                    organisation_id=None,
                    action="compliance.countrygroup_members_changed",
                    obj=form.instance,
                    changes={
                        "members": list(
                            form.instance.memberships.values_list("country_id", "valid_from", "valid_to")
                        )
                    },
                )


class RuleImportForm(forms.Form):
    file = forms.FileField(label=_("YAML rule file"), required=False)
    text = forms.CharField(
        label=_("or paste YAML"), widget=forms.Textarea(attrs={"rows": 12}), required=False
    )


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    list_display = (
        "key",
        "kind",
        "direction",
        "origin",
        "destination",
        "hs_prefix",
        "valid_from",
        "valid_to",
        "rate",
        "document_code",
        "is_sample",
    )
    list_filter = ("kind", "direction", "is_sample", "destination", "origin")
    search_fields = ("key", "title", "title_fr", "=hs_prefix", "source_title", "=origin", "=destination")
    readonly_fields = ("created_at", "updated_at")
    actions = ("export_yaml",)
    change_list_template = "compliance/admin/rule_change_list.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "key",
                    "kind",
                    "direction",
                    "origin",
                    "destination",
                    "hs_prefix",
                    ("valid_from", "valid_to"),
                )
            },
        ),
        (_("Requirement"), {"fields": ("document_code", "rate", ("threshold_amount", "threshold_currency"))}),
        (_("Wording"), {"fields": ("title", "title_fr", "explanation", "explanation_fr")}),
        (_("Source"), {"fields": ("source_title", "source_url", "is_sample", "created_at", "updated_at")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.action(description=_("Export the selected rules as YAML"))
    def export_yaml(self, request: HttpRequest, queryset) -> HttpResponse:
        response = HttpResponse(
            services.export_rules(queryset), content_type="application/yaml; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="compliance-rules.yaml"'
        return response

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="compliance_rule_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="compliance_rule_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return redirect("admin:index")
        return self.export_yaml(request, Rule.objects.all())

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            return redirect("admin:index")
        form = RuleImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            text = upload.read().decode("utf-8", errors="replace") if upload else form.cleaned_data["text"]
            try:
                report = services.import_rules(
                    text, actor=request.user, source=getattr(upload, "name", "admin")
                )
            except ValidationError as exc:
                for field, problems in error_dict(exc).items():
                    for problem in problems:
                        form.add_error(None, f"{field}: {problem}")
            else:
                messages.success(request, report.summary())
                return redirect("admin:compliance_rule_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Import rules from YAML"),
        }
        return render(request, "compliance/admin/rule_import.html", context)
