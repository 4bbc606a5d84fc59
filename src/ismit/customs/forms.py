"""Forms of the customs pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ismit.customs.models import Channel
from ismit.customs.services import MAX_ANSWER


class SubmitForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Format"),
        choices=[("", "")] + [(c.value, c.label) for c in (Channel.WCO_XML, Channel.EDIFACT)],
        required=False,
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=MAX_ANSWER,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to customs with the declaration as it is now."),
    )
    description = forms.CharField(
        label=_("Goods description"),
        max_length=300,
        required=False,
        help_text=_("Correct the description of the goods line customs asks about, if needed."),
    )
