"""What finance reads of the customs app: the trade's cleared export declaration as it was declared (the
WCO DEC or CUSDEC message sent, read back), and the single window a filing goes to. The one module of
finance that knows the customs models."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.utils import timezone

from ismit.finance import crosscheck as cc

logger = logging.getLogger("ismit.finance")

DECLARED_STATUSES = (cc.CLEARED, cc.GOODS_EXITED)


def _model(name: str):
    try:
        return apps.get_model("customs", name)
    except LookupError:
        return None


# -- the declaration as declared ----------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _from_wco(data: bytes) -> dict:
    from ismit.documents.wco_reader import read_declaration

    d = read_declaration(data)
    return {
        "invoice_number": d.invoice_number,
        "invoice_amount": d.invoice_amount,
        "currency": d.invoice_currency or d.currency,
        "items": tuple(
            cc.DeclaredItem(
                sequence=item.sequence,
                quantity=item.tariff_quantity,
                unit=item.tariff_unit,
                net_mass_kg=item.net_mass_kg,
                statistical_value=item.statistical_value,
                currency=item.statistical_currency,
            )
            for item in d.items
        ),
    }


def _from_cusdec(data: bytes) -> dict:
    from ismit.documents.edifact_directory import component, messages_of, parse_segments

    messages = [m for m in messages_of(parse_segments(data)) if component(m[0], 1, 0) == "CUSDEC"]
    if not messages:
        raise ValueError("no CUSDEC message")
    facts: dict = {"invoice_number": "", "invoice_amount": None, "currency": ""}
    items: list[dict] = []
    for seg in messages[0]:
        item = items[-1] if items else None
        if seg.tag == "CST":
            items.append({"sequence": int(component(seg, 0) or len(items) + 1)})
        elif seg.tag == "DOC" and component(seg, 0, 0) == "380" and item is None:
            facts["invoice_number"] = component(seg, 1, 0)
        elif seg.tag == "MOA":
            qualifier, amount, currency = component(seg, 0, 0), component(seg, 0, 1), component(seg, 0, 2)
            if item is None and qualifier == "39":
                facts["invoice_amount"], facts["currency"] = _decimal(amount), currency
            elif item is not None and qualifier == "123":
                item["statistical_value"], item["currency"] = _decimal(amount), currency
        elif seg.tag == "MEA" and item is not None:
            if component(seg, 0) == "WT" and component(seg, 1) == "AAL":
                item["net_mass_kg"] = _decimal(component(seg, 2, 1))
            elif component(seg, 0) == "AAF":
                item["unit"], item["quantity"] = component(seg, 2, 0), _decimal(component(seg, 2, 1))
    facts["items"] = tuple(cc.DeclaredItem(**item) for item in items)
    return facts


def _declared_values(declaration) -> dict:
    """Invoice number, amount, currency and goods items of the message sent; {} when it cannot be read."""
    document = declaration.document
    if document is None or not document.file:
        return {}
    try:
        with document.file.open("rb") as f:
            data = f.read()
        if declaration.channel == "edifact":
            return _from_cusdec(data)
        return _from_wco(data)
    except Exception:  # a declaration that cannot be read back: its values are not compared
        logger.exception(
            "could not read back the declaration %s of trade %s", declaration.pk, declaration.trade_id
        )
        return {}


def _export_date(declaration) -> dt.date:
    """When the goods exited (or were released, before the exit is confirmed)."""
    Event = _model("DeclarationEvent")
    if Event is not None and declaration.conversation_id:
        events = Event.objects.filter(
            window_id=declaration.window_id, conversation_id=declaration.conversation_id, applied=True
        )
        for status in (cc.GOODS_EXITED, cc.CLEARED):
            at = (
                events.filter(status=status)
                .order_by("sequence")
                .values_list("received_at", flat=True)
                .first()
            )
            if at is not None:
                return timezone.localdate(at)
    return timezone.localdate(declaration.status_at)


def declared(trade) -> cc.Declared | None:
    """The trade's export declaration cleared by customs (or whose goods have exited), as declared."""
    Declaration = _model("Declaration")
    if Declaration is None:
        return None
    declaration = (
        Declaration.objects.filter(trade_id=trade.pk, kind="export", status__in=DECLARED_STATUSES)
        .select_related("document")
        .order_by("-version")
        .first()
    )
    if declaration is None:
        return None
    return cc.Declared(
        mrn=declaration.mrn,
        status=declaration.status,
        status_label=str(declaration.get_status_display()),
        export_date=_export_date(declaration),
        **_declared_values(declaration),
    )


# -- single windows -----------------------------------------------------------------------------------------


def find_window(country: str, procedure: str):
    """The active single window that takes `procedure` ("fx", "vat") for `country`, or None."""
    SingleWindow = _model("SingleWindow")
    if SingleWindow is None:
        return None
    return (
        SingleWindow.objects.filter(country=country, procedure=procedure, active=True).order_by("pk").first()
    )


def window_by_id(pk: int | None):
    SingleWindow = _model("SingleWindow")
    if SingleWindow is None or pk is None:
        return None
    return SingleWindow.objects.filter(pk=pk).first()


def window_url(window, path: str) -> str:
    return f"{window.base_url.rstrip('/')}{path}"
