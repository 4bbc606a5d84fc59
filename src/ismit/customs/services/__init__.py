"""Writes of the customs app: submit a declaration, answer a query with a correction (submission.py),
record what the outbox did with a declaration, sent or failed (sending.py), and configure single windows
(windows.py).

A declaration is written with its outbox message in one transaction; a worker delivers it
(tasks.deliver_declaration) and records the conversation (record_sent); the window's answers are applied
by applying.py (apply_event: in the order the window issued them, never back to an earlier status), and
what follows from a status (the checklist, notifications) is in checklist.py.
"""

from ismit.customs.services.sending import held_answers_look, record_failed, record_sent
from ismit.customs.services.submission import (
    MAX_ANSWER,
    TOPIC,
    DeclarationConflict,
    answer_query,
    submit_declaration,
)
from ismit.customs.services.windows import add_window

__all__ = [
    "MAX_ANSWER",
    "TOPIC",
    "DeclarationConflict",
    "add_window",
    "answer_query",
    "held_answers_look",
    "record_failed",
    "record_sent",
    "submit_declaration",
]
