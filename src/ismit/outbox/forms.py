"""The filters of the operator's outbox page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ismit.outbox.models import Status


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices]
    )
    topic = forms.ChoiceField(label=_("Topic"), required=False)

    def __init__(self, *args, topics: list[str], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", _("All topics")), *((t, t) for t in topics)]

    def value(self, name: str) -> str:
        return self.cleaned_data.get(name, "") if self.is_bound and self.is_valid() else ""
