"""INVOIC and CUSDEC D96A interchanges of the cashew trade, and the directory checker that judges them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from ismit.documents.data import ITEM_FIELDS, document_data
from ismit.documents.edifact_directory import (
    InvalidInterchange,
    assert_valid,
    check_interchange,
    component,
    load_directory,
    messages_of,
    parse_interchange,
    parse_segments,
    segment,
    write_interchange,
)
from ismit.documents.generators import get_generator
from ismit.documents.generators.edifact import (
    CUSDEC,
    INVOIC,
    build_cusdec,
    build_invoic,
    cusdec_segments,
    invoic_segments,
)

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def data(cashew_trade):
    return document_data(cashew_trade)


@pytest.fixture
def rec_codes():
    """The UN/ECE code lists D96A leaves to others (Rec 20 units, Rec 21 packages, Rec 19 modes)."""
    from ismit.refdata.models import PackageType, TransportMode, UnitOfMeasure

    return {
        "6411": set(UnitOfMeasure.objects.values_list("code", flat=True)),
        "7065": set(PackageType.objects.values_list("code", flat=True)),
        "8067": set(TransportMode.objects.values_list("code", flat=True)),
    }


def kinds(problems):
    return {p.kind for p in problems}


def rebuild(body, name="INVOIC", ref="REF1"):
    """An interchange around a hand-edited message body: envelope counts stay right."""
    return write_interchange(
        [(ref, (name, "D", "96A", "UN"), body)],
        sender=["SENDER", "ZZZ"],
        recipient=["RECIPIENT", "ZZZ"],
        control_reference=ref,
        prepared_at=AT,
    )


# -- the cashew trade ------------------------------------------------------------------------------


def test_cashew_invoic_passes_the_directory(data, rec_codes):
    text = build_invoic(data, prepared_at=AT)
    assert check_interchange(text, external_codes=rec_codes) == []
    assert text.startswith("UNA:+.? 'UNB+UNOC:3+")
    assert "UNH+I" in text and "+INVOIC:D:96A:UN'" in text
    assert "BGM+380+INV-2026-041+9'" in text
    assert "DTM+137:20261102:102'" in text
    assert (
        "NAD+BY+++Provence Fruits Secs SAS+12 quai de la Joliette+Marseille++++FR'" not in text
    )  # no postcode
    assert "NAD+BY+++Provence Fruits Secs SAS+12 quai de la Joliette+Marseille+++FR'" in text
    assert "RFF+VA:FR40303265045'" in text
    assert "CUX+2:EUR:4'" in text
    assert "TOD+6++CIF:::Cost, Insurance and Freight'" in text
    assert "LOC+1+FRMRS::6:Marseille'" in text
    assert "PAT+1++5:3:D:60'PAI+10'" in text
    assert "LIN+1'PIA+1+080132:HS'IMD+F++:::Cashew kernels W320, shelled'" in text
    assert "QTY+47:15000:KGM'" in text and "ALI+CI'" in text
    assert "MOA+203:93000.00'" in text and "PRI+AAA:6.2:::1:KGM'" in text
    assert "PAC+750++BG::6:Bag'" in text
    assert "CNT+2:2'" in text and "MOA+79:100250.00:EUR'" in text


def test_cashew_cusdec_passes_the_directory(data, rec_codes):
    text = build_cusdec(data, prepared_at=AT)
    assert check_interchange(text, external_codes=rec_codes) == []
    assert "+CUSDEC:D:96A:UN'BGM+830+" in text
    for loc in ("LOC+9+CIABJ::6:", "LOC+11+FRMRS::6:Marseille'", "LOC+35+CI:162:5'", "LOC+28+FR:162:5'"):
        assert loc in text
    assert "TDT+20++1'" in text and "GIS+22'" in text
    assert "DOC+380+INV-2026-041'DTM+3:20261102:102'" in text
    assert "NAD+DT+++Anacarde Abidjan SARL" in text and "NAD+EX+++Anacarde Abidjan SARL" in text
    assert "NAD+CN+++Provence Fruits Secs SAS" in text
    assert "MOA+39:100250.00:EUR'CUX+2:EUR:4'UNS+D'" in text
    assert "CST+1+080132:169:1'FTX+AAA+++Cashew kernels W320, shelled'LOC+27+CI:162:5'" in text
    assert "MEA+WT+AAL+KGM:15000'MEA+WT+G+KGM:15450'MEA+AAF++KGM:15000'PAC+750++BG::6:Bag'" in text
    assert "MOA+123:93000.00:EUR'" in text
    assert "UNS+S'CNT+5:2'" in text


def test_generators_are_registered_with_their_contract(data):
    invoic, cusdec = get_generator("edifact_invoic", "edi"), get_generator("edifact_cusdec", "edi")
    assert (invoic, cusdec) == (INVOIC, CUSDEC)
    assert (invoic.media_type, invoic.is_declaration, cusdec.is_declaration) == (
        "application/EDIFACT",
        False,
        True,
    )
    raw = cusdec.render(data, language="fr")
    assert isinstance(raw, bytes) and check_interchange(raw) == []


def test_reads_name_only_fields_of_the_data_and_the_fields_do_reach_the_message(data):
    names = {f.name for f in dataclasses.fields(data)} | {"total_amount", "total_gross_mass_kg"}
    names |= {"total_net_mass_kg", "total_packages"}
    for gen in (INVOIC, CUSDEC):
        for path in gen.reads:
            if path.startswith("items[]."):
                assert path.removeprefix("items[].") in ITEM_FIELDS, path
            else:
                head, _, attr = path.partition(".")
                assert head in names, path
                value = getattr(data, head)
                assert not attr or hasattr(value or data.buyer, attr), path
    # A value that a generator says it reads changes its message; one it does not read leaves it alone.
    base = build_cusdec(data, prepared_at=AT)
    changed = dataclasses.replace(
        data, place_of_discharge=dataclasses.replace(data.place_of_discharge, code="NLRTM")
    )
    assert "place_of_discharge.code" in CUSDEC.reads and build_cusdec(changed, prepared_at=AT) != base
    assert "payment_days" not in CUSDEC.reads
    assert build_cusdec(dataclasses.replace(data, payment_days=5), prepared_at=AT) == base
    assert "payment_days" in INVOIC.reads
    assert build_invoic(dataclasses.replace(data, payment_days=5), prepared_at=AT) != build_invoic(
        data, prepared_at=AT
    )


def test_an_import_declaration(data, rec_codes):
    text = build_cusdec(dataclasses.replace(data, direction="import"), prepared_at=AT)
    assert check_interchange(text, external_codes=rec_codes) == []
    assert "BGM+929+" in text and "GIS+23'" in text and "NAD+IM+++Provence Fruits Secs SAS" in text


def test_accents_travel_as_latin1_and_separators_are_released(data):
    seller = dataclasses.replace(data.seller, name="Société d'Anacarde: Côte d'Ivoire + fils?", city="Bouaké")
    d = dataclasses.replace(data, seller=seller, issuer=seller)
    raw = INVOIC.render(d, language="fr")
    assert "NAD+SE+++Soci\xe9t\xe9 d?'Anacarde?: C\xf4te d?'Ivoire :?+ fils??+".encode("latin-1") in raw
    assert check_interchange(raw) == []
    nad = next(s for s in parse_segments(raw) if s.tag == "NAD" and s.elements[0] == "SE")
    assert "".join(nad.elements[3] if isinstance(nad.elements[3], list) else [nad.elements[3]]) == seller.name
    assert component(nad, 5) == "Bouaké"
    assert component(parse_segments(raw)[1], 1, 0) == "SOCIETEDANACARDECOTEDIVOIREFILS"  # no id: the name


def test_long_names_and_descriptions_are_split_not_lost(data):
    name = "Coopérative Agricole des Producteurs d'Anacarde de la Région du Gbêkê et du Hambol"
    description = (
        "Cashew kernels, white wholes W240, vacuum packed in tins of 22.68 kg, two tins per carton, " * 2
    )
    d = dataclasses.replace(
        data,
        buyer=dataclasses.replace(data.buyer, name=name),
        items=(dataclasses.replace(data.items[0], description=description.strip()), *data.items[1:]),
    )
    for text in (build_invoic(d, prepared_at=AT), build_cusdec(d, prepared_at=AT)):
        assert check_interchange(text) == []
        segs = parse_segments(text)
        nad = next(s for s in segs if s.tag == "NAD" and s.elements[0] == "BY")
        assert "".join(nad.elements[3]) == name
    imd = [s for s in parse_segments(build_invoic(d, prepared_at=AT)) if s.tag == "IMD"]
    assert "".join("".join(s.elements[2][3:]) for s in imd[:-1]) == description.strip()


def test_control_references_come_from_the_trade_and_the_time(data):
    a = build_invoic(data, prepared_at=AT)
    b = build_invoic(data, prepared_at=AT + dt.timedelta(seconds=1))
    c = build_cusdec(data, prepared_at=AT)
    refs = [component(parse_segments(x)[1], 4) for x in (a, b, c)]
    assert len(set(refs)) == 3 and all(len(r) <= 14 for r in refs)
    assert build_invoic(data, prepared_at=AT) == a  # pure: same data, same time, same bytes
    unb, unh = parse_segments(a)[1], parse_segments(a)[2]
    assert component(unh, 0) == component(unb, 4)
    assert component(unb, 1, 0) == "ANACARDEABIDJANSARL"  # the issuer has no identifier: its name
    assert component(unb, 2, 0) == "FR40303265045"  # the buyer's VAT number
    assert component(unb, 3, 0) == "261102" and component(unb, 3, 1) == "0930"
    override = build_cusdec(data, prepared_at=AT, recipient=["CINSW", "ZZZ"])
    assert component(parse_segments(override)[1], 2, 0) == "CINSW"


def test_pydifact_reads_back_the_totals(data):
    interchange = parse_interchange(build_invoic(data, prepared_at=AT))
    (message,) = list(interchange.get_messages())
    assert message.type == "INVOIC"
    amounts = [Decimal(s.elements[0][1]) for s in message.get_segments("MOA") if s.elements[0][0] == "203"]
    assert sum(amounts) == data.total_amount == Decimal("100250.00")
    assert len(list(message.get_segments("LIN"))) == 2


# -- the checker catches what is wrong -------------------------------------------------------------


def test_checker_catches_a_wrong_unt_count(data):
    text = build_invoic(data, prepared_at=AT)
    count = int(re.search(r"UNT\+(\d+)\+", text).group(1))
    broken = text.replace(f"UNT+{count}+", f"UNT+{count - 1}+")
    problems = check_interchange(broken)
    assert [p.kind for p in problems] == ["envelope"]
    assert f"UNT counts '{count - 1}' segments, the message has {count}" in problems[0].message
    assert problems[0].tag == "UNT"


def test_checker_catches_a_wrong_unz_count_and_reference(data):
    text = build_cusdec(data, prepared_at=AT)
    broken = re.sub(r"UNZ\+1\+\w+'", "UNZ+2+OTHER'", text)
    messages = [p.message for p in check_interchange(broken)]
    assert any("UNZ counts '2' messages, the interchange has 1" in m for m in messages)
    assert any("UNZ reference 'OTHER' differs" in m for m in messages)


def test_checker_catches_a_missing_mandatory_segment(data):
    body = [s for s in invoic_segments(data) if s.tag != "BGM"]
    problems = check_interchange(rebuild(body))
    assert kinds(problems) == {"structure"}
    assert any("mandatory segment BGM missing in INVOIC before DTM" in p.message for p in problems)


def test_checker_catches_a_missing_mandatory_segment_at_the_end(data):
    body = [s for s in cusdec_segments(data, prepared_at=AT) if not (s.tag == "UNS" and s.elements == ["S"])]
    problems = check_interchange(rebuild(body, "CUSDEC"))
    assert [p.message for p in problems] == ["mandatory segment UNS missing in CUSDEC before CNT"]


def test_checker_catches_a_missing_mandatory_group(data):
    body = [s for s in invoic_segments(data) if not (s.tag == "MOA" and s.elements[0][0] in ("79", "77"))]
    problems = check_interchange(rebuild(body))
    assert [p.message for p in problems] == ["mandatory group SG48 (MOA) missing in INVOIC before UNT"]


def test_checker_catches_a_too_long_element(data):
    body = invoic_segments(data)
    body[0] = segment("BGM", ["380"], "X" * 36, "9")
    problems = check_interchange(rebuild(body))
    assert kinds(problems) == {"element"}
    assert "1004: 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' is longer than an..35 (36)" in problems[0].message
    assert check_interchange(rebuild([segment("BGM", ["380"], "X" * 35, "9"), *body[1:]])) == []


def test_checker_counts_digits_not_signs_in_numeric_elements(data):
    body = invoic_segments(data)
    at = next(i for i, s in enumerate(body) if s.tag == "QTY")
    body[at] = segment("QTY", ["47", "1234567890.12345", "KGM"])  # 15 digits: n..15 allows it
    assert check_interchange(rebuild(body)) == []
    body[at] = segment("QTY", ["47", "1234567890.123456", "KGM"])
    assert "is longer than n..15 (16)" in check_interchange(rebuild(body))[0].message
    body[at] = segment("QTY", ["47", "12,5", "KGM"])  # the UNA says "." is the decimal mark
    assert "is not numeric (n)" in check_interchange(rebuild(body))[0].message


def test_checker_catches_a_segment_out_of_order(data):
    body = invoic_segments(data)
    assert [body[0].tag, body[1].tag] == ["BGM", "DTM"]
    body[0], body[1] = body[1], body[0]
    problems = check_interchange(rebuild(body))
    assert kinds(problems) == {"structure"}
    assert any("segment BGM out of order in INVOIC" in p.message for p in problems)


def test_checker_catches_a_segment_out_of_order_inside_a_group(data):
    body = invoic_segments(data)
    at = next(i for i, s in enumerate(body) if s.tag == "PIA")
    body.insert(at + 3, body.pop(at))  # PIA after IMD and the two MEA of the first line item
    problems = check_interchange(rebuild(body))
    assert [p.message for p in problems] == ["segment PIA out of order in SG25: it comes before segment MEA"]


def test_checker_catches_too_many_repeats(data):
    body = invoic_segments(data)
    body[1:1] = [segment("DTM", ["3", "20261102", "102"])] * 35  # DTM: at most 35 in the heading
    problems = check_interchange(rebuild(body))
    assert any("segment DTM repeated more than 35 times in INVOIC" in p.message for p in problems)


def test_checker_catches_unknown_codes_and_missing_mandatory_elements(data):
    body = invoic_segments(data)
    body[0] = segment("BGM", ["999"], "INV-1", "9")
    body[2] = segment("RFF", ["", "no qualifier"])
    problems = check_interchange(rebuild(body))
    assert [(p.kind, p.tag) for p in problems] == [("code", "BGM"), ("element", "RFF")]
    assert "'999' is not a code of data element 1001" in problems[0].message
    assert "mandatory component 1153 of C506 missing" in problems[1].message


def test_checker_uses_external_code_lists_when_given(data, rec_codes):
    body = invoic_segments(data)
    at = next(i for i, s in enumerate(body) if s.tag == "QTY")
    body[at] = segment("QTY", ["47", "1", "XXX"])
    assert check_interchange(rebuild(body)) == []  # Rec 20 is not part of D96A
    problems = check_interchange(rebuild(body), external_codes=rec_codes)
    assert [p.message for p in problems] == ["QTY element 1 6411: 'XXX' is not a code of data element 6411"]


def test_checker_rejects_characters_outside_the_syntax_level(data):
    text = build_invoic(data, prepared_at=AT).replace("UNOC:3", "UNOA:3")
    problems = check_interchange(text)
    assert "charset" in kinds(problems)  # lower case letters are not UNOA
    text = build_invoic(data, prepared_at=AT).replace("Provence", "Provenceœ")  # œ: not ISO 8859-1
    problems = check_interchange(text)
    assert [(p.kind, p.tag) for p in problems] == [("charset", "NAD")] * 2  # the buyer, and as consignee


def test_checker_reports_garbage_without_crashing():
    assert kinds(check_interchange("this is not edifact")) <= {"syntax", "envelope"}
    assert check_interchange("this is not edifact")
    assert check_interchange(b"UNA:+.? 'UNB+UNOC:3+A+B+261102:0930+R'UNZ+0+R'")[0].message.startswith(
        "no message"
    )
    with pytest.raises(InvalidInterchange):
        assert_valid("UNB+UNOC:3+A+B+261102:0930+R'UNH+1+INVOIC:D:96A:UN'UNT+2+1'UNZ+1+R'")


# -- the shipped directory -------------------------------------------------------------------------


def test_the_directory_written_as_json_is_the_one_read_from_the_official_xml(shared_refdata, tmp_path):
    from ismit.documents import edifact_build

    source = shared_refdata / "edifact" / "D96A"
    built = edifact_build.build(source)
    assert set(built["messages"]) == {"INVOIC", "CUSDEC", "CUSRES"}
    out = tmp_path / "d96a.json"
    out.write_text(json.dumps(built), "utf-8")
    assert load_directory(out) == load_directory(source)


def test_without_a_standards_folder_the_checker_says_so(settings, monkeypatch):
    from ismit.documents.standards import StandardsUnavailable

    settings.ISMIT_STANDARDS_DIR = ""
    monkeypatch.delenv("ISMIT_STANDARDS_DIR", raising=False)
    load_directory.cache_clear()
    try:
        with pytest.raises(StandardsUnavailable):
            load_directory()
    finally:
        load_directory.cache_clear()


def test_messages_of_splits_an_interchange_with_two_messages(data):
    text = write_interchange(
        [
            ("1", ("INVOIC", "D", "96A", "UN"), invoic_segments(data)),
            ("2", ("CUSDEC", "D", "96A", "UN"), cusdec_segments(data, prepared_at=AT)),
        ],
        sender=["S", "ZZZ"],
        recipient=["R", "ZZZ"],
        control_reference="TWO",
        prepared_at=AT,
    )
    assert check_interchange(text) == []
    assert [component(m[0], 1, 0) for m in messages_of(parse_segments(text))] == ["INVOIC", "CUSDEC"]
    assert "UNZ+2+TWO'" in text


@pytest.mark.parametrize(
    "text",
    [
        "UNA:+.? 'UNB+UNOC:3+A+B'\r\nUNH+1+X::Y:'FTX+AAA+++a?:b?+c??d?'e:f::'UNT+3+1'",
        "UNB+UNOC:3+A:+B::C'  UNH+:1'UNZ+1+R'\n",
        "UNA:+,? 'UNB+UNOC:3'MOA+203:12,5'",
    ],
)
def test_the_fast_reader_reads_what_pydifact_reads(text):
    fast, reference = parse_segments(text), parse_segments(text, reader="pydifact")
    assert [(s.tag, s.elements) for s in fast] == [(s.tag, s.elements) for s in reference]


@pytest.mark.parametrize("text", ["UNB+UNOC:3+A+B'UNH+1", "UNB+UNOC:3+A+B'UNZ+1+R?"])
def test_both_readers_refuse_a_truncated_interchange(text):
    from pydifact.exceptions import EDISyntaxError

    for reader in ("fast", "pydifact"):
        with pytest.raises(EDISyntaxError):
            parse_segments(text, reader=reader)
