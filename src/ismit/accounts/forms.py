"""Forms of the accounts pages: they parse what people type; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ismit.accounts.models import (
    IdentifierScheme,
    Organisation,
    OrganisationKind,
    ProviderType,
    Role,
    User,
)
from ismit.lib.errors import error_dict

LANGUAGE_CHOICES = User._meta.get_field("language").choices
IDENTIFIER_FIELDS = tuple(IdentifierScheme.values)  # form fields "vat", "tax", "eori", "business"


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put the messages of a service's ValidationError on the form's fields.

    Service paths name model fields ("legal_name") or identifiers ("identifiers.vat" -> field "vat");
    a message for a path the form has no field for is shown above the form.
    """
    for path, messages in error_dict(exc).items():
        name = path.removeprefix("identifiers.")
        field = name if name in form.fields else None
        for message in messages:
            form.add_error(field, message)


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an e-mail address (stored in lower case) and a password."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class LocalisedPasswordResetForm(PasswordResetForm):
    """Sends the reset link in the language each person chose, whatever the page's language."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs) -> None:
        with translation.override(
            getattr(context.get("user"), "language", None) or translation.get_language()
        ):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 10 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)


class OrganisationProfileForm(forms.Form):
    """The editable profile of an organisation and its registration identifiers."""

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    provider_types = forms.MultipleChoiceField(
        label=_("Services offered"),
        choices=ProviderType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        help_text=_("Two-letter ISO code: start typing the country's name or code."),
        # htmx fills the datalist with the countries matching what was typed (refdata's suggest page).
        widget=forms.TextInput(
            attrs={
                "list": "country-options",
                "autocomplete": "off",
                "size": 4,
                "hx-get": reverse_lazy("refdata:suggest", args=["countries"]),
                "hx-trigger": "keyup changed delay:250ms, focus once",
                "hx-target": "#country-options",
                "hx-swap": "innerHTML",
                "hx-vals": "js:{q: this.value}",
                "hx-sync": "this:replace",
            }
        ),
    )
    city = forms.CharField(label=_("City"), max_length=100)
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    email = forms.EmailField(label=_("Contact e-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    vat = forms.CharField(
        label=IdentifierScheme.VAT.label,
        max_length=40,
        required=False,
        help_text=_("With the country prefix, e.g. FR40303265045."),
    )
    tax = forms.CharField(label=IdentifierScheme.TAX.label, max_length=40, required=False)
    eori = forms.CharField(label=IdentifierScheme.EORI.label, max_length=40, required=False)
    business = forms.CharField(
        label=IdentifierScheme.BUSINESS.label,
        max_length=40,
        required=False,
        help_text=_("Company registration number (e.g. SIREN, RCCM)."),
    )

    profile_fields = ("legal_name", "country", "city", "street", "postcode", "email", "phone")

    def __init__(self, *args, organisation: Organisation | None = None, **kwargs) -> None:
        if organisation is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{name: getattr(organisation, name) for name in self.profile_fields},
                    "provider_types": organisation.provider_types,
                    **{ident.scheme: ident.value for ident in organisation.identifiers.all()},
                },
            )
        super().__init__(*args, **kwargs)
        if organisation is not None and organisation.kind != OrganisationKind.PROVIDER:
            del self.fields["provider_types"]

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def profile(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.profile_fields}

    def identifiers(self) -> dict[str, str]:
        return {scheme: self.cleaned_data[scheme].strip() for scheme in IDENTIFIER_FIELDS}


class OrganisationCreateForm(OrganisationProfileForm):
    kind = forms.ChoiceField(label=_("Kind of organisation"), choices=())

    field_order = ("legal_name", "kind", "provider_types")

    def __init__(self, *args, allow_operator: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds = (
            OrganisationKind.choices
            if allow_operator
            else [
                (value, label)
                for value, label in OrganisationKind.choices
                if value != OrganisationKind.OPERATOR
            ]
        )
        self.fields["kind"].choices = kinds

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("kind") != OrganisationKind.PROVIDER:
            cleaned["provider_types"] = []  # the boxes are hidden for other kinds: ignore stray ticks
        return cleaned


class EvidenceForm(forms.Form):
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        help_text=_("What the document is, e.g. “Extract of the trade register, 2026”."),
    )
    file = forms.FileField(label=_("File"), help_text=_("PDF or image, at most 10 MB."))


class AddMemberForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of an existing account"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class VerifyForm(forms.Form):
    reason = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: kept with the decision and shown to the organisation's members."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required. The owners receive it by e-mail: say what to correct or which document to add."
        ),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “ERP export”.")
    )


class SwitchOrganisationForm(forms.Form):
    organisation = forms.IntegerField()
