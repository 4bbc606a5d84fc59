"""Reading the window's notifications (WCO RES, CUSRES) and writing a correction's explanation into the
declaration, checked with the published schema, the D96A directory and the simulator's own reader."""

from __future__ import annotations

import datetime as dt

from ismit.customs.answers import format_of, parse, parse_cusres_answer, parse_res
from ismit.customs.connectors import cusdec_with_explanation, wco_with_explanation
from ismit.customs.reasons import describe, field_of
from ismit.documents.edifact_cusres import CusresError, build_cusres
from ismit.documents.edifact_directory import assert_valid
from ismit.documents.wco_schema import validate_wco
from ismit.nsw_sim import declarations, messages
from ismit.nsw_sim.tests.support import cusdec, document, res_errors, wco

AT = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def res(status: str, **step) -> bytes:
    """The window's WCO RES notification of `status` (step: text, code, item, problems), schema-checked."""
    conversation = {"lrn": "CI-EXP-0001", "mrn": "26CI4QX8ZK2M0T7PA3", "version": 1, "country": "CI"}
    body = messages.render_res(
        conversation, {"status": status, **step}, notification_id="ab" * 16, issued_at=AT, agency="Customs"
    )
    assert res_errors(body) == []
    return body


def test_every_wco_res_status_is_read():
    expected = {
        "received": "02",
        "accepted": "01",
        "rejected": "03",
        "query": "17",
        "documents_required": "06",
        "control": "05",
        "cleared": "09",
        "goods_exited": "16",
    }
    for status, code in expected.items():
        answer = parse_res(res(status, text="Why", item=2))
        assert (answer.status, answer.raw_code, answer.lrn) == (status, code, "CI-EXP-0001")
        assert answer.mrn == ("" if status in ("received", "rejected") else "26CI4QX8ZK2M0T7PA3")


def test_a_rejection_s_errors_keep_their_code_pointer_and_goods_line():
    body = res(
        "rejected",
        problems=[
            {
                "code": "NSW20005",
                "text": "gross < net",
                "pointer": (
                    ("42A", None, None),
                    ("67A", None, None),
                    ("68A", 2, None),
                    ("23A", None, None),
                    ("65A", None, "126"),
                ),
            },
            {"code": "NSW10009", "text": "mode", "pointer": (("42A", None, None), ("15A", None, "T022"))},
        ],
    )
    first, second = parse_res(body).reasons
    assert first == {
        "code": "NSW20005",
        "text": "gross < net",
        "item": 2,
        "tag": "126",
        "pointer": "42A/67A/68A#2/23A/65A:126",
    }
    assert field_of(first) == "items[1].gross_mass_kg" and field_of(second) == "transport_mode"
    assert describe(first) == "Goods line 2: The gross mass is less than the net mass."
    assert describe({"code": "XYZ", "text": "Something the window said"}) == "Something the window said"


def test_why_customs_checks_is_read_by_its_code_and_shown_in_the_reader_s_language():
    from decimal import Decimal

    from django.utils import translation

    from ismit.customs.reasons import statement
    from ismit.nsw_sim.config import Config
    from ismit.nsw_sim.tests.support import item

    config = Config()
    goods = (item(1), item(2, hs_code="710812", unit_price=Decimal("100")))
    d = declarations.read_wco(wco(document(items=goods)))
    steps = [s for s in declarations.plan(d, [], config) if s["status"] in ("documents_required", "control")]
    steps.append({"status": "goods_exited"})
    documents, control, exited = (parse_res(res(**s)) for s in steps)
    assert (documents.code, documents.item, bool(documents.limit_at)) == ("NSW30001", None, True)
    assert documents.text.startswith("Documentary check: declared value")  # as sent, kept for the record
    assert (control.code, control.item) == ("NSW30002", 2) and exited.code == "NSW30004"
    with translation.override("fr"):
        assert statement(documents.details()).startswith("Contrôle documentaire : la valeur déclarée")
        assert statement(control.details()) == (
            "Ligne de marchandises 2 : Contrôle physique : marchandises d'un chapitre SH sensible."
        )
        assert statement(exited.details()) == "Sortie des marchandises confirmée."
    # The same in CUSRES answers: a text / code pair, as a query's question (not a reason to fix).
    conversation = {"lrn": "CI-EXP-0001", "mrn": "26CI4QX8ZK2M0T7PA3", "sender": "CI1234567890"}
    edi = [
        messages.render_cusres(conversation, s, notification_id="ab" * 16, issued_at=AT)
        for s in [*steps[:2], {"status": "goods_exited"}, {"status": "cleared"}]
    ]
    for body in edi:
        assert_valid(body)
    # BGM: a document response, then general responses (what customs says beside a status is no error).
    assert [body.split(b"BGM+", 1)[1][:3] for body in edi] == [b"962", b"961", b"961", b"961"]
    documents, control, exited, cleared = (parse_cusres_answer(body) for body in edi)
    assert [(a.status, a.code) for a in (documents, control, exited, cleared)] == [
        ("documents_required", "NSW30001"),
        ("control", "NSW30002"),
        ("goods_exited", "NSW30004"),
        ("cleared", ""),
    ]
    assert control.text.startswith("Physical inspection: goods item 2") and control.reasons == []
    two = build_cusres(
        declaration_reference="CI-EXP-0001",
        status="examination",
        sender=["CUSTOMS-CI", "ZZZ"],
        recipient=["X", "ZZZ"],
        control_reference="R3",
        errors=[CusresError("NSW30002", "Inspection", 2), CusresError("NSW30003", "And at random")],
    ).encode("latin-1")
    second = parse_cusres_answer(two)  # the first statement is shown; none becomes a fault to fix
    assert (second.code, second.item, second.reasons) == ("NSW30002", 2, [])
    with translation.override("fr"):
        assert statement(control.details()) == (
            "Ligne de marchandises 2 : Contrôle physique : marchandises d'un chapitre SH sensible."
        )
        assert statement(cleared.details()) == ""
    # A code without words; a code not known here: the window's own words; nothing said: nothing shown.
    coded = parse_res(res("control", code="NSW30003")).details()
    with translation.override("fr"):
        assert statement(coded) == "Contrôle physique (sélection aléatoire)."
    assert statement({"code": "NSW39999", "text": "Scanner check"}) == "Scanner check"
    assert statement(parse_res(res("cleared")).details()) == ""


def test_a_query_s_question_and_its_goods_line_are_read():
    answer = parse_res(res("query", text="Goods item 1: describe the goods.", item=1))
    assert answer.question == "Goods item 1: describe the goods." and answer.item == 1 and answer.limit_at


def test_cusres_answers_are_read_with_their_mrn_and_errors():
    body = build_cusres(
        declaration_reference="CI-EXP-0001",
        status="released",
        sender=["CUSTOMS-CI", "ZZZ"],
        recipient=["CI1234567890", "ZZZ"],
        control_reference="R1",
        prepared_at=AT,
        customs_reference="26CI4QX8ZK2M0T7PA3",
    ).encode("latin-1")
    assert format_of("application/EDIFACT", body) == "cusres" and format_of("", body) == "cusres"
    answer = parse("application/EDIFACT", body)
    assert (answer.status, answer.mrn, answer.lrn) == ("cleared", "26CI4QX8ZK2M0T7PA3", "CI-EXP-0001")
    query = build_cusres(
        declaration_reference="CI-EXP-0001",
        status="query",
        sender=["CUSTOMS-CI", "ZZZ"],
        recipient=["X", "ZZZ"],
        control_reference="R2",
        prepared_at=AT,
        errors=[
            CusresError("NSW90001", "Goods item 1: describe the goods.", 1),
            CusresError("NSW20002", "empty", 2),
        ],
    ).encode("latin-1")
    answer = parse_cusres_answer(query)
    assert answer.status == "query" and answer.question.startswith("Goods item 1") and answer.item == 1
    assert answer.reasons == [{"code": "NSW20002", "text": "empty", "item": 2, "tag": None, "pointer": ""}]


def test_an_unreadable_notification_has_no_status():
    assert parse("application/xml", b"<not-closed").status == ""


def test_the_explanation_keeps_a_wco_declaration_valid_and_the_window_reads_it():
    body = wco_with_explanation(wco(document()), "Spare parts of cashew shelling machines.\x01")
    assert validate_wco(body) == []
    assert declarations.read_wco(body).answer == "Spare parts of cashew shelling machines."


def test_the_explanation_keeps_a_cusdec_valid_and_the_window_reads_it():
    original = cusdec(document())
    body = cusdec_with_explanation(original, "Spare parts of cashew shelling machines, été 2026.")
    assert_valid(body)
    assert declarations.read_cusdec(body).answer.startswith("Spare parts of cashew shelling machines")
    assert body.count(b"UNH+") == 1 and len(body) > len(original)
