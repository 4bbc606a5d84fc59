"""The single window's answers about FX reports and VAT claims, as the customs app receives them (callback
and polling) and hands them over by kind: registered in FinanceConfig.ready()."""

from __future__ import annotations

import logging

from django.apps import apps

from ismit.finance import services
from ismit.finance.kinds import FX_KIND, VAT_KIND, Kind

logger = logging.getLogger("ismit.finance")


def _handler(kind: Kind):
    def apply(window, payload: dict, notification_id: str) -> None:
        services.apply_answer(kind=kind, payload=payload, notification_id=notification_id)

    apply.__name__ = f"apply_{kind.code}_answer"
    apply.__qualname__ = apply.__name__
    return apply


apply_fx_answer = _handler(FX_KIND)
apply_vat_answer = _handler(VAT_KIND)


def register() -> bool:
    """Register the two handlers with the customs app's answer registry; False while there is none."""
    if not apps.is_installed("ismit.customs"):
        logger.debug("the customs app is not installed: FX and VAT answers are not applied")
        return False
    from ismit.customs.answers import register_answer_handler

    register_answer_handler(FX_KIND.json_kind, apply_fx_answer)
    register_answer_handler(VAT_KIND.json_kind, apply_vat_answer)
    return True
