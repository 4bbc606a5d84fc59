"""What the documents app does when lower apps announce something (accounts/signals.py)."""

from __future__ import annotations

from ismit.documents import keys


def give_signing_key(sender, *, organisation, actor=None, **kwargs) -> None:
    """A verified organisation gets its key pair and certificate at once (inside the verification's
    transaction), or a new one if its name or country changed since its certificate was issued."""
    keys.ensure_signing_key(organisation, actor=actor)
