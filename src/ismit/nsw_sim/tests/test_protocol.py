"""The single window as a real process (`ismit nsw-sim`) over real HTTP, calling back a real receiver."""

from __future__ import annotations

import json
import socket
import time
import uuid
from decimal import Decimal

import pytest

from ismit.documents.edifact_cusres import parse_cusres
from ismit.lib import hmac_auth
from ismit.nsw_sim import mrn
from ismit.nsw_sim.tests.support import Client, cusdec, document, item, res_errors, res_fields, wco

STATUSES_OK = ["received", "accepted", "cleared", "goods_exited"]


def key() -> str:
    return uuid.uuid4().hex


def submit_wco(sim, data=None, k: str | None = None, **kwargs):
    reply = sim.client.submit("/customs/declarations", wco(data or document()), k or key(), **kwargs)
    assert reply.status == 202, reply.body
    return reply.json()


def eventually(check, timeout: float = 10):
    """The first truthy value of check() within timeout (the window records callback results a little
    after it sends them)."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.05)


def by_sequence(calls):
    return sorted(calls, key=lambda c: c["sequence"])


# -- authentication -------------------------------------------------------------------------------------


def test_requests_must_be_signed_by_a_known_client(sim):
    body = wco(document())
    assert sim.client.submit("/customs/declarations", body, key()).status == 202
    bad_secret = Client(sim.port, secret="not-the-secret")
    unknown = Client(sim.port, client_id="somebody")
    for reply in (
        bad_secret.submit("/customs/declarations", body, key()),
        unknown.submit("/customs/declarations", body, key()),
        sim.client.submit("/customs/declarations", body, key(), sign=False),
        sim.client.submit("/customs/declarations", body, key(), timestamp=int(time.time()) - 301),
        sim.client.get("/notifications", sign=False),
        sim.client.get("/_sim/records", sign=False),
    ):
        assert reply.status == 401, reply.body
        assert reply.headers["content-type"] == "application/problem+json"
    # A signature of another body does not carry over.
    headers = {"Content-Type": "application/xml", "Idempotency-Key": key()}
    headers.update(
        hmac_auth.sign_request(
            "test-secret-0123456789", "POST", "/customs/declarations", b"<x/>", client_id="ismit-test"
        )
    )
    assert sim.client.request("POST", "/customs/declarations", body, headers, sign=False).status == 401
    # The admin endpoints are the admin client's; the admin client does not submit.
    assert sim.client.get("/_sim/records").status == 403
    assert sim.admin.submit("/customs/declarations", body, key()).status == 403
    assert sim.records()["summary"]["submissions"] == 1


def test_the_platform_verifies_the_callbacks(sim, receiver):
    answer = submit_wco(sim)
    calls = receiver.wait(answer["conversation_id"], 4)
    assert len(calls) == 4 and not receiver.refused
    assert {c["client"] for c in calls} == {"ismit-test"}
    assert {c["path"] for c in calls} == {"/api/v1/customs/callback"}


# -- intake ---------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_gives_the_same_answer_and_nothing_new(sim, receiver):
    k = key()
    first = submit_wco(sim, k=k)
    second = submit_wco(sim, k=k)
    third = submit_wco(sim, document(lrn="OTHER-LRN"), k=k)  # same key, another body: still the first answer
    assert first == second == third
    receiver.wait(first["conversation_id"], 4)
    records = sim.records()
    assert len(records["records"]) == 1
    record = records["records"][0]
    assert record["idempotency_key"] == k and record["arrivals"] == 3 and record["other_body_arrivals"] == 1
    assert record["lrn"] == "CI-EXP-0001" and record["statuses"] == STATUSES_OK
    assert records["summary"]["repeated_arrivals"] == 2
    time.sleep(0.3)
    assert len(receiver.delivered()) == 4  # one flow of notifications, not three


def test_the_same_key_at_the_same_time_creates_one_declaration(sim, receiver):
    import threading

    k, body, answers = key(), wco(document(lrn="RACE-1")), []
    barrier = threading.Barrier(10)

    def send():
        barrier.wait()
        answers.append(Client(sim.port).submit("/customs/declarations", body, k))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status for a in answers] == [202] * 10
    assert len({a.body for a in answers}) == 1
    records = sim.records()
    assert len(records["records"]) == 1 and records["records"][0]["arrivals"] == 10


def test_what_is_not_a_declaration_or_lacks_headers_is_a_400(sim):
    client = sim.client
    assert client.submit("/customs/declarations", b"<Declaration><unclosed>", key()).status == 400
    assert client.submit("/customs/declarations", b"<hello/>", key()).status == 400
    assert client.submit("/customs/edifact", b"this is not EDIFACT", key()).status == 400
    assert client.submit("/fx/settlements", b"[1, 2]", key()).status == 400
    no_key = client.request(
        "POST", "/customs/declarations", wco(document()), {"Content-Type": "application/xml"}
    )
    assert no_key.status == 400 and "Idempotency-Key" in no_key.json()["detail"]
    assert (
        client.submit("/customs/declarations", wco(document()), key(), content_type="text/csv").status == 415
    )
    assert client.get("/customs/declarations").status == 405
    assert client.get("/nowhere").status == 404
    assert sim.records()["summary"]["submissions"] == 0


# -- declarations and their notifications ---------------------------------------------------------------


def test_a_valid_declaration_is_received_accepted_cleared_and_exits(sim, receiver):
    answer = submit_wco(sim)
    assert answer["lrn"] == "CI-EXP-0001" and answer["conversation_id"]
    calls = by_sequence(receiver.wait(answer["conversation_id"], 4))
    assert [c["status"] for c in calls] == STATUSES_OK
    fields = [res_fields(c["body"]) for c in calls]
    assert [f["function_code"] for f in fields] == ["02", "01", "09", "16"]  # DMSRCV, DMSACC, DMSCLE, DMSEOG
    for call in calls:
        assert res_errors(call["body"]) == [], call["body"]
        assert call["content_type"] == "application/xml"
        assert call["conversation_id"] == answer["conversation_id"]
    number = fields[1]["mrn"]
    assert mrn.is_valid(number) and number[2:4] == "CI"
    assert fields[0]["mrn"] is None and {f["mrn"] for f in fields[1:]} == {number}
    assert {f["lrn"] for f in fields} == {"CI-EXP-0001"}
    assert len({c["notification_id"] for c in calls}) == 4
    sequences = [c["sequence"] for c in calls]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    record = sim.records()["records"][0]
    assert record["mrn"] == number and record["state"] == "goods_exited"


def test_mrns_are_unique(sim, receiver):
    answers = [submit_wco(sim, document(lrn=f"LRN-{n}")) for n in range(20)]
    for answer in answers:
        receiver.wait(answer["conversation_id"], 2)
    numbers = [r["mrn"] for r in sim.records()["records"]]
    assert len(set(numbers)) == 20 and all(mrn.is_valid(n) for n in numbers)


def test_an_invalid_declaration_is_rejected_with_reasons(sim, receiver):
    data = document(
        items=(item(1, hs_code="0801", gross_mass_kg=Decimal("10"), net_mass_kg=Decimal("20")),),
        currency="EUX",
    )
    answer = submit_wco(sim, data)
    calls = by_sequence(receiver.wait(answer["conversation_id"], 2))
    assert [c["status"] for c in calls] == ["received", "rejected"]
    time.sleep(0.3)
    assert len(receiver.delivered(answer["conversation_id"])) == 2  # rejected is final
    rejected = res_fields(calls[1]["body"])
    assert res_errors(calls[1]["body"]) == []
    assert rejected["function_code"] == "03" and rejected["mrn"] is None
    assert {"NSW20001", "NSW20005", "NSW10011"} <= set(rejected["errors"])
    pointer = rejected["pointers"][rejected["errors"].index("NSW20001")]
    assert pointer[:3] == [("42A", None), ("67A", None), ("68A", None)] and pointer[-1] == ("21A", "145")


def test_risk_rules_send_to_control_and_documentary_check(start_sim, receiver):
    sim = start_sim(receiver.url, documents_threshold=5000)
    gold = submit_wco(
        sim, document(lrn="GOLD-1", items=(item(1, hs_code="710812", description="Gold bars"),))
    )
    calls = by_sequence(receiver.wait(gold["conversation_id"], 6))
    assert [c["status"] for c in calls] == [
        "received",
        "accepted",
        "documents_required",
        "control",
        "cleared",
        "goods_exited",
    ]
    codes = [res_fields(c["body"])["function_code"] for c in calls]
    assert codes == ["02", "01", "06", "05", "09", "16"]
    assert all(res_errors(c["body"]) == [] for c in calls)
    assert "HS chapter 71" in res_fields(calls[3]["body"])["texts"][0]


def test_a_query_is_answered_by_a_correction_and_the_flow_goes_on(sim, receiver):
    vague = document(lrn="VAGUE-1", items=(item(1, description="Goods"),))
    answer = submit_wco(sim, vague)
    conversation = answer["conversation_id"]
    calls = by_sequence(receiver.wait(conversation, 3))
    assert [c["status"] for c in calls] == ["received", "accepted", "query"]
    query = res_fields(calls[2]["body"])
    assert query["function_code"] == "17" and "Goods" in query["texts"][0]
    assert res_errors(calls[2]["body"]) == []
    time.sleep(0.5)
    assert len(receiver.delivered(conversation)) == 3  # waits for the answer

    # A correction of an unknown conversation, or with the query unanswered, does not move it on.
    assert sim.client.submit("/customs/declarations", wco(vague), key(), correction_of="nope").status == 404
    same = submit_wco(sim, vague, correction_of=conversation)
    assert same["conversation_id"] == conversation
    calls = by_sequence(receiver.wait(conversation, 4))
    assert calls[3]["status"] == "query" and res_fields(calls[3]["body"])["version"] == "2"

    corrected = document(lrn="VAGUE-1", items=(item(1, description="Cashew kernels W320, shelled"),))
    reply = submit_wco(sim, corrected, correction_of=conversation)
    assert reply["conversation_id"] == conversation
    calls = by_sequence(receiver.wait(conversation, 6))
    assert [c["status"] for c in calls] == [
        "received",
        "accepted",
        "query",
        "query",
        "cleared",
        "goods_exited",
    ]
    assert res_fields(calls[-1]["body"])["version"] == "3"
    records = sim.records()
    assert [r["correction_of"] for r in records["records"]] == [None, conversation, conversation]
    assert records["summary"]["originals"] == 1 and records["summary"]["corrections"] == 2
    # Final: no more corrections.
    late = sim.client.submit("/customs/declarations", wco(corrected), key(), correction_of=conversation)
    assert late.status == 409


def test_cusdec_in_cusres_out(sim, receiver):
    reply = sim.client.submit("/customs/edifact", cusdec(document(lrn="EDI-1")), key())
    assert reply.status == 202, reply.body
    conversation = reply.json()["conversation_id"]
    calls = by_sequence(receiver.wait(conversation, 4))
    assert {c["content_type"] for c in calls} == {"application/EDIFACT"}
    answers = [parse_cusres(c["body"]) for c in calls]  # checked against the D96A directory too
    assert [a["status"] for a in answers] == ["received", "accepted", "released", "exited"]
    assert {a["reference"] for a in answers} == {"EDI-1"}
    number = answers[1]["customs_reference"]
    assert mrn.is_valid(number) and {a["customs_reference"] for a in answers[1:]} == {number}
    assert answers[0]["customs_reference"] == ""
    assert answers[0]["recipient"] == "CI1234567890"  # the CUSDEC's sender

    bad = cusdec(document(lrn="EDI-2", items=(item(1, gross_mass_kg=Decimal("1"), hs_code="0801"),)))
    reply = sim.client.submit("/customs/edifact", bad, key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    rejected = parse_cusres(calls[1]["body"])
    assert rejected["status"] == "rejected" and rejected["document"] == "963"
    assert {e["code"] for e in rejected["errors"]} >= {"NSW20001", "NSW20005"}
    assert {e["item"] for e in rejected["errors"]} == {1}


def test_cusdec_without_the_directory_is_still_checked(start_sim, receiver):
    sim = start_sim(receiver.url, env={"ISMIT_STANDARDS_DIR": ""})
    text = cusdec(document(lrn="EDI-3")).decode("latin-1")
    tampered = text.replace("UNZ+1+", "UNZ+2+").encode("latin-1")
    reply = sim.client.submit("/customs/edifact", tampered, key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    assert [c["status"] for c in calls] == ["received", "rejected"]
    assert "NSW10014" in {e["code"] for e in parse_cusres(calls[1]["body"])["errors"]}


# -- FX settlement reports and VAT refund claims --------------------------------------------------------


def _exited(sim, receiver, lrn="FIN-1") -> str:
    answer = submit_wco(sim, document(lrn=lrn))
    calls = by_sequence(receiver.wait(answer["conversation_id"], 4))
    assert calls[-1]["status"] == "goods_exited"
    return res_fields(calls[1]["body"])["mrn"]


def _payment(amount="11475.00", ref="BANK-1"):
    return {"amount": amount, "currency": "EUR", "received_on": "2026-02-15", "bank_reference": ref}


def test_fx_settlement_reports(sim, receiver):
    number = _exited(sim, receiver)
    report = {
        "report_reference": "FX-2026-001",
        "exporter": {"id": "CI1234567890", "name": "Anacarde Abidjan SARL"},
        "declaration_mrn": number,
        "invoice_number": "INV-2026-041",
        "invoice_date": "2026-01-02",
        "currency": "EUR",
        "invoiced_amount": "11475.00",
        "payments": [_payment("6000.00", "BANK-1"), _payment("5475.00", "BANK-2")],
    }
    reply = sim.client.submit("/fx/settlements", json.dumps(report).encode(), key())
    assert reply.status == 202 and reply.json()["reference"] == "FX-2026-001"
    conversation = reply.json()["conversation_id"]
    calls = by_sequence(receiver.wait(conversation, 2))
    answers = [json.loads(c["body"]) for c in calls]
    assert [a["status"] for a in answers] == ["received", "accepted"]
    assert calls[0]["content_type"] == "application/json"
    assert answers[1]["registration_number"].startswith("FX") and answers[1]["reference"] == "FX-2026-001"
    assert answers[1]["notification_id"] == calls[1]["notification_id"]

    # Paid short: customs asks; a correction with an explanation settles it.
    short = {**report, "report_reference": "FX-2026-002", "payments": [_payment("10000.00")]}
    reply = sim.client.submit("/fx/settlements", json.dumps(short).encode(), key())
    conversation = reply.json()["conversation_id"]
    calls = by_sequence(receiver.wait(conversation, 2))
    query = json.loads(calls[1]["body"])
    assert query["status"] == "query" and "less than the invoiced amount" in query["question"]
    explained = {**short, "explanation": "Quality discount of 1,475 EUR agreed with the buyer"}
    reply = sim.client.submit(
        "/fx/settlements", json.dumps(explained).encode(), key(), correction_of=conversation
    )
    assert reply.status == 202
    calls = by_sequence(receiver.wait(conversation, 3))
    assert json.loads(calls[2]["body"])["status"] == "accepted"

    # Another amount than declared: rejected, with the field and both values.
    wrong = {**report, "report_reference": "FX-2026-003", "invoiced_amount": "12000.00"}
    reply = sim.client.submit("/fx/settlements", json.dumps(wrong).encode(), key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    rejected = json.loads(calls[1]["body"])
    assert rejected["status"] == "rejected"
    assert rejected["reasons"] == [
        {
            "code": "NSWF0013",
            "field": "invoiced_amount",
            "message": "declared 11475.00 EUR, here 12000.00 EUR",
        }
    ]


def test_vat_refund_claims(sim, receiver):
    number = _exited(sim, receiver, "VAT-DECL")
    claim = {
        "claim_reference": "VAT-2026-001",
        "claimant": {"id": "CI1234567890", "vat_number": "CI0012345A", "name": "Anacarde Abidjan SARL"},
        "declaration_mrn": number,
        "export_date": "2026-02-01",
        "invoice_number": "INV-2026-041",
        "invoice_date": "2026-01-02",
        "currency": "EUR",
        "net_value": "11475.00",
        "vat_rate": "18",
        "vat_amount": "2065.50",
        "payments": [_payment()],
    }
    reply = sim.client.submit("/vat/refund-claims", json.dumps(claim).encode(), key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    accepted = json.loads(calls[1]["body"])
    assert accepted["status"] == "accepted" and accepted["kind"] == "vat_refund_claim"
    assert accepted["registration_number"].startswith("VR")

    mismatch = {**claim, "claim_reference": "VAT-2026-002", "net_value": "11000.00", "vat_amount": "1980.00"}
    reply = sim.client.submit("/vat/refund-claims", json.dumps(mismatch).encode(), key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    rejected = json.loads(calls[1]["body"])
    assert rejected["status"] == "rejected" and [r["code"] for r in rejected["reasons"]] == ["NSWF0013"]

    unknown = {**claim, "claim_reference": "VAT-2026-003", "declaration_mrn": mrn.make_mrn("elsewhere", "CI")}
    reply = sim.client.submit("/vat/refund-claims", json.dumps(unknown).encode(), key())
    calls = by_sequence(receiver.wait(reply.json()["conversation_id"], 2))
    assert [r["code"] for r in json.loads(calls[1]["body"])["reasons"]] == ["NSWF0010"]


# -- polling --------------------------------------------------------------------------------------------


def test_polling_gives_the_same_notifications_in_order(sim, receiver):
    answers = [submit_wco(sim, document(lrn=f"POLL-{n}")) for n in range(3)]
    answers.append(sim.client.submit("/customs/edifact", cusdec(document(lrn="POLL-EDI")), key()).json())
    for answer in answers:
        receiver.wait(answer["conversation_id"], 4)
    polled = sim.notifications()
    assert [p["sequence"] for p in polled] == list(range(1, 17))
    called = {c["notification_id"]: c for c in receiver.delivered()}
    assert len(called) == 16
    for p in polled:
        c = called[p["notification_id"]]
        assert (p["sequence"], p["conversation_id"], p["status"], p["content_type"]) == (
            c["sequence"],
            c["conversation_id"],
            c["status"],
            c["content_type"],
        )
        assert p["body"].encode("latin-1" if "EDIFACT" in p["content_type"] else "utf-8") == c["body"]
    assert [p["sequence"] for p in sim.notifications(after=10, limit=3)] == [11, 12, 13]
    assert sim.notifications(after=16) == []


# -- faults ---------------------------------------------------------------------------------------------


def test_intake_errors_record_nothing(sim, receiver):
    sim.configure(intake_error_rate=1)
    k = key()
    for _ in range(3):
        reply = sim.client.submit("/customs/declarations", wco(document()), k)
        assert reply.status == 500 and reply.headers["content-type"] == "application/problem+json"
    records = sim.records()
    assert records["records"] == [] and records["faults"]["intake_error"] == 3
    sim.configure(intake_error_rate=0)
    answer = submit_wco(sim, k=k)
    receiver.wait(answer["conversation_id"], 4)
    record = sim.records()["records"][0]
    assert record["arrivals"] == 1 and record["statuses"] == STATUSES_OK


def test_an_intake_timeout_still_records_the_declaration_once(sim, receiver):
    sim.configure(intake_timeout_rate=1, intake_timeout_seconds=3)
    k = key()
    with pytest.raises((TimeoutError, socket.timeout)):
        sim.client.submit("/customs/declarations", wco(document()), k, timeout=1)
    sim.configure(intake_timeout_rate=0)
    retried = submit_wco(sim, k=k)  # the client retries with the same key
    calls = receiver.wait(retried["conversation_id"], 4)
    assert [c["status"] for c in by_sequence(calls)] == STATUSES_OK
    records = sim.records()
    assert len(records["records"]) == 1 and records["records"][0]["arrivals"] == 2
    assert records["faults"]["intake_timeout"] == 1


def test_dropped_callbacks_stay_pollable(start_sim, receiver):
    sim = start_sim(receiver.url, callback_drop_rate=1)
    answer = submit_wco(sim)
    polled = sim.wait_notifications(answer["conversation_id"], 4)
    assert [p["status"] for p in polled] == STATUSES_OK
    time.sleep(0.5)
    assert receiver.delivered() == []
    records = sim.records()
    assert records["faults"]["callback_dropped"] == 4 and records["summary"]["callbacks"] == {"dropped": 4}


def test_duplicated_callbacks_repeat_the_notification_id(start_sim, receiver):
    sim = start_sim(receiver.url, callback_duplicate_rate=1)
    answer = submit_wco(sim)
    calls = receiver.wait(answer["conversation_id"], 8)
    assert len(calls) == 8
    ids = [c["notification_id"] for c in calls]
    assert len(set(ids)) == 4 and all(ids.count(i) == 2 for i in ids)
    assert eventually(lambda: sim.records()["faults"].get("callback_duplicated") == 4)


def test_out_of_order_callbacks_send_a_later_status_first(start_sim, receiver):
    sim = start_sim(receiver.url, callback_out_of_order_rate=1, senders=1)
    answer = submit_wco(sim)
    calls = receiver.wait(answer["conversation_id"], 4)  # in the order they arrived
    assert [c["status"] for c in calls] == ["accepted", "received", "goods_exited", "cleared"]
    assert [c["status"] for c in by_sequence(calls)] == STATUSES_OK  # the sequences keep the true order
    assert sim.records()["faults"]["callback_out_of_order"] == 2


def test_failed_callbacks_are_retried_with_backoff(sim, receiver):
    receiver.fail_next = [500, 503, 500]
    answer = submit_wco(sim)
    calls = by_sequence(receiver.wait(answer["conversation_id"], 4))
    assert [c["status"] for c in calls] == STATUSES_OK
    assert len(receiver.calls) == 7  # three refused, then taken
    assert eventually(lambda: sim.records()["summary"]["callbacks"] == {"delivered": 4})


def test_callbacks_given_up_after_the_retries_stay_pollable(start_sim, receiver):
    sim = start_sim(receiver.url, callback_retries=1)
    receiver.fail_next = [500] * 100
    answer = submit_wco(sim)
    polled = sim.wait_notifications(answer["conversation_id"], 4)
    assert [p["status"] for p in polled] == STATUSES_OK
    assert eventually(lambda: sim.records()["summary"]["callbacks"] == {"failed": 4})
    assert len(receiver.calls) == 8  # two attempts each


def test_delays_between_statuses(start_sim, receiver):
    sim = start_sim(receiver.url)
    sim.configure(delay=0.4)
    started = time.time()
    answer = submit_wco(sim)
    receiver.wait(answer["conversation_id"], 4)
    assert time.time() - started >= 1.6  # four statuses, 0.4 s before each


def test_a_restarted_window_resumes_its_flows(start_sim, receiver):
    sim = start_sim(receiver.url, delay=1)
    answer = submit_wco(sim)
    sim.stop()  # before the first status was due
    assert receiver.delivered() == []
    resumed = start_sim(receiver.url, db=sim.db)
    calls = by_sequence(receiver.wait(answer["conversation_id"], 4, timeout=30))
    assert [c["status"] for c in calls] == STATUSES_OK
    assert resumed.records()["records"][0]["arrivals"] == 1


# -- admin ----------------------------------------------------------------------------------------------


def test_config_health_and_page(sim, receiver):
    assert sim.configure(callback_drop_rate=0.25)["callback_drop_rate"] == 0.25
    reply = sim.admin.request(
        "POST", "/_sim/config", b'{"callback_drop_rate": 3}', {"Content-Type": "application/json"}
    )
    assert reply.status == 400
    reply = sim.admin.request("POST", "/_sim/config", b'{"port": 1}', {"Content-Type": "application/json"})
    assert reply.status == 400
    assert sim.admin.get("/_sim/config").json()["callback_drop_rate"] == 0.25
    sim.configure(callback_drop_rate=0)
    answer = submit_wco(sim, document(lrn="PAGE-<1>"))
    receiver.wait(answer["conversation_id"], 4)
    health = sim.client.get("/_sim/health", sign=False)
    assert health.status == 200 and health.json()["submissions"] == 1
    page = sim.client.get("/", sign=False)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b"PAGE-&lt;1&gt;" in page.body and b"goods_exited" in page.body


def test_options_from_the_environment(start_sim):
    sim = start_sim(env={"NSW_SIM_CONTROL_CHAPTERS": "08,09", "NSW_SIM_CALLBACK_DROP_RATE": "0.5"})
    config = sim.admin.get("/_sim/config").json()
    assert config["control_chapters"] == ["08", "09"] and config["callback_drop_rate"] == 0.5
    answer = submit_wco(sim)  # cashew is chapter 08: inspected
    polled = sim.wait_notifications(answer["conversation_id"], 5)
    assert [p["status"] for p in polled] == ["received", "accepted", "control", "cleared", "goods_exited"]
