"""A real round trip against the reference single window (`ismit nsw-sim` as its own process, over HTTP):
the export declaration is cleared and the goods exit, then the FX settlement report and the VAT refund claim
are delivered by the outbox handler in this process, and the window's answers come back through the customs
app's answer path (its callback view, and its polling) to move the trade's financial steps.

The window checks our reports against the declaration it cleared (same MRN, invoice number, currency and
amount): the bodies built from the entered data pass its checks as they are.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import cashew_trade_data
from ismit.customs.models import SingleWindow
from ismit.customs.tests.support import (
    CLIENT,
    SECRET,
    Relay,
    Sim,
    deliver,
    follow,
    make_window,
    replay,
    sequence_of,
    status_of,
)
from ismit.finance.models import FilingStatus, FxReport, VatClaim
from ismit.finance.services import submit_fx_report, submit_vat_claim
from ismit.nsw_sim import mrn
from ismit.outbox.models import OutboxMessage
from ismit.outbox.services import deliver_message
from ismit.trades.models import ChecklistStep
from ismit.trades.services import GoodsItemData

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_outbox(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_BACKOFF_BASE_S = 0
    settings.OUTBOX_BACKOFF_MAX_S = 0


@pytest.fixture(scope="module")
def relay():
    r = Relay()
    yield r
    r.close()


@pytest.fixture(scope="module")
def sim(relay, tmp_path_factory):
    """`ismit nsw-sim` on a free port with its own database (no delay), calling back the relay at the
    callback path of window 1 — where the platform takes every answer of its client."""
    s = Sim(tmp_path_factory.mktemp("nsw-sim"), relay.url(1))
    yield s
    s.stop()


@pytest.fixture
def windows(db, sim) -> dict[str, SingleWindow]:
    export = make_window(sim)  # pk 1: the callback endpoint
    made = {"export": export}
    for procedure in ("fx", "vat"):
        window = SingleWindow(
            name=f"Guichet unique CI ({procedure})",
            country="CI",
            procedure=procedure,
            connector="json",
            base_url=export.base_url,
            client_id=CLIENT,
            timeout=10.0,
        )
        window.set_secret(SECRET)
        window.save()
        made[procedure] = window
    return made


@pytest.fixture
def small_trade(cast, exporter, today):
    """The cashew export, small enough (11,475.00 EUR) to be cleared with no documentary check."""
    from ismit.trades.services import create_trade

    def line(description, hs_code, price):
        return GoodsItemData(
            description=description,
            hs_code=hs_code,
            origin_country="CI",
            quantity=Decimal("1500"),
            unit="KGM",
            packages_count=75,
            package_type="BG",
            net_mass_kg=Decimal("1500"),
            gross_mass_kg=Decimal("1545"),
            unit_price=Decimal(price),
        )

    data = cashew_trade_data(
        invoice_date=today - dt.timedelta(days=20),
        planned_departure=today - dt.timedelta(days=10),
        items=[
            line("Cashew kernels W320, shelled", "080132", "6.20"),
            line("Cashew nuts in shell", "080131", "1.45"),
        ],
    )
    return create_trade(actor=exporter, organisation=cast.msme, data=data)


def step(trade, code: str) -> ChecklistStep:
    return ChecklistStep.objects.get(trade=trade, code=code)


def file_and_follow(client, relay, kind_model, filing) -> list[dict]:
    """Deliver the filing's outbox message here (what a worker does), then replay the window's callbacks
    about it through the customs callback view until it is final."""
    message = OutboxMessage.objects.get(idempotency_key=filing.idempotency_key)
    assert deliver_message(message_id=message.pk, worker="test") == "delivered"
    filing.refresh_from_db()
    assert filing.status in (FilingStatus.SENT, FilingStatus.RECEIVED) and filing.conversation_id
    replayed = []
    deadline = time.time() + 20
    while time.time() < deadline:
        for callback in relay.take(filing.conversation_id):
            assert replay(client, callback).status_code == 204
            replayed.append(callback)
        filing.refresh_from_db()
        final = filing.status in (FilingStatus.ACCEPTED, FilingStatus.REJECTED, FilingStatus.QUERY)
        # The window's "received" comes first in sequence but, at zero delay, not always first in time.
        if final and any(status_of(c) == "received" for c in replayed):
            return replayed
        time.sleep(0.05)
    raise AssertionError(f"{kind_model.__name__} still {filing.status} after 20 s")


def test_fx_report_and_vat_claim_round_trip_through_the_single_window(
    client, cast, sim, relay, windows, small_trade, exporter, identifiers, pay, today
):
    from ismit.customs.services import submit_declaration

    trade = small_trade
    # The export declaration, cleared, and the goods exited (the customs app's own flow).
    declaration = submit_declaration(actor=exporter, trade=trade)
    assert deliver(declaration) == "delivered"
    follow(client, relay, declaration, until="goods_exited")
    declaration.refresh_from_db()
    assert mrn.is_valid(declaration.mrn)

    pay(trade, "6000.00", reference="SGCI-1", days_ago=5)
    pay(trade, "5400.00", reference="SGCI-2", days_ago=2)  # 75.00 EUR of bank charges: within 2 %

    # -- the FX settlement report
    report = submit_fx_report(actor=exporter, trade=trade)
    assert report.payload["declaration_mrn"] == declaration.mrn
    assert "Bank charges of 75.00 EUR" in report.payload["explanation"]
    callbacks = file_and_follow(client, relay, FxReport, report)
    report.refresh_from_db()
    assert report.status == FilingStatus.ACCEPTED, (report.reasons, report.question)
    assert report.registration_number.startswith("FX")
    # Both answers came (at zero delay the window's callbacks may arrive in either order).
    statuses = [c["headers"]["X-Notification-Status"] for c in sorted(callbacks, key=sequence_of)]
    assert statuses == ["received", "accepted"]
    assert step(trade, "fx_settlement").status == "done"

    # -- the VAT refund claim, with the input VAT the MSME enters
    claim = submit_vat_claim(
        actor=exporter, trade=trade, vat_amount="812.40", input_invoices="SUP-17, SUP-18"
    )
    assert claim.payload["export_date"] <= today.isoformat()
    file_and_follow(client, relay, VatClaim, claim)
    claim.refresh_from_db()
    assert claim.status == FilingStatus.ACCEPTED, (claim.reasons, claim.question)
    assert claim.registration_number.startswith("VR")
    assert step(trade, "vat_refund").status == "done"

    # The window holds each filing once, as sent.
    records = {
        r["kind"]: r
        for r in sim.records()["records"]
        if r["conversation_id"] in (report.conversation_id, claim.conversation_id)
    }
    assert records["fx_settlement"]["idempotency_key"] == report.idempotency_key
    assert records["vat_refund_claim"]["idempotency_key"] == claim.idempotency_key
    assert records["fx_settlement"]["arrivals"] == records["vat_refund_claim"]["arrivals"] == 1
    assert records["fx_settlement"]["statuses"] == ["received", "accepted"]

    # A re-delivered message (a worker killed after sending) creates nothing new at the window...
    message = OutboxMessage.objects.get(idempotency_key=report.idempotency_key)
    OutboxMessage.objects.filter(pk=message.pk).update(status="pending", next_attempt_at=timezone.now())
    assert deliver_message(message_id=message.pk, worker="test") == "delivered"
    again = [
        r for r in sim.records("fx_settlement")["records"] if r["conversation_id"] == report.conversation_id
    ]
    assert len(again) == 1 and again[0]["arrivals"] == 2
    # ...and the same answers read again by polling change nothing.
    from ismit.customs.answers import poll_window

    SingleWindow.objects.filter(pk=windows["export"].pk).update(poll_after=0)
    assert poll_window(SingleWindow.objects.get(pk=windows["export"].pk)) > 0
    report.refresh_from_db()
    assert report.status == FilingStatus.ACCEPTED
    assert report.versions.count() == 1


def test_answers_are_recovered_by_polling_when_callbacks_are_lost(
    client, cast, sim, relay, windows, small_trade, exporter, identifiers, pay
):
    from ismit.customs.answers import poll_window
    from ismit.customs.services import submit_declaration

    trade = small_trade
    declaration = submit_declaration(actor=exporter, trade=trade)
    assert deliver(declaration) == "delivered"
    follow(client, relay, declaration, until="goods_exited")
    pay(trade, "11475.00", reference="SGCI-9")
    report = submit_fx_report(actor=exporter, trade=trade)
    message = OutboxMessage.objects.get(idempotency_key=report.idempotency_key)
    assert deliver_message(message_id=message.pk, worker="test") == "delivered"
    report.refresh_from_db()
    sim.wait_notifications(report.conversation_id, 2)
    relay.take(report.conversation_id)  # the callbacks never reach the platform
    deadline = time.time() + 10
    while report.status != FilingStatus.ACCEPTED and time.time() < deadline:
        poll_window(SingleWindow.objects.get(pk=windows["export"].pk))
        report.refresh_from_db()
    assert report.status == FilingStatus.ACCEPTED
    assert step(trade, "fx_settlement").status == "done"


def test_a_refusal_of_the_window_itself_shows_not_delivered(
    client, cast, sim, relay, windows, small_trade, exporter, identifiers, pay
):
    """A message the window refuses outright (here: signed with the wrong secret, 401) is not retried: the
    outbox dead-letters it, and the MSME sees "not delivered"."""
    from ismit.customs.models import Declaration

    trade = small_trade
    from ismit.customs.services import submit_declaration

    declaration = submit_declaration(actor=exporter, trade=trade)
    assert deliver(declaration) == "delivered"
    follow(client, relay, declaration, until="goods_exited")
    pay(trade, "11475.00", reference="SGCI-10")
    fx = windows["fx"]
    fx.set_secret("not-the-secret")
    fx.save()
    report = submit_fx_report(actor=exporter, trade=trade)
    message = OutboxMessage.objects.get(idempotency_key=report.idempotency_key)
    assert deliver_message(message_id=message.pk, worker="test") == "permanent"
    report.refresh_from_db()
    assert report.status == FilingStatus.FAILED and "401" in report.delivery_error
    assert step(trade, "fx_settlement").status == "blocked"
    assert OutboxMessage.objects.get(pk=message.pk).status == "dead"
    assert Declaration.objects.filter(trade=trade).count() == 1
