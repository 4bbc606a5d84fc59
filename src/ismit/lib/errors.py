"""Errors that services raise and that pages and the API turn into messages for people."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class FieldErrors:
    """Collects field-level errors by path ("items[2].hs_code") and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(str(message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """{field path: [messages]} from any ValidationError; "__all__" for errors not on a field."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}
