"""The simulator's pieces without a process: signing, MRNs, reading and checking declarations, the risk
rules, notifications against the published schema, FX / VAT checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from ismit.documents.tests.strategies import document_datas
from ismit.lib import hmac_auth
from ismit.nsw_sim import codes, declarations, finance, messages, mrn
from ismit.nsw_sim.config import Config
from ismit.nsw_sim.tests.support import SHARED, cusdec, document, item, res_errors, res_fields, wco


def test_the_window_runs_without_the_platforms_django_apps():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from ismit.nsw_sim import server, declarations\n"
        "from ismit.nsw_sim.bench import sample_declaration\n"
        "from ismit.nsw_sim.config import Config\n"
        "sim = server.Simulator(Config(db=':memory:', secret='s'))\n"
        "assert sim._declaration('wco', sample_declaration('X'))['problems'] == []\n"
        "mods = [m for m in sys.modules if m.startswith(('ismit.', 'django.apps', 'django.db'))]\n"
        "print(','.join(sorted(mods)))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    loaded = set(out.stdout.strip().split(","))
    assert "ismit.nsw_sim.server" in loaded
    assert not {
        m for m in loaded if m.startswith(("django.apps", "django.db", "ismit.accounts", "ismit.trades"))
    }
    assert {m.split(".")[1] for m in loaded} <= {"nsw_sim", "lib", "documents"}


# -- HMAC -----------------------------------------------------------------------------------------------


def test_signature_worked_example_of_the_protocol_document():
    body = b'{"hello": "world"}'
    headers = hmac_auth.sign_request("s3cret", "POST", "/fx/settlements", body, 1767225600, client_id="ismit")
    assert headers == {
        "X-ISMIT-Client": "ismit",
        "X-ISMIT-Timestamp": "1767225600",
        # computed independently: printf ... | openssl dgst -sha256 -hmac s3cret
        "X-ISMIT-Signature": "ea8dbda5d4b4a1ec6e65ed34810b42163e98bc1500052a19dbc2bce9c7b519ea",
    }
    assert hmac_auth.string_to_sign("post", "/fx/settlements", 1767225600, body) == (
        b"POST\n/fx/settlements\n1767225600\n5f8f04f6a3a892aaabbddb6cf273894493773960d4a325b105fee46eef4304f1"
    )
    # The value docs/single-window-protocol.md shows.
    doc = (Path(__file__).resolve().parents[4] / "docs" / "single-window-protocol.md").read_text()
    assert headers["X-ISMIT-Signature"] in doc


def test_check_request_accepts_the_signed_request_and_refuses_anything_else():
    secrets = {"ismit": "s3cret"}
    body = b"<x/>"
    headers = hmac_auth.sign_request("s3cret", "POST", "/customs/declarations", body, 1000, client_id="ismit")
    lowered = {k.lower(): v for k, v in headers.items()}
    assert (
        hmac_auth.check_request(secrets, "POST", "/customs/declarations", lowered, body, now=1100) == "ismit"
    )
    refusals = [
        (secrets, "POST", "/customs/declarations", headers, b"<y/>", 1100),  # body changed
        (secrets, "POST", "/customs/edifact", headers, body, 1100),  # path changed
        (secrets, "GET", "/customs/declarations", headers, body, 1100),  # method changed
        (secrets, "POST", "/customs/declarations", headers, body, 1301),  # too late
        (secrets, "POST", "/customs/declarations", headers, body, 699),  # too early
        ({"ismit": "other"}, "POST", "/customs/declarations", headers, body, 1100),  # wrong secret
        ({"someone": "s3cret"}, "POST", "/customs/declarations", headers, body, 1100),  # unknown client
        (secrets, "POST", "/customs/declarations", {}, body, 1100),  # unsigned
    ]
    for args in refusals:
        with pytest.raises(hmac_auth.HmacAuthError):
            hmac_auth.check_request(*args[:5], now=args[5])


def test_the_signed_path_is_the_request_target():
    assert hmac_auth.path_with_query("http://h:8000/api/v1/cb?x=1&y=2") == "/api/v1/cb?x=1&y=2"
    assert hmac_auth.path_with_query("https://h") == "/"
    assert hmac_auth.path_with_query("/notifications?after=3") == "/notifications?after=3"


# -- MRN ------------------------------------------------------------------------------------------------


def test_check_character_of_every_published_uk_mrn():
    """Every declaration ID (MRN) of the UK's published notifications and amendments: the Declaration's
    own ID, not previous documents (a carnet number there has another check)."""
    from lxml import etree

    found = set()
    for path in (SHARED / "wco-declaration-uk" / "examples").rglob("*.xml"):
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError:
            continue
        for element in root.iter("{*}ID", "ID"):
            parent = element.getparent()
            if etree.QName(parent).localname == "Declaration" and re.fullmatch(
                r"\d\dGB\w{14}", element.text or ""
            ):
                found.add(element.text)
    assert len(found) >= 15
    for number in found:
        assert mrn.is_valid(number), number
    assert not mrn.is_valid("19GBCKKCQSXV2FGVA7")  # the published 19GBCKKCQSXV2FGVA8, check character changed


def test_made_mrns_are_valid_distinct_and_reproducible():
    numbers = {mrn.make_mrn(f"conversation-{n}", "CI", year=2026) for n in range(2000)}
    assert len(numbers) == 2000
    assert all(mrn.is_valid(n) and n.startswith("26CI") and len(n) == 18 for n in numbers)
    assert (
        mrn.make_mrn("x", "CI", 2026)
        == mrn.make_mrn("x", "CI", 2026)
        != mrn.make_mrn("x", "CI", 2026, salt=1)
    )


# -- declarations ---------------------------------------------------------------------------------------


def test_the_platforms_declarations_pass_in_both_formats():
    data = document()
    for read, body in ((declarations.read_wco, wco(data)), (declarations.read_cusdec, cusdec(data))):
        d = read(body)
        assert declarations.check(d) == []
        assert d.lrn == "CI-EXP-0001" and len(d.items) == 2
        assert d.facts()["amount"] == "11475.00" and d.facts()["currency"] == "EUR"
        assert d.facts()["invoice_number"] == "INV-2026-041"
    assert declarations.directory_problems(cusdec(data)) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document_datas(max_items=5))
def test_every_generated_export_declaration_is_accepted(data):
    for read, body in ((declarations.read_wco, wco(data)), (declarations.read_cusdec, cusdec(data))):
        assert declarations.check(read(body)) == []


def _codes(body: bytes, read=declarations.read_wco) -> set[str]:
    return {p.code for p in declarations.check(read(body))}


def test_business_checks_find_each_fault():
    bad_items = (
        item(1, hs_code="0801", gross_mass_kg=Decimal("10"), net_mass_kg=Decimal("20")),
        item(2, origin_country="QQ", description=" "),
    )
    data = document(
        items=bad_items, currency="EUX", transport_mode="0", place_of_discharge=document().place_of_loading
    )
    found = _codes(wco(data))
    assert {"NSW20001", "NSW20005", "NSW10010", "NSW10011", "NSW10009", "NSW20002"} <= found
    assert {"NSW20001", "NSW20005", "NSW10010", "NSW10011", "NSW10009"} <= _codes(
        cusdec(data), declarations.read_cusdec
    )


def test_totals_counts_and_parties_are_checked():
    body = wco(document()).decode()
    wrong_total = body.replace(
        '<InvoiceAmount currencyID="EUR">11475.00<', '<InvoiceAmount currencyID="EUR">11000.00<'
    )
    assert "NSW10013" in _codes(wrong_total.encode())
    wrong_count = body.replace("<GoodsItemQuantity>2<", "<GoodsItemQuantity>3<")
    assert "NSW10008" in _codes(wrong_count.encode())
    no_declarant = re.sub(r"<Declarant>.*?</Declarant>", "", body, flags=re.S)
    assert "NSW10004" in _codes(no_declarant.encode())
    no_items = re.sub(r"<GovernmentAgencyGoodsItem>.*</GovernmentAgencyGoodsItem>", "", body, flags=re.S)
    assert "NSW10007" in _codes(no_items.encode())
    no_lrn = body.replace("<FunctionalReferenceID>CI-EXP-0001</FunctionalReferenceID>", "")
    assert "NSW10003" in _codes(no_lrn.encode())
    bad_mass = body.replace(
        '<NetNetWeightMeasure unitCode="KGM">1500<', '<NetNetWeightMeasure unitCode="KGM">lots<'
    )
    assert "NSW20004" in _codes(bad_mass.encode())
    # An exporter without identifier but with a name and a country is identified (as DE 3/1 allows).
    anonymous = dataclasses.replace(document().seller, identifiers={})
    assert _codes(wco(document(seller=anonymous, issuer=anonymous))) == set()


def test_cusdec_envelope_counts_are_checked():
    body = cusdec(document()).decode("latin-1")
    segments = body.count("'") - 1  # every segment but UNA ends with '
    tampered = re.sub(r"UNT\+(\d+)\+", lambda m: f"UNT+{int(m.group(1)) + 1}+", body)
    assert tampered != body and segments > 10
    assert "NSW10014" in _codes(tampered.encode("latin-1"), declarations.read_cusdec)


def test_what_is_not_a_declaration_is_malformed():
    for body in (
        b"<not closed",
        b"<a/>",
        b'<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"/>',
    ):
        with pytest.raises(declarations.Malformed):
            declarations.read_wco(body)
    for body in (b"hello", b"UNA:+.? 'UNB+UNOC:3+A+B+260101:1200+1'UNZ+0+1'"):
        with pytest.raises(declarations.Malformed):
            declarations.read_cusdec(body)


def test_risk_rules():
    config = Config()
    plain = declarations.read_wco(wco(document()))
    assert [s["status"] for s in declarations.plan(plain, [], config)] == [
        "received",
        "accepted",
        "cleared",
        "goods_exited",
    ]
    gold = declarations.read_wco(wco(document(items=(item(1, hs_code="710812"),))))
    assert [s["status"] for s in declarations.plan(gold, [], config)] == [
        "received",
        "accepted",
        "control",
        "cleared",
        "goods_exited",
    ]
    expensive = declarations.read_wco(wco(document(items=(item(1, unit_price=Decimal("100")),))))
    assert [s["status"] for s in declarations.plan(expensive, [], config)][2] == "documents_required"
    # XOF is compared in euros: 10 million XOF is about 15,000 EUR, under the threshold.
    xof = declarations.read_wco(wco(document(currency="XOF", items=(item(1, unit_price=Decimal("6666")),))))
    assert "documents_required" not in [s["status"] for s in declarations.plan(xof, [], config)]
    vague = declarations.read_wco(wco(document(items=(item(1, description="Goods"),))))
    steps = declarations.plan(vague, [], config)
    assert [s["status"] for s in steps][:3] == ["received", "accepted", "query"] and steps[2]["item"] == 1
    random = dataclasses.replace(config, control_rate=1.0)
    assert "control" in [s["status"] for s in declarations.plan(plain, [], random)]
    # Each check says why, by a code a platform can translate (and the goods item an inspection is for).
    reasons = [
        {k: s.get(k) for k in ("status", "code", "item")}
        for d, c in ((gold, config), (expensive, config), (plain, random))
        for s in declarations.plan(d, [], c)
        if s["status"] in ("control", "documents_required")
    ]
    assert reasons == [
        {"status": "control", "code": "NSW30002", "item": 1},
        {"status": "documents_required", "code": "NSW30001", "item": None},
        {"status": "control", "code": "NSW30003", "item": None},
    ]


def test_a_query_is_answered_by_a_better_description_or_an_explanation():
    config = Config()
    body = wco(document(items=(item(1, description="Parts"),))).decode()
    vague = declarations.read_wco(body.encode())
    assert [s["status"] for s in declarations.plan_after_correction(vague, [], config)] == ["query"]
    explained = body.replace(
        "<GoodsItemQuantity>",
        "<AdditionalInformation><StatementDescription>Spare parts of cashew shelling machines"
        "</StatementDescription><StatementTypeCode>AES</StatementTypeCode></AdditionalInformation>"
        "<GoodsItemQuantity>",
    )
    answered = declarations.read_wco(explained.encode())
    assert answered.answer == "Spare parts of cashew shelling machines"
    assert [s["status"] for s in declarations.plan_after_correction(answered, [], config)] == [
        "cleared",
        "goods_exited",
    ]
    edi = cusdec(document(items=(item(1, description="Parts"),))).decode("latin-1")
    edi_answered = edi.replace(
        "FTX+AAA+++Parts'", "FTX+AAA+++Parts'FTX+ACB+++Spare parts of shelling machines'"
    )
    edi_answered = re.sub(r"UNT\+(\d+)\+", lambda m: f"UNT+{int(m.group(1)) + 1}+", edi_answered)
    d = declarations.read_cusdec(edi_answered.encode("latin-1"))
    assert d.answer == "Spare parts of shelling machines" and declarations.check(d) == []
    assert declarations.directory_problems(edi_answered.encode("latin-1")) == []
    problems = declarations.check(declarations.read_wco(wco(document(items=(item(1, hs_code="1"),)))))
    again = declarations.plan_after_correction(vague, problems, config)
    assert again[0]["status"] == "query" and again[0]["problems"][0]["code"] == "NSW20001"


# -- notifications --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", codes.DECLARATION_STATUSES)
def test_every_notification_is_valid_against_the_published_res_schema(status):
    problems = declarations.check(declarations.read_wco(wco(document(items=(item(1, hs_code="12"),)))))
    step = {
        "status": status,
        "text": "Why?",
        "code": codes.REASON_SENSITIVE_GOODS,
        "item": 1,
        "problems": [p.__dict__ for p in problems],
    }
    conversation = {
        "id": "c",
        "kind": "declaration",
        "format": "wco",
        "lrn": "L-1",
        "mrn": "26CI0123456789ABC7",
        "country": "CI",
        "version": 2,
    }
    at = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    body = messages.render_res(conversation, step, notification_id="f" * 32, issued_at=at, agency="Customs")
    assert res_errors(body) == []
    fields = res_fields(body)
    assert fields["function_code"] == codes.WCO_FUNCTION_CODES[status]
    assert fields["lrn"] == "L-1" and fields["version"] == "2"
    assert fields["errors"] == ["NSW20001"]
    assert ("68A", None) in fields["pointers"][0] and ("21A", "145") in fields["pointers"][0]


def test_the_schema_check_can_fail():
    conversation = {
        "id": "c",
        "kind": "declaration",
        "format": "wco",
        "lrn": "L-1",
        "mrn": "",
        "country": "CI",
    }
    body = messages.render_res(
        conversation,
        {"status": "received"},
        notification_id="f" * 32,
        issued_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        agency="Customs",
    )
    assert res_errors(body.replace(b"<FunctionCode>02<", b"<FunctionCode>XY<"))
    assert res_errors(
        body.replace(b"<Declaration>", b"<Declaratio>").replace(b"</Declaration>", b"</Declaratio>")
    )


# -- FX and VAT -----------------------------------------------------------------------------------------


def _declared(state="goods_exited"):
    return {"state": state, "facts": {"invoice_number": "INV-1", "currency": "EUR", "amount": "1000.00"}}


def fx(**overrides):
    report = {
        "report_reference": "FX-1",
        "exporter": {"id": "CI1234567890", "name": "Anacarde"},
        "declaration_mrn": mrn.make_mrn("d", "CI", 2026),
        "invoice_number": "INV-1",
        "currency": "EUR",
        "invoiced_amount": "1000.00",
        "payments": [
            {"amount": "1000.00", "currency": "EUR", "received_on": "2026-01-10", "bank_reference": "B1"}
        ],
    }
    report.update(overrides)
    return report


def test_fx_report_checks():
    config = Config()
    assert finance.check_report(finance.FX, fx(), _declared("cleared"), config) == ([], "")
    reasons, _ = finance.check_report(finance.FX, fx(invoiced_amount="900"), _declared(), config)
    assert [r["code"] for r in reasons] == ["NSWF0013"]
    reasons, _ = finance.check_report(finance.FX, fx(), None, config)
    assert [r["code"] for r in reasons] == ["NSWF0010"]
    reasons, _ = finance.check_report(
        finance.FX, fx(declaration_mrn="26CI0000000000000X", currency="EUX"), None, config
    )
    assert {"NSWF0006", "NSWF0004"} <= {r["code"] for r in reasons}
    short = fx(
        payments=[{"amount": "600", "currency": "EUR", "received_on": "2026-01-10", "bank_reference": "B1"}]
    )
    reasons, question = finance.check_report(finance.FX, short, _declared(), config)
    assert reasons == [] and "less than the invoiced amount" in question
    assert finance.check_report(
        finance.FX, {**short, "explanation": "Discount agreed"}, _declared(), config
    ) == ([], "")
    reasons, _ = finance.check_report(finance.FX, {}, None, config)
    assert {r["field"] for r in reasons} >= {"report_reference", "exporter", "declaration_mrn", "payments"}


def test_vat_claim_checks():
    config = Config()
    claim = {
        "claim_reference": "VAT-1",
        "claimant": {"id": "CI1234567890", "vat_number": "CI0012345A"},
        "declaration_mrn": mrn.make_mrn("d", "CI", 2026),
        "export_date": "2026-01-20",
        "invoice_number": "INV-1",
        "invoice_date": "2026-01-02",
        "currency": "EUR",
        "net_value": "1000.00",
        "vat_rate": "18",
        "vat_amount": "180.00",
        "payments": [
            {"amount": "1000.00", "currency": "EUR", "received_on": "2026-01-10", "bank_reference": "B1"}
        ],
    }
    assert finance.check_report(finance.VAT, claim, _declared(), config) == ([], "")
    reasons, _ = finance.check_report(finance.VAT, claim, _declared("cleared"), config)
    assert [r["code"] for r in reasons] == ["NSWV0010"]
    reasons, _ = finance.check_report(finance.VAT, {**claim, "vat_amount": "200.00"}, _declared(), config)
    assert [r["code"] for r in reasons] == ["NSWV0011"]
    reasons, _ = finance.check_report(finance.VAT, {**claim, "invoice_number": "INV-2"}, _declared(), config)
    assert [r["code"] for r in reasons] == ["NSWF0011"]
    reasons, _ = finance.check_report(
        finance.VAT, {**claim, "export_date": "2025-12-31"}, _declared(), config
    )
    assert [r["code"] for r in reasons] == ["NSWV0013"]


def test_config_runtime_changes_are_checked():
    config = Config()
    assert config.update({"callback_drop_rate": "0.5", "control_chapters": "71,93,36"})[
        "control_chapters"
    ] == [
        "71",
        "93",
        "36",
    ]
    assert config.callback_drop_rate == 0.5
    for bad in ({"callback_drop_rate": 2}, {"port": 1}, {"delay": "soon"}, {"check_mrn": "maybe"}):
        with pytest.raises(ValueError):
            config.update(bad)
