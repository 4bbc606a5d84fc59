"""Declarations through the platform, its workers and the reference single window, with faults.

Every test submits the declarations of new trades of the demo MSME through the API, lets the faults
happen, and ends with Stack.check_exactly_once: each declaration shows its final status through the
API, and reached the single window as exactly one declaration (the window's own records: one record for
its idempotency key and its LRN; a retried request counts as another arrival on that record, never as a
second declaration). The processes and the broker are described in conftest.py.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e_sw.conftest import RANK, wait_for


def assert_never_backwards(events: list[dict]) -> None:
    """The answers applied to a declaration, in the order of their sequence, never go back in the
    protocol's order, and the last one is the final status."""
    applied = sorted((e for e in events if e["applied"]), key=lambda e: e["sequence"])
    ranks = [RANK[e["status"]] for e in applied]
    assert ranks == sorted(ranks), applied
    assert applied[-1]["status"] == "goods_exited", applied


def test_happy_path_twenty_declarations_go_through_to_the_exit_of_the_goods(sw):
    trades = sw.new_trades("E2E-A", 20)
    declarations = []
    for trade_id in trades:
        key = f"e2e-a-{trade_id}"
        declaration_id = sw.submit(trade_id, key)
        declarations.append(declaration_id)
    # The same API request again (a client retrying after a lost answer) gives the same declaration.
    status, body, headers = sw.api(
        "POST", f"/trades/{trades[0]}/declarations", {}, {"Idempotency-Key": f"e2e-a-{trades[0]}"}
    )
    assert status == 201 and body["id"] == declarations[0]
    assert headers.get("Idempotent-Replayed") == "true"
    sw.wait_final(declarations, 60)
    seen = sw.check_exactly_once(declarations)
    for declaration_id in declarations:
        record = seen[declaration_id]["sim"]
        assert record["arrivals"] == 1  # no fault: each request arrived once
        # At zero delay the callbacks race each other and the poller: the inbox applies what waits in
        # sequence order, and one that comes after a later one was applied is kept but not applied.
        assert_never_backwards(seen[declaration_id]["events"])


def fault_count(sw, kind: str) -> int:
    return sw.sim_records()["faults"].get(kind, 0)


def all_tried_some_retried(sw, declarations: list[int]) -> bool:
    """Every delivery was attempted at least once, and one attempt at least failed (to be retried). The
    faults are drawn per idempotency key and attempt: with a rate of 0.7 and 10 declarations, the chance
    that no first attempt fails is 0.3^10 (6 in a million)."""
    outbox = sw.outbox(declarations).values()
    return all(m["outcomes"] for m in outbox) and any("retry" in m["outcomes"] for m in outbox)


def test_a_worker_killed_during_deliveries_is_replaced_and_no_declaration_is_sent_twice(sw):
    trades = sw.new_trades("E2E-B", 10)
    # Every submission is taken by the window, then answered 3 s later (within the connector's 10 s): the
    # worker's deliveries are in flight, their declarations already at the window, when it is killed.
    sw.faults(intake_timeout_rate=1.0, intake_timeout_seconds=3)
    declarations = [sw.submit(trade_id) for trade_id in trades]

    def in_flight() -> list[int]:
        at_window = {r["idempotency_key"] for r in sw.sim_records()["records"]}
        outbox = sw.outbox(declarations)
        return [d for d, m in outbox.items() if m["status"] == "sending" and m["key"] in at_window]

    flying = wait_for(in_flight, 30, lambda: sw._progress(declarations))
    sw.kill("worker")  # SIGKILL to the worker and its pool: no chance to record anything
    outbox = sw.outbox(flying)
    assert all(outbox[d]["status"] == "sending" and outbox[d]["outcomes"] == [] for d in flying), outbox
    sw.faults(intake_timeout_rate=0.0)
    sw.start_worker()
    sw.wait_final(declarations, 60)

    seen = sw.check_exactly_once(declarations)
    outbox = sw.outbox(declarations)
    for declaration_id in flying:
        # The killed attempt expired and was recorded as lost; the next one was delivered. The window saw
        # the request twice, under one idempotency key: one declaration.
        assert outbox[declaration_id]["outcomes"] == ["lost", "delivered"], outbox[declaration_id]
        assert seen[declaration_id]["sim"]["arrivals"] == 2, seen[declaration_id]["sim"]


def test_the_single_window_answering_500_then_recovering_loses_nothing(sw):
    trades = sw.new_trades("E2E-C", 10)
    errors_before = fault_count(sw, "intake_error")
    sw.faults(intake_error_rate=0.7, seed=3)
    declarations = [sw.submit(trade_id) for trade_id in trades]
    wait_for(lambda: all_tried_some_retried(sw, declarations), 30, lambda: sw._progress(declarations))
    sw.faults(intake_error_rate=0.0)  # the window recovers
    sw.wait_final(declarations, 60)

    seen = sw.check_exactly_once(declarations)
    assert fault_count(sw, "intake_error") > errors_before
    outbox = sw.outbox(declarations)
    for declaration_id in declarations:
        outcomes = outbox[declaration_id]["outcomes"]
        assert outcomes[-1] == "delivered" and set(outcomes[:-1]) <= {"retry"}, outcomes
        # A 500 records nothing at the window: the one arrival is the attempt that was taken.
        assert seen[declaration_id]["sim"]["arrivals"] == 1


def test_requests_that_time_out_are_retried_without_creating_a_second_declaration(sw):
    trades = sw.new_trades("E2E-D", 10)
    # The connector waits 1 s; the window takes most submissions, and answers them only after 3 s.
    sw.add_window(timeout=1)
    sw.faults(intake_timeout_rate=0.7, intake_timeout_seconds=3, seed=4)
    declarations = [sw.submit(trade_id) for trade_id in trades]
    wait_for(lambda: all_tried_some_retried(sw, declarations), 40, lambda: sw._progress(declarations))
    sw.faults(intake_timeout_rate=0.0)  # the window answers in time again
    sw.wait_final(declarations, 60)

    seen = sw.check_exactly_once(declarations)
    errors = dict(
        sw.query(
            "SELECT m.idempotency_key, a.error FROM outbox_outboxattempt a "
            "JOIN outbox_outboxmessage m ON m.id = a.message_id WHERE a.outcome = 'retry'"
        )
    )
    outbox = sw.outbox(declarations)
    retried = [d for d in declarations if "retry" in outbox[d]["outcomes"]]
    assert retried
    for declaration_id in retried:
        assert "within 1 s" in errors[outbox[declaration_id]["key"]]  # a timeout, nothing else
        # The window had recorded the request that timed out; the retry arrived on the same record.
        arrivals = seen[declaration_id]["sim"]["arrivals"]
        assert 2 <= arrivals <= len(outbox[declaration_id]["outcomes"]), seen[declaration_id]["sim"]


def test_dropped_callbacks_are_recovered_by_polling(sw):
    trades = sw.new_trades("E2E-E", 10)
    dropped_before = fault_count(sw, "callback_dropped")
    sw.faults(callback_drop_rate=0.5, seed=5)
    declarations = [sw.submit(trade_id) for trade_id in trades]
    sw.wait_final(declarations, 60)

    seen = sw.check_exactly_once(declarations)
    dropped = fault_count(sw, "callback_dropped") - dropped_before
    assert dropped >= 5
    # A dropped notification never came by callback: the platform read it by polling the window.
    events = {e["notification_id"]: e for d in declarations for e in seen[d]["events"]}
    ids = {row[0] for row in sw.sim_db("SELECT detail FROM faults WHERE kind = 'callback_dropped'")}
    mine = ids & set(events)
    assert all(events[n]["via"] == "poll" for n in mine), [(events[n]) for n in mine]
    assert len(mine) == dropped, (len(mine), dropped, ids - set(events))


def test_duplicated_and_out_of_order_callbacks_never_move_a_status_back(sw):
    trades = sw.new_trades("E2E-F", 10)
    before = {kind: fault_count(sw, kind) for kind in ("callback_duplicated", "callback_out_of_order")}
    sw.faults(callback_duplicate_rate=0.5, callback_out_of_order_rate=0.5, seed=6)
    declarations = [sw.submit(trade_id) for trade_id in trades]
    observed: dict[int, list[str]] = {d: [] for d in declarations}

    def observe() -> None:
        """The statuses as they change, read while the callbacks come: never back to a lower rank."""
        for declaration_id, status in sw.statuses(declarations).items():
            seen_so_far = observed[declaration_id]
            if not seen_so_far or seen_so_far[-1] != status:
                seen_so_far.append(status)
                ranks = [RANK[s] for s in seen_so_far]
                assert ranks == sorted(ranks), (declaration_id, seen_so_far)

    sw.wait_final(declarations, 60, on_poll=observe)

    seen = sw.check_exactly_once(declarations)
    assert fault_count(sw, "callback_duplicated") > before["callback_duplicated"]
    assert fault_count(sw, "callback_out_of_order") > before["callback_out_of_order"]
    events = [e for d in declarations for e in seen[d]["events"]]
    assert any(e["arrivals"] >= 2 for e in events)  # a duplicate was counted, not applied twice
    for declaration_id in declarations:
        answers = seen[declaration_id]["events"]
        assert_never_backwards(answers)
        # An answer that came after a later one was applied is kept and changes nothing (one that came
        # while both waited in the inbox is applied in its place): whatever is not applied is older.
        newest = max(e["sequence"] for e in answers if e["applied"])
        assert all(e["sequence"] < newest for e in answers if not e["applied"]), answers


def test_workers_stopped_while_declarations_are_submitted_deliver_them_when_they_start_again(sw):
    """The issue asks for "the broker restarts". The tests must not restart the machine's RabbitMQ (other
    runs use it), and the filesystem transport has no broker process at all. This test stops every
    worker and the clock (a warm shutdown), submits while nothing consumes the queue — the tasks wait in
    the broker (RabbitMQ's durable queue, or the transport's folder) — and starts them again. The next
    test cuts the connection to RabbitMQ instead of restarting it."""
    sw.stop("worker")
    sw.stop("beat")
    trades = sw.new_trades("E2E-G", 8)
    declarations = [sw.submit(trade_id) for trade_id in trades]
    time.sleep(2)
    assert set(sw.statuses(declarations).values()) == {"queued"}
    assert {m["status"] for m in sw.outbox(declarations).values()} == {"pending"}
    keys = {m["key"] for m in sw.outbox(declarations).values()}
    assert not keys & {r["idempotency_key"] for r in sw.sim_records()["records"]}
    sw.start_beat()
    sw.start_worker()
    sw.wait_final(declarations, 60)
    sw.check_exactly_once(declarations)


def test_the_broker_out_of_reach_then_back_loses_and_duplicates_nothing(sw):
    """RabbitMQ out of reach, then back, as the platform sees a broker restart: every connection of the
    web server, the worker and the clock to the broker is dropped and new ones are refused for a few
    seconds (BrokerRelay, in conftest.py), while declarations are being submitted and delivered. The
    broker itself keeps running — the session shares the machine's RabbitMQ with other runs — so what its
    queues hold survives, as it does when a RabbitMQ with durable queues restarts."""
    if sw.relay is None:
        pytest.skip(
            "the filesystem transport has no broker process to restart or to lose the connection to "
            "(its queue is a folder of this machine); run with CELERY_BROKER_URL=amqp://… for this test"
        )
    trades = sw.new_trades("E2E-H", 10)
    declarations = [sw.submit(trade_id) for trade_id in trades[:5]]
    sw.relay.cut()
    try:
        # Submitted while the broker is out of reach: the API still answers (the declaration and its
        # outbox message are committed; the task that could not be sent is sent again by the sweep).
        declarations += [sw.submit(trade_id) for trade_id in trades[5:]]
        time.sleep(3)
    finally:
        sw.relay.restore()
    sw.wait_final(declarations, 90)
    sw.check_exactly_once(declarations)


GOODS_FIELDS = (
    "description",
    "hs_code",
    "origin_country",
    "quantity",
    "unit",
    "packages_count",
    "package_type",
    "net_mass_kg",
    "gross_mass_kg",
    "unit_price",
)


def test_a_query_from_customs_is_answered_by_a_correction_that_goes_through(sw):
    """A goods description the window finds too vague ("Goods") gets a query; the MSME answers it through
    the API with a better description, which sends a correction (X-Correction-Of) in the same conversation."""
    (trade_id,) = sw.new_trades("E2E-Q", 1)
    status, item, _ = sw.api("GET", f"/trades/{trade_id}/items/1")
    assert status == 200, item
    status, body, _ = sw.api(
        "PUT", f"/trades/{trade_id}/items/1", {**{k: item[k] for k in GOODS_FIELDS}, "description": "Goods"}
    )
    assert status == 200, body
    first = sw.submit(trade_id)
    wait_for(lambda: sw.statuses([first])[first] == "query", 30, lambda: sw._progress([first]))
    (query,) = [q for q in sw.declaration(first)["queries"] if q["status"] == "open"]
    assert query["item_no"] == 1 and query["text"], query
    path = query["answer_url"].removeprefix("/api/v1")
    answer = {"answer": "Cashew kernels, shelled, grade W320.", "description": "Cashew kernels W320, shelled"}
    status, correction, _ = sw.api("POST", path, answer, {"Idempotency-Key": f"e2e-q-{first}"})
    assert status == 201, correction
    assert correction["corrects_id"] == first and correction["version"] == 2
    sw.wait_final([correction["id"]], 60)

    seen = sw.check_exactly_once([correction["id"]])
    statuses = [e["status"] for e in seen[correction["id"]]["events"]]
    assert statuses[:3] == ["received", "accepted", "query"] and statuses[-1] == "goods_exited", statuses
    assert_never_backwards(seen[correction["id"]]["events"])
    assert sw.declaration(first)["queries"][0]["status"] == "answered"
