"""Any valid trade yields INVOIC and CUSDEC interchanges that pass the D96A directory and parse back to the
same totals (pydifact reading what we wrote)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ismit.documents.data import DocumentData
from ismit.documents.edifact_directory import check_interchange, parse_interchange, parse_segments
from ismit.documents.generators.edifact import CUSDEC, INVOIC
from ismit.documents.tests.strategies import MODES, PACKAGES, UNITS, document_datas

REC_CODES = {"6411": set(UNITS), "7065": set(PACKAGES), "8067": set(MODES)}


def _value(seg, element: int, position: int) -> str:
    value = seg.elements[element]
    return value[position] if isinstance(value, list) else (value if position == 0 else "")


def _read(raw: bytes) -> list:
    """The segments of the single message of an interchange, as pydifact reads them."""
    interchange = parse_interchange(raw)
    (message,) = list(interchange.get_messages())
    return message.segments


def _masses(segments) -> tuple[Decimal, Decimal]:
    net = sum(
        Decimal(_value(s, 2, 1)) for s in segments if s.tag == "MEA" and s.elements[:2] == ["WT", "AAL"]
    )
    gross = sum(
        Decimal(_value(s, 2, 1)) for s in segments if s.tag == "MEA" and s.elements[:2] == ["WT", "G"]
    )
    return net, gross


def _moa(segments, qualifier: str) -> list[Decimal]:
    return [Decimal(_value(s, 0, 1)) for s in segments if s.tag == "MOA" and _value(s, 0, 0) == qualifier]


def _cnt(segments, qualifier: str) -> Decimal:
    (value,) = [Decimal(_value(s, 0, 1)) for s in segments if s.tag == "CNT" and _value(s, 0, 0) == qualifier]
    return value


@settings(deadline=None, max_examples=80)
@given(document_datas())
def test_any_valid_trade_gives_interchanges_that_pass_and_read_back_to_the_same_totals(data: DocumentData):
    invoic = INVOIC.render(data, language="en")
    cusdec = CUSDEC.render(data, language="fr")
    assert check_interchange(invoic, external_codes=REC_CODES) == []
    assert check_interchange(cusdec, external_codes=REC_CODES) == []

    for raw in (invoic, cusdec):  # the checker's fast reader reads what pydifact's parser reads
        fast, reference = parse_segments(raw), parse_segments(raw, reader="pydifact")
        assert [(s.tag, s.elements) for s in fast] == [(s.tag, s.elements) for s in reference]

    lines = len(data.items)
    segments = _read(invoic)
    assert sum(1 for s in segments if s.tag == "LIN") == lines == _cnt(segments, "2")
    assert (
        sum(_moa(segments, "203")) == data.total_amount == _moa(segments, "79")[0] == _moa(segments, "77")[0]
    )
    assert _masses(segments) == (data.total_net_mass_kg, data.total_gross_mass_kg)
    assert _cnt(segments, "7") == data.total_gross_mass_kg and _cnt(segments, "11") == data.total_packages
    quantities = [Decimal(_value(s, 0, 1)) for s in segments if s.tag == "QTY"]
    assert quantities == [i.quantity for i in data.items]

    segments = _read(cusdec)
    uns = next(n for n, s in enumerate(segments) if s.tag == "UNS")
    header, items = segments[:uns], segments[uns:]
    assert sum(1 for s in items if s.tag == "CST") == lines == _cnt(segments, "5")
    assert sum(_moa(items, "38")) == data.total_amount == _moa(header, "39")[0]
    assert _masses(items) == _masses(header) == (data.total_net_mass_kg, data.total_gross_mass_kg)
    descriptions = ["".join(_value(s, 3, k) for k in range(5)) for s in items if s.tag == "FTX"]
    assert descriptions == [i.description for i in data.items]


_long = (
    st.text(
        st.sampled_from(
            list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éèàçôÉ'+:?&-./")
        ),
        min_size=36,
        max_size=175,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: len(s) > 35)
)


@settings(deadline=None, max_examples=40)
@given(document_datas(max_items=2), _long, _long, _long)
def test_texts_longer_than_an_element_are_split_over_its_repeats(
    data: DocumentData, name, street, description
):
    street = street[:140].rstrip()  # cut at 140, it may end in a space: an address line never does
    seller = dataclasses.replace(data.seller, name=name, street=street)
    item = dataclasses.replace(data.items[0], description=description)
    data = dataclasses.replace(data, seller=seller, issuer=seller, items=(item, *data.items[1:]))
    for gen in (INVOIC, CUSDEC):
        raw = gen.render(data, language="en")
        assert check_interchange(raw) == []
        segments = _read(raw)
        nad = next(s for s in segments if s.tag == "NAD" and s.elements[0] in ("SE", "EX"))
        assert "".join(nad.elements[3]) == name
        assert "".join(nad.elements[4]) == street
    imd = [s for s in _read(INVOIC.render(data, language="en")) if s.tag == "IMD"]
    assert "".join("".join(s.elements[2][3:]) for s in imd).startswith(description)
