"""Forms of the tracking pages: they render the fields and carry the services' errors back to them; the
services check the values."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ismit.lib.errors import error_dict
from ismit.tracking.models import AlertKind
from ismit.tracking.services import MAX_SHARE_DAYS, ShipmentData

# The services name fields as the API does ("route[1]", "equipment_references[0]"): the form's field.
SERVICE_FIELDS = {
    "trade_id": "trade",
    "route": "route",
    "equipment_references": "containers",
    "carrier_booking_reference": "carrier_booking_reference",
    "transport_document_reference": "transport_document_reference",
    "reference": "reference",
    "planned_departure": "planned_departure",
    "planned_arrival": "planned_arrival",
    "organisation": "organisation",
    "days": "days",
    "label": "label",
    "url": "url",
    "secret": "secret",
    "kinds": "kinds",
}


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        for path, messages in error_dict(exc).items():
            name = SERVICE_FIELDS.get(re.sub(r"\[\d+\]$", "", path))
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


class ShipmentForm(ServiceErrorsMixin, forms.Form):
    trade = forms.TypedChoiceField(label=_("Trade"), required=False, coerce=int, empty_value=None)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=40,
        required=False,
        help_text=_("The trade's reference if left empty"),
    )
    carrier_booking_reference = forms.CharField(label=_("Booking number"), max_length=100, required=False)
    transport_document_reference = forms.CharField(
        label=_("Bill of lading number"), max_length=100, required=False
    )
    containers = forms.CharField(
        label=_("Container numbers"), max_length=500, required=False, help_text=_("Separated by spaces")
    )
    route = forms.CharField(
        label=_("Route"),
        max_length=200,
        required=False,
        help_text=_("UN/LOCODEs in order, e.g. CIABJ ESALG FRMRS; the trade's ports if left empty"),
    )
    planned_departure = forms.DateTimeField(
        label=_("Planned departure"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    planned_arrival = forms.DateTimeField(
        label=_("Planned arrival"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, trades=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trade"].choices = [("", _("None"))] + [(t.pk, t.reference) for t in trades]

    def data_for_service(self) -> ShipmentData:
        c = self.cleaned_data
        return ShipmentData(
            reference=c.get("reference") or "",
            trade_id=c.get("trade"),
            carrier_booking_reference=c.get("carrier_booking_reference") or "",
            transport_document_reference=c.get("transport_document_reference") or "",
            equipment_references=[code.upper() for code in _codes(c.get("containers"))],
            route=[code.upper() for code in _codes(c.get("route"))],
            planned_departure=c.get("planned_departure"),
            planned_arrival=c.get("planned_arrival"),
        )


class ShareLinkForm(ServiceErrorsMixin, forms.Form):
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=MAX_SHARE_DAYS, initial=14)
    label = forms.CharField(
        label=_("Label"), max_length=100, required=False, help_text=_("Who it is for, e.g. the buyer")
    )


class AccessForm(ServiceErrorsMixin, forms.Form):
    organisation = forms.TypedChoiceField(label=_("Provider"), coerce=int)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.pk, o.legal_name) for o in providers]


class WebhookForm(ServiceErrorsMixin, forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500, widget=forms.URLInput)
    secret = forms.CharField(
        label=_("Secret"),
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=True),
        help_text=_("16 characters or more: deliveries are signed with it (HMAC-SHA256)"),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Alerts"),
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every alert"),
    )
