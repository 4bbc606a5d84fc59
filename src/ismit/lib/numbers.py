"""Numbers as people type them into forms and spreadsheets."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_SPACES = (" ", "\u00a0", "\u202f")  # plain, no-break and narrow no-break (French thousands separators)


def typed_decimal(value: object) -> Decimal | None:
    """A decimal comma or point, spaces as thousands separators ("12 500,50"): the number, or None when
    the text is not a finite number."""
    text = str(value).replace(",", ".")
    for space in _SPACES:
        text = text.replace(space, "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
