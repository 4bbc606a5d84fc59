"""Background work of the accounts app: sending the platform's e-mails (the handler of the outbox topic
"accounts.mail", see accounts/mail.py)."""

from __future__ import annotations

from ismit import outbox
from ismit.accounts import mail


@outbox.handler(mail.TOPIC)
def deliver_mails(message) -> None:
    mail.send_queued(message)
