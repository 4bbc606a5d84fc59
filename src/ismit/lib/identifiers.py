"""Registration identifiers (VAT, tax, EORI, business numbers) validated with python-stdnum."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu.vat import MEMBER_STATES as EU_VAT_COUNTRIES
from stdnum.exceptions import ValidationError as StdnumError

VAT = "vat"
TAX = "tax"
EORI = "eori"
BUSINESS = "business"

# For each scheme, the stdnum module names to try for a country, in order.
_STDNUM_NAMES = {
    VAT: ("vat",),
    TAX: ("tin", "nif", "vat"),
    BUSINESS: ("siren", "siret", "brn", "business_number", "orgnr", "cr"),
}
_EORI_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")


@dataclass(frozen=True)
class CheckedIdentifier:
    value: str  # normalised (compact) value
    validator: str  # the stdnum module that checked it, or "" where none exists for that country


def _stdnum_module(country: str, scheme: str):
    for name in _STDNUM_NAMES.get(scheme, ()):
        module = get_cc_module(country.lower(), name)
        if module is not None:
            return module
    return None


def check_identifier(scheme: str, country: str, raw: str) -> CheckedIdentifier:
    """Validate and normalise an identifier; raise ValidationError with a plain message if invalid."""
    value = re.sub(r"[\s.\-/]", "", raw or "").upper()
    if not value:
        raise ValidationError(_("Enter an identifier."), code="required")
    if scheme == EORI:
        return _check_eori(value)
    if scheme not in _STDNUM_NAMES:
        raise ValidationError(_("Unknown identifier scheme: %(scheme)s") % {"scheme": scheme}, code="scheme")
    module = _stdnum_module(country, scheme)
    if module is None:
        if len(value) > 40 or not value.isalnum():
            raise ValidationError(
                _("An identifier may only contain letters and digits (at most 40)."), code="format"
            )
        return CheckedIdentifier(value=value, validator="")
    candidate = value
    if scheme == VAT and candidate[:2].isalpha() and candidate[:2] != country.upper():
        raise ValidationError(
            _("This VAT number belongs to country %(prefix)s, not %(country)s.")
            % {"prefix": candidate[:2], "country": country.upper()},
            code="country",
        )
    try:
        compact = module.validate(candidate)
    except StdnumError as exc:
        raise ValidationError(
            _("%(value)s is not a valid %(name)s: %(reason)s")
            % {"value": raw, "name": _module_label(module), "reason": exc.message},
            code="invalid",
        )
    compact = str(compact)
    if scheme == VAT and country.lower() in EU_VAT_COUNTRIES and not compact[:2].isalpha():
        compact = _eu_prefix(country) + compact  # EU VAT numbers are written with their country prefix
    return CheckedIdentifier(value=compact, validator=module.__name__)


def _eu_prefix(country: str) -> str:
    return "EL" if country.upper() == "GR" else country.upper()


def _module_label(module) -> str:
    doc = (module.__doc__ or module.__name__).strip().splitlines()[0]
    return doc.rstrip(".")


def _check_eori(value: str) -> CheckedIdentifier:
    if not _EORI_RE.match(value):
        raise ValidationError(
            _("An EORI number is a two-letter country code followed by up to 15 letters or digits."),
            code="format",
        )
    prefix, rest = value[:2], value[2:]
    # Where the national part of the EORI is itself a checked number, validate it too.
    national = {"FR": ("fr", "siret"), "GB": ("gb", "vat"), "XI": ("gb", "vat")}.get(prefix)
    if national:
        module = get_cc_module(*national)
        if module is not None and not module.is_valid(rest if prefix not in {"GB", "XI"} else rest[:9]):
            raise ValidationError(
                _("%(value)s is not a valid EORI number: the national part is not a valid %(name)s.")
                % {"value": value, "name": _module_label(module)},
                code="invalid",
            )
        return CheckedIdentifier(value=value, validator=f"eori+{module.__name__}" if module else "eori")
    return CheckedIdentifier(value=value, validator="eori")
