"""Single windows, configured by operators."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from ismit.audit.services import record_event
from ismit.customs.models import Channel, Procedure, SingleWindow
from ismit.lib.errors import FieldErrors

# -- single windows (operators) ------------------------------------------------------------------------


def add_window(
    *,
    name: str,
    country: str,
    procedure: str,
    connector: str,
    base_url: str,
    client_id: str,
    secret: str = "",
    secret_env: str = "",
    timeout: float = 20.0,
) -> SingleWindow:
    """Configure (or reconfigure) the single window of a country, procedure and format."""
    errors = FieldErrors()
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors.add("country", _("Enter an ISO 3166 alpha-2 country code."))
    if procedure not in Procedure.values:
        errors.add("procedure", _("Choose export, import, fx or vat."))
    if connector not in Channel.values:
        errors.add("connector", _("Choose wco-xml, edifact or json."))
    if not base_url.startswith(("http://", "https://")):
        errors.add("base_url", _("Enter an http or https URL."))
    if not client_id:
        errors.add("client_id", _("This field is required."))
    if not secret and not secret_env:
        errors.add("secret", _("Give the shared secret, or the environment variable that holds it."))
    if not 0 < timeout <= 100:
        errors.add("timeout", _("Enter a number of seconds between 1 and 100."))
    errors.raise_if_any()
    with transaction.atomic():
        window, created = SingleWindow.objects.select_for_update().get_or_create(
            country=country,
            procedure=procedure,
            connector=connector,
            defaults={
                "name": name or f"{country} single window",
                "base_url": base_url,
                "client_id": client_id,
            },
        )
        window.name = name or window.name
        window.base_url = base_url
        window.client_id = client_id
        window.secret_env = secret_env
        window.set_secret(secret)
        window.timeout = timeout
        window.active = True
        window.save()
        record_event(
            actor=None,
            organisation_id=None,
            action="customs.window_added" if created else "customs.window_changed",
            obj=window,
            changes={
                "country": country,
                "procedure": procedure,
                "connector": connector,
                "base_url": base_url,
                "client_id": client_id,
                "secret_env": secret_env,
                "timeout": timeout,
            },
        )
    return window
