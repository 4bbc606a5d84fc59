"""Forms of the Finance tab: they render the fields and carry the services' errors back to them; the
services check the values (amounts as typed, with a decimal comma or point)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ismit.lib.errors import error_dict


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        for field, messages in error_dict(exc).items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)


class PaymentForm(ServiceErrorsMixin, forms.Form):
    amount = forms.CharField(label=_("Amount"), max_length=30)
    currency = forms.CharField(label=_("Currency"), max_length=3, help_text=_("ISO 4217, e.g. EUR"))
    received_on = forms.CharField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}), max_length=10
    )
    bank_reference = forms.CharField(
        label=_("Bank reference"), max_length=35, help_text=_("As on the bank's credit advice")
    )
    payer = forms.CharField(label=_("Payer"), max_length=200, required=False)


class FxReportForm(ServiceErrorsMixin, forms.Form):
    explanation = forms.CharField(
        label=_("Your answer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VatClaimForm(ServiceErrorsMixin, forms.Form):
    vat_amount = forms.CharField(
        label=_("Input VAT to refund"),
        max_length=30,
        required=False,
        help_text=_(
            "Not in the trade's data: the VAT you paid on the purchases for these goods, from your purchase "
            "invoices."
        ),
    )
    vat_rate = forms.CharField(
        label=_("VAT rate (%)"),
        max_length=10,
        required=False,
        help_text=_("Only if the VAT is a rate of the export value; otherwise leave it empty."),
    )
    input_invoices = forms.CharField(
        label=_("Purchase invoices"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The invoices on which this VAT was paid: supplier, number, date, VAT amount."),
    )
    explanation = forms.CharField(
        label=_("Your answer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
