"""The outbox's delivery handlers of the two filings: POST the JSON body to the single window through the
customs app's connector (HMAC-signed, the version's Idempotency-Key, X-Correction-Of for a correction;
request and answer stored byte for byte with their SHA-256).

202: delivered, its conversation noted. 5xx, 408, 429, timeouts, refused connections: outbox.Retry (with
the same key: the window answers a repeated key with its first answer and creates nothing). Other 4xx
answers: outbox.Permanent — the message goes to the dead letters, the filing shows "not delivered", and an
operator may replay it once the cause is fixed.
"""

from __future__ import annotations

from ismit import outbox
from ismit.finance import customs_link, services
from ismit.finance.kinds import FX_KIND, VAT_KIND, Kind


def deliver(kind: Kind, message) -> None:
    from ismit.customs.connectors import post

    version = (
        kind.version_model.objects.select_related("filing", "filing__trade")
        .filter(idempotency_key=message.idempotency_key)
        .first()
    )
    if version is None:
        raise outbox.Permanent(f"No {kind.code} filing version has the key {message.idempotency_key}.")
    filing = version.filing
    window = customs_link.window_by_id(filing.window_id)
    if window is None:
        raise outbox.Retry(f"The single window #{filing.window_id} of this filing is not configured.")
    correction_of = (message.headers or {}).get("X-Correction-Of") or None
    try:
        result = post(
            window,
            kind.path,
            bytes(message.payload),
            content_type="application/json",
            idempotency_key=message.idempotency_key,
            correction_of=correction_of,
            organisation_id=filing.trade.organisation_id,
            trade_id=filing.trade_id,
            name=f"{kind.json_kind}.json",
        )
    except outbox.Permanent as exc:
        services.record_failed(kind=kind, idempotency_key=message.idempotency_key, error=exc.reason)
        raise
    services.record_sent(
        kind=kind, idempotency_key=message.idempotency_key, conversation_id=result.conversation_id
    )


@outbox.handler(FX_KIND.topic)
def deliver_fx_report(message) -> None:
    deliver(FX_KIND, message)


@outbox.handler(VAT_KIND.topic)
def deliver_vat_claim(message) -> None:
    deliver(VAT_KIND, message)
