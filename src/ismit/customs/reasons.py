"""What a single window's error codes and pointers mean, in the user's language, and the trade field each
one asks to fix.

A reason is stored as received — {"code", "text", "item", "tag", "pointer"} — and described when shown, so
each person reads it in their own language; a code this catalogue does not know is shown with the text
the window sent. The codes are those of the reference single window (docs/single-window-protocol.md).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MESSAGES = {
    "NSW10001": gettext_lazy("The declaration's function code is missing or not accepted."),
    "NSW10002": gettext_lazy("The declaration type is not accepted."),
    "NSW10003": gettext_lazy("The trade reference (used as local reference number) is missing or too long."),
    "NSW10004": gettext_lazy("The declarant is not identified: give an identifier, or a name and country."),
    "NSW10005": gettext_lazy("The exporter is not identified: give an identifier, or a name and country."),
    "NSW10006": gettext_lazy("A party identifier must be 2 to 17 letters or digits."),
    "NSW10007": gettext_lazy("The declaration has no goods line."),
    "NSW10008": gettext_lazy("The number of goods lines does not match the lines declared."),
    "NSW10009": gettext_lazy("The transport mode is missing or not valid."),
    "NSW10010": gettext_lazy("A country code is not valid."),
    "NSW10011": gettext_lazy("A currency code is not valid."),
    "NSW10012": gettext_lazy("The invoice amount is not a number."),
    "NSW10013": gettext_lazy("The invoice amount differs from the total of the goods lines."),
    "NSW10014": gettext_lazy("The message envelope is not valid."),
    "NSW10015": gettext_lazy("The message does not follow the UN/EDIFACT directory."),
    "NSW10016": gettext_lazy("The country of destination is missing."),
    "NSW10017": gettext_lazy(
        "This local reference number (LRN) was used by another declaration within 48 hours."
    ),
    "NSW20001": gettext_lazy("The HS code must have 6 to 8 digits."),
    "NSW20002": gettext_lazy("The goods description is missing."),
    "NSW20003": gettext_lazy("The gross mass is missing or not a number."),
    "NSW20004": gettext_lazy("The net mass is missing or not a number."),
    "NSW20005": gettext_lazy("The gross mass is less than the net mass."),
    "NSW20006": gettext_lazy("The statistical value (line amount) is missing or not a number."),
    "NSW20007": gettext_lazy("The line amount is not a number."),
    "NSW20008": gettext_lazy("The goods lines must be numbered 1, 2, 3…"),
    "NSW30001": gettext_lazy(
        "Documentary check: the declared value is above the threshold. Present the commercial invoice and "
        "the transport document."
    ),
    "NSW30002": gettext_lazy("Physical inspection: goods of a sensitive HS chapter."),
    "NSW30003": gettext_lazy("Physical inspection (random selection)."),
    "NSW30004": gettext_lazy("Exit of the goods confirmed."),
    "NSW90001": gettext_lazy("Customs asks a question about the goods description."),
}

# WCO data element (Pointer TagID) -> the trade field that holds it: on a goods line ("items[]"), or on
# the trade.
ITEM_TAGS = {
    "145": "hs_code",
    "137": "description",
    "126": "gross_mass_kg",
    "128": "net_mass_kg",
    "114": "unit_price",
    "112": "unit_price",
    "063": "origin_country",
}
TRADE_TAGS = {
    "109": "items",
    "228": "items",
    "T022": "transport_mode",
    "465": "place_of_discharge",
    "062": "place_of_loading",
    "R031": "seller",
    "R032": "seller",
    "R123": "seller",
    "R124": "seller",
    "D026": "reference",
}
# For answers without pointers (CUSRES): the field each code is about.
CODE_FIELDS = {
    "NSW20001": "hs_code",
    "NSW20002": "description",
    "NSW20003": "gross_mass_kg",
    "NSW20004": "net_mass_kg",
    "NSW20005": "gross_mass_kg",
    "NSW20006": "unit_price",
    "NSW20007": "unit_price",
    "NSW90001": "description",
    "NSW10003": "reference",
    "NSW10004": "seller",
    "NSW10005": "seller",
    "NSW10006": "seller",
    "NSW10007": "items",
    "NSW10008": "items",
    "NSW10009": "transport_mode",
    "NSW10011": "currency",
    "NSW10013": "items",
    "NSW10016": "place_of_discharge",
    "NSW10017": "reference",
}
ITEM_FIELDS = frozenset(ITEM_TAGS.values()) | {"hs_code", "description"}


def field_of(reason: dict) -> str:
    """The trade field path a reason asks to fix ("items[1].hs_code", "transport_mode"), or ""."""
    tag = str(reason.get("tag") or "")
    name = ITEM_TAGS.get(tag) or TRADE_TAGS.get(tag) or CODE_FIELDS.get(str(reason.get("code") or ""), "")
    item = reason.get("item")
    if name in ITEM_FIELDS:
        return f"items[{int(item) - 1}].{name}" if isinstance(item, int) and item > 0 else "items"
    return name


def describe(reason: dict) -> str:
    """The reason in the active language: "Goods line 2: The HS code must have 6 to 8 digits."."""
    code = str(reason.get("code") or "")
    known = MESSAGES.get(code)
    text = str(known) if known is not None else str(reason.get("text") or code)
    item = reason.get("item")
    if isinstance(item, int) and item > 0:
        return _("Goods line %(line)s: %(reason)s") % {"line": item, "reason": text}
    return text


def statement(details: dict) -> str:
    """What an answer says beside its status (why a check, the exit), in the active language: the text as
    the window sent it when its code is not known here, "" when it says nothing."""
    if not details.get("text") and not details.get("code"):
        return ""
    return describe({"code": details.get("code"), "text": details.get("text"), "item": details.get("item")})


def described(reasons: list[dict]) -> list[dict]:
    """Reasons with their message in the active language and the field to fix, for pages and the API."""
    return [
        {
            "code": str(r.get("code") or ""),
            "message": describe(r),
            "received": str(r.get("text") or ""),
            "item": r.get("item") if isinstance(r.get("item"), int) else None,
            "field": field_of(r),
            "pointer": str(r.get("pointer") or ""),
        }
        for r in reasons
    ]


_ITEM_IN_TEXT = re.compile(r"^Goods item (\d+):")


def item_in_question(text: str) -> int | None:
    """The goods item a window's question names ("Goods item 2: the description…"), if any."""
    match = _ITEM_IN_TEXT.match(text or "")
    return int(match.group(1)) if match else None
