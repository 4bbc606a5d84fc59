"""CUSRES: what the single window answers to a CUSDEC, written by one side and read back by the other."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ismit.documents.edifact_cusres import STATUS_CODES, CusresError, build_cusres, parse_cusres
from ismit.documents.edifact_directory import InvalidInterchange, check_interchange, component, parse_segments

AT = dt.datetime(2026, 11, 3, 8, 15, tzinfo=dt.UTC)


def answer(**overrides) -> str:
    kwargs = dict(
        declaration_reference="EXP-2026-00001",
        message_reference="C000001TNVBQ0",
        status="accepted",
        sender=["CUSTOMS-CI", "ZZZ"],
        recipient=["ANACARDEABIDJANSARL", "ZZZ"],
        control_reference="R000001",
        prepared_at=AT,
        customs_reference="26CI000123456789",
    )
    kwargs.update(overrides)
    return build_cusres(**kwargs)


def test_an_acceptance_round_trips():
    text = answer()
    assert check_interchange(text) == []
    assert "GIS+1'" in text and "RFF+ABE:EXP-2026-00001'" in text and "RFF+ABT:26CI000123456789'" in text
    got = parse_cusres(text)
    assert got["status"] == "accepted" and got["status_code"] == "1"
    assert got["reference"] == "EXP-2026-00001"
    assert got["message_reference"] == "C000001TNVBQ0"
    assert got["customs_reference"] == "26CI000123456789"
    assert got["issued_at"] == AT
    assert got["document"] == "961" and got["errors"] == []
    assert (got["sender"], got["recipient"], got["interchange_reference"]) == (
        "CUSTOMS-CI",
        "ANACARDEABIDJANSARL",
        "R000001",
    )


def test_a_rejection_carries_its_errors_in_order_with_their_texts():
    errors = [
        CusresError(
            "E101", "Code SH 080132 : le pays d'origine doit être justifié (certificat d'origine)", item=1
        ),
        CusresError("E7", "Gross mass is lower than net mass: 4900 < 5000", item=2),
        CusresError("HDR-3", "Declarant's EORI number unknown + suspended?"),
    ]
    text = answer(status="rejected", customs_reference="", errors=errors)
    assert check_interchange(text) == []
    got = parse_cusres(text)
    assert got["status"] == "rejected" and got["document"] == "963"
    assert got["customs_reference"] == ""
    assert got["errors"] == [{"code": e.code, "item": e.item, "text": e.text} for e in errors]


def test_every_status_round_trips_including_the_mutually_defined_one():
    for status, code in STATUS_CODES.items():
        text = answer(status=status)
        assert check_interchange(text) == [], status
        got = parse_cusres(text)
        assert (got["status"], got["status_code"]) == (status, code)
    assert "GIS+EXI::ZZZ'" in answer(status="exited")


def test_unknown_status_is_refused_and_invalid_messages_are_not_read():
    with pytest.raises(ValueError, match="unknown CUSRES status"):
        answer(status="maybe")
    broken = answer().replace("RFF+ABE:EXP-2026-00001'", "")  # SG5 is mandatory; UNT count now wrong too
    with pytest.raises(InvalidInterchange) as caught:
        parse_cusres(broken)
    messages = [p.message for p in caught.value.problems]
    assert any("UNT counts" in m for m in messages)
    assert parse_cusres(broken, validate=False)["reference"] == ""


@pytest.mark.django_db
def test_a_cusres_answers_the_cusdec_it_names(cashew_trade):
    """The simulator's path: read the CUSDEC's references, answer with them, the platform matches."""
    from ismit.documents.data import document_data
    from ismit.documents.generators.edifact import build_cusdec

    cusdec = build_cusdec(document_data(cashew_trade), prepared_at=AT)
    segs = parse_segments(cusdec)
    unb, unh = segs[1], segs[2]
    bgm = next(s for s in segs if s.tag == "BGM")
    reply = build_cusres(
        declaration_reference=component(bgm, 1),
        message_reference=component(unh, 0),
        status="documents_required",
        sender=[component(unb, 2, 0), "ZZZ"],
        recipient=[component(unb, 1, 0), "ZZZ"],
        control_reference="R" + component(unb, 4)[1:],
        prepared_at=AT,
        errors=[CusresError("DOC", "Present the certificate of origin (EUR.1)", item=1)],
    )
    got = parse_cusres(reply.encode("latin-1"))
    assert got["reference"] == cashew_trade.reference
    assert got["message_reference"] == component(unh, 0)
    assert got["status"] == "documents_required"
    assert got["errors"][0]["item"] == 1


_text = (
    st.text(
        st.sampled_from(
            list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éèàçôÉ'+:?&<>-./")
        ),
        min_size=1,
        max_size=300,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


@settings(deadline=None, max_examples=60)
@given(
    status=st.sampled_from(sorted(STATUS_CODES)),
    reference=st.from_regex(r"[A-Z]{3}-[0-9]{4}-[0-9]{5}", fullmatch=True),
    errors=st.lists(
        st.builds(
            CusresError,
            code=st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True),
            text=_text,
            item=st.one_of(st.none(), st.integers(1, 9999)),
        ),
        max_size=5,
    ),
)
def test_any_answer_round_trips(status, reference, errors):
    text = answer(status=status, declaration_reference=reference, errors=errors)
    assert check_interchange(text) == []
    got = parse_cusres(text)
    assert (got["status"], got["reference"]) == (status, reference)
    assert got["errors"] == [{"code": e.code, "item": e.item, "text": e.text} for e in errors]
