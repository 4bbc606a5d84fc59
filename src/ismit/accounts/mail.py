"""The platform's e-mails, sent through the outbox: written with the change that causes them, sent by a
worker after the commit, retried while the mail server is out of reach, never sent for a change rolled back.

`queue_mails([Mail(...), ...])` inside the caller's transaction writes one outbox message (topic
"accounts.mail") for the lot; the worker's handler, `send_queued(message)` (registered in tasks.py), sends
them over one connection to the mail server:

- the server out of reach: nothing sent, the message is retried with the outbox's backoff (and after its
  last attempt is a dead letter an operator can replay, on the outbox page);
- a mailbox the server refuses for good (5xx): that e-mail is logged and dropped, the others go;
- a mailbox refused for now (4xx), or the connection lost midway: the e-mails not sent go into a new
  message of their own, tried again after the outbox's backoff (a round more each time, given up after
  OUTBOX_MAX_ATTEMPTS rounds); those sent are not sent twice.

Delivery is at least once, as for every outbox message: a worker killed midway sends its e-mails again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import uuid
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from ismit.outbox import Retry
from ismit.outbox.services import backoff_seconds, enqueue

TOPIC = "accounts.mail"
logger = logging.getLogger("ismit.notifications")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def queue_mails(mails: list[Mail], *, organisation_id: int | None = None) -> None:
    """Write the e-mails to send once the caller's transaction commits (inside that transaction).
    `organisation_id`: the organisation they are all about, if one (None: the platform's own message)."""
    if not mails:
        return
    enqueue(
        topic=TOPIC,
        payload=_payload(mails),
        idempotency_key=f"mail:{uuid.uuid4()}",
        organisation_id=organisation_id,
        fresh_key=True,
    )


def _payload(mails: list[Mail]) -> bytes:
    return json.dumps({"mails": [asdict(m) for m in mails]}, ensure_ascii=False).encode("utf-8")


def mails_of(message) -> list[Mail]:
    return [Mail(**m) for m in json.loads(bytes(message.payload))["mails"]]


def send_queued(message) -> None:
    """Send an outbox message's e-mails (see the module's text). Raises outbox.Retry when the mail server
    cannot be reached at all."""
    mails = mails_of(message)
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # down or out of reach: the whole message is tried again later
        raise Retry(f"could not reach the mail server: {type(exc).__name__}: {exc}") from exc
    later: list[Mail] = []
    try:
        for index, mail in enumerate(mails):
            if getattr(connection, "connection", "") is None:  # the SMTP connection lost on the last e-mail
                try:
                    connection.open()
                except Exception:
                    logger.exception("lost the mail server; %d e-mail(s) left for later", len(mails) - index)
                    later += mails[index:]
                    break
            try:
                connection.send_messages([EmailMessage(mail.subject, mail.body, None, [mail.to])])
            except Exception as exc:
                if _refused_for_good(exc):
                    logger.error(
                        "the mail server refused the e-mail %r to %s: %s", mail.subject, mail.to, exc
                    )
                else:
                    logger.warning(
                        "could not e-mail %r to %s now, tried again later: %s", mail.subject, mail.to, exc
                    )
                    later.append(mail)
                if not _still_connected(exc):
                    _close(connection)
    finally:
        _close(connection)
    if later:
        _queue_later(message, later)


def _refused_for_good(exc: Exception) -> bool:
    """A permanent refusal (an SMTP reply in the 5xx): retrying the same e-mail cannot succeed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _still_connected(exc: Exception) -> bool:
    """The server answered (a refusal): the connection can carry the next e-mail."""
    return isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)


def _queue_later(message, later: list[Mail]) -> None:
    """The e-mails not sent, as a message of their own, first tried after the outbox's backoff for its
    round; after OUTBOX_MAX_ATTEMPTS rounds they are given up (logged). Its key is derived from the first
    message's, the round and what it holds: a handler run again writes no second one."""
    round_ = int(message.headers.get("round") or 1) + 1
    if round_ > settings.OUTBOX_MAX_ATTEMPTS:
        for mail in later:
            logger.error("gave up e-mailing %r to %s after %d rounds", mail.subject, mail.to, round_ - 1)
        return
    first = message.headers.get("first") or message.idempotency_key
    payload = _payload(later)
    with transaction.atomic():
        enqueue(
            topic=TOPIC,
            payload=payload,
            idempotency_key=f"{first[:100]}/{round_}-{hashlib.sha256(payload).hexdigest()[:32]}",
            organisation_id=message.organisation_id,
            headers={"first": first, "round": str(round_)},
            delay=backoff_seconds(round_ - 1),
        )


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:
        logger.exception("could not close the connection to the mail server")
