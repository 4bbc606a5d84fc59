"""What the customs app tells the apps above it (they connect in their AppConfig.ready())."""

from __future__ import annotations

from django.dispatch import Signal

#: Answers of a single window applied to their declarations, inside the transaction that applies them:
#: send(sender=DeclarationEvent, events=[DeclarationEvent, ...]) (their declarations loaded).
answers_applied = Signal()
