"""Forms of the documents pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ismit.documents.verification import SHA256

MAX_VERIFY_BYTES = 25 * 1024 * 1024


class VerifyForm(forms.Form):
    document = forms.FileField(
        label=_("Document"), required=False, help_text=_("The PDF, XML, EDIFACT or JSON file you received.")
    )
    signature = forms.FileField(
        label=_("Signature file (if it came with one)"),
        required=False,
        help_text=_("XML, EDIFACT and JSON documents travel with a signature file (.xades.xml or .jws)."),
    )
    sha256 = forms.CharField(
        label=_("…or its SHA-256"),
        required=False,
        max_length=80,
        help_text=_("64 hexadecimal characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_sha256(self) -> str:
        value = "".join((self.cleaned_data.get("sha256") or "").split()).lower()
        if value and not SHA256.match(value):
            raise forms.ValidationError(_("A SHA-256 is 64 hexadecimal characters."))
        return value

    def _read(self, name: str) -> bytes | None:
        upload = self.cleaned_data.get(name)
        if upload is None:
            return None
        if upload.size > MAX_VERIFY_BYTES:
            self.add_error(name, _("The file is larger than 25 MB."))
            return None
        return upload.read()

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("document") or cleaned.get("sha256") or cleaned.get("signature")):
            raise forms.ValidationError(_("Choose the document, or paste its SHA-256."))
        cleaned["document_bytes"] = self._read("document")
        cleaned["signature_bytes"] = self._read("signature")
        return cleaned
