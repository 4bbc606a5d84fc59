"""Bulk import of trades from a trader's own CSV or XLSX file (service level: trades/bulk.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.trades import bulk
from ismit.trades.models import ColumnMapping, Trade
from ismit.trades.queries import totals

FILES = Path(__file__).parent / "files"
ENGLISH = json.loads((FILES / "english_mapping.json").read_text())
FRENCH = json.loads((FILES / "french_mapping.json").read_text())

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes() if content is None else content)


def csv_of(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("trades.csv", ("\n".join(lines) + "\n").encode())


def import_(cast, file, mapping=ENGLISH, user=None, **kwargs):
    return bulk.import_trades(
        actor=actor_for(user or cast.exporter), organisation=cast.msme, file=file, mapping=mapping, **kwargs
    )


def errors_of(cast, file, mapping=ENGLISH) -> list[tuple]:
    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, file, mapping)
    return [(e.row, e.column, e.field) for e in caught.value.errors]


GOOD_ROWS = (FILES / "good_trades.csv").read_text().splitlines()


# -- a good file ------------------------------------------------------------------------------------


def test_a_good_csv_with_two_trades_on_three_rows_creates_two_trades_with_their_goods(cast):
    result = import_(cast, upload("good_trades.csv"))

    assert result.rows == 3
    assert result.references == ["BULK-001", "BULK-002"]
    first = Trade.objects.get(organisation=cast.msme, reference="BULK-001")
    assert [(i.line_no, i.hs_code_id, i.quantity) for i in first.items.all()] == [
        (1, "080132", Decimal("15000")),
        (2, "080131", Decimal("5000")),
    ]
    assert first.items.get(line_no=1).description == "Cashew kernels W320, shelled"
    assert totals(first) == {
        "amount": Decimal("100250.00"),
        "net_mass_kg": Decimal("20000"),
        "gross_mass_kg": Decimal("20570"),
        "packages": 812,
        "lines": 2,
    }
    assert first.buyer.name == "Provence Fruits Secs SAS" and first.buyer.country_id == "FR"
    assert (first.currency_id, first.incoterm_id, first.place_of_discharge_id) == ("EUR", "CIF", "FRMRS")
    assert (first.invoice_number, first.invoice_date) == ("INV-9001", dt.date(2026, 11, 2))
    assert (first.payment_terms, first.payment_days) == ("lc", 60)
    second = Trade.objects.get(organisation=cast.msme, reference="BULK-002")
    assert totals(second)["amount"] == Decimal("56800.00")
    assert second.place_of_discharge_id == "DEHAM" and second.payment_terms == "open_account"


def test_an_exports_seller_defaults_to_the_organisation_itself(cast):
    import_(cast, upload("good_trades.csv"))

    trade = Trade.objects.get(organisation=cast.msme, reference="BULK-001")
    assert (trade.seller.name, trade.seller.country_id, trade.seller.city) == (
        "Anacarde Abidjan SARL",
        "CI",
        "Abidjan",
    )


def test_an_imports_buyer_defaults_to_the_organisation_itself(cast):
    rows = [GOOD_ROWS[0], GOOD_ROWS[3].replace(",export,", ",import,")]
    mapping = {**ENGLISH, "seller.name": "Customer", "seller.country": "Customer country"}
    del mapping["buyer.name"], mapping["buyer.country"], mapping["buyer.city"]

    import_(cast, csv_of(*rows), mapping)

    trade = Trade.objects.get(organisation=cast.msme, reference="BULK-002")
    assert trade.direction == "import"
    assert (trade.seller.name, trade.buyer.name) == ("Hamburger Nuss GmbH", "Anacarde Abidjan SARL")


def test_the_import_is_audited_with_the_file_name_row_count_and_references(cast):
    import_(cast, upload("good_trades.csv"))

    event = AuditEvent.objects.get(action="trade.bulk_imported")
    assert event.organisation_id == cast.msme.id
    assert event.changes == {"file": "good_trades.csv", "rows": 3, "references": ["BULK-001", "BULK-002"]}
    assert AuditEvent.objects.filter(action="trade.created").count() == 2


def test_a_good_xlsx_with_date_and_number_cells_creates_the_same_trades(cast):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    headers = GOOD_ROWS[0].split(",")
    sheet.append(headers)
    common = [
        "export",
        "Provence Fruits Secs SAS",
        "FR",
        "Marseille",
        "INV-9001",
        dt.date(2026, 11, 2),
        "EUR",
        "CIF",
        "FRMRS",
        1,
        "CIABJ",
        "FRMRS",
        dt.datetime(2026, 12, 1),
        "lc",
        60,
    ]
    # HS codes typed as numbers lose their leading zero: 080132 -> 80132
    sheet.append(
        [
            "BULK-001",
            *common,
            "Cashew kernels W320, shelled",
            80132,
            "CI",
            15000,
            "KGM",
            750,
            "BG",
            15000,
            15450,
            6.2,
        ]
    )
    sheet.append(
        [
            "BULK-001",
            *common,
            "Cashew nuts in shell",
            "080131",
            "CI",
            5000.0,
            "KGM",
            62.0,
            "BG",
            5000,
            5120,
            1.45,
        ]
    )
    sheet.append([])  # a blank row is skipped, but still counted in row numbers
    sheet.append(
        [
            "BULK-002",
            "export",
            "Hamburger Nuss GmbH",
            "DE",
            "Hamburg",
            "INV-9002",
            dt.date(2026, 11, 5),
            "EUR",
            "FOB",
            "CIABJ",
            1,
            "CIABJ",
            "DEHAM",
            dt.date(2026, 12, 10),
            "open_account",
            30,
            "Cashew kernels W240",
            80132,
            "CI",
            8000,
            "KGM",
            400,
            "BG",
            8000,
            8240,
            7.1,
        ]
    )
    content = io.BytesIO()
    workbook.save(content)

    result = import_(cast, SimpleUploadedFile("orders.xlsx", content.getvalue()))

    assert result.references == ["BULK-001", "BULK-002"]
    first = Trade.objects.get(organisation=cast.msme, reference="BULK-001")
    assert [i.hs_code_id for i in first.items.all()] == ["080132", "080131"]
    assert totals(first)["amount"] == Decimal("100250.00")
    assert first.planned_departure == dt.date(2026, 12, 1)
    assert first.transport_mode_id == "1"
    assert totals(Trade.objects.get(organisation=cast.msme, reference="BULK-002"))["amount"] == Decimal(
        "56800.00"
    )


def test_a_chosen_sheet_of_a_workbook_is_read_and_an_unknown_one_is_an_error(cast):
    workbook = openpyxl.Workbook()
    workbook.active.append(["notes"])
    orders = workbook.create_sheet("Orders")
    for line in GOOD_ROWS:
        orders.append(line.replace('"Cashew kernels W320, shelled"', "Kernels").split(","))
    content = io.BytesIO()
    workbook.save(content)

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, SimpleUploadedFile("o.xlsx", content.getvalue()), sheet="Commandes")
    assert "Orders" in caught.value.errors[0].message
    assert import_(cast, SimpleUploadedFile("o.xlsx", content.getvalue()), sheet="Orders").references == [
        "BULK-001",
        "BULK-002",
    ]


# -- a bad file -------------------------------------------------------------------------------------


def test_a_bad_file_lists_exactly_its_row_errors_and_saves_nothing(cast, cashew_trade):
    trades_before, events_before = Trade.objects.count(), AuditEvent.objects.count()

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, upload("bad_trades.csv"))

    errors = caught.value.errors
    assert [(e.row, e.column, e.field, e.value) for e in errors] == [
        (4, "HS", "hs_code", "123456"),
        (5, "Incoterm place", "incoterm_place", "FRXXX"),
        (5, "Port of discharge", "place_of_discharge", "FRXXX"),
        (6, "Gross kg", "gross_mass_kg", "1900"),
    ]
    assert errors[0].message == "123456 is not an HS subheading."
    assert errors[2].message == "FRXXX is not a UN/LOCODE location."
    assert errors[3].message == "Gross mass cannot be less than net mass."
    assert Trade.objects.count() == trades_before
    assert AuditEvent.objects.count() == events_before


def test_header_values_that_differ_within_one_trade_are_an_error(cast):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[2].replace(",EUR,", ",USD,")]

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, csv_of(*rows))

    (error,) = caught.value.errors
    assert (error.row, error.column, error.field, error.value) == (3, "Currency", "currency", "USD")
    assert "row 2" in error.message and "EUR" in error.message
    assert not Trade.objects.filter(reference="BULK-001").exists()


def test_a_blank_header_cell_on_a_later_row_takes_the_trades_value(cast):
    second = GOOD_ROWS[2].replace(",EUR,CIF,", ",,CIF,")

    import_(cast, csv_of(GOOD_ROWS[0], GOOD_ROWS[1], second))

    assert Trade.objects.get(reference="BULK-001").currency_id == "EUR"


def test_a_reference_that_already_exists_in_the_organisation_is_an_error(cast, exporter_actor):
    import_(cast, upload("good_trades.csv"))

    errors = errors_of(cast, upload("good_trades.csv"))

    assert errors == [(2, "Order ref", "reference"), (4, "Order ref", "reference")]
    assert Trade.objects.filter(organisation=cast.msme).count() == 2


def test_another_organisations_references_do_not_clash(cast, other_trade):
    rows = [GOOD_ROWS[0], GOOD_ROWS[3].replace("BULK-002", other_trade.reference)]

    assert import_(cast, csv_of(*rows)).references == [other_trade.reference]


def test_trades_keyed_by_invoice_number_clash_within_the_file_and_with_existing_trades(cast):
    mapping = {k: v for k, v in ENGLISH.items() if k != "reference"}
    import_(cast, csv_of(GOOD_ROWS[0], GOOD_ROWS[3]), mapping)  # INV-9002, automatic reference

    errors = errors_of(cast, upload("good_trades.csv"), mapping)
    assert errors == [(4, "Invoice no", "invoice_number")]

    rows = [
        GOOD_ROWS[0],
        GOOD_ROWS[1],
        GOOD_ROWS[3].replace("BULK-002", "BULK-003").replace("INV-9002", "INV-9001"),
    ]
    assert errors_of(cast, csv_of(*rows)) == [(3, "Invoice no", "invoice_number")]


def test_a_row_without_reference_nor_invoice_number_is_an_error(cast):
    row = GOOD_ROWS[3].replace("BULK-002", "").replace("INV-9002", "")

    assert errors_of(cast, csv_of(GOOD_ROWS[0], GOOD_ROWS[1], row)) == [(3, "Order ref", "reference")]


def test_unreadable_dates_and_day_counts_are_row_errors(cast):
    row = GOOD_ROWS[3].replace("2026-11-05", "5 Nov").replace(",30,", ",thirty,")

    errors = errors_of(cast, csv_of(GOOD_ROWS[0], row))

    assert errors == [(2, "Days", "payment_days"), (2, "Invoice date", "invoice_date")]


def test_a_mapping_whose_columns_are_missing_from_the_file_says_so_on_the_header_row(cast):
    mapping = {**ENGLISH, "unit_price": "Unit price"}
    del mapping["currency"]

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, upload("good_trades.csv"), mapping)

    assert caught.value.stage == "mapping"
    assert [(e.row, e.column, e.field) for e in caught.value.errors] == [
        (1, "", "currency"),
        (1, "Unit price", "unit_price"),
    ]


def test_formulas_are_text_not_computed(cast):
    row = GOOD_ROWS[3].replace(",8000,8240,", ",8000,=8000*2,")

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, csv_of(GOOD_ROWS[0], row))

    (error,) = caught.value.errors
    assert (error.field, error.value, error.message) == ("gross_mass_kg", "=8000*2", "Enter a number.")


# -- the trader's own conventions -------------------------------------------------------------------


def test_decimal_comma_and_day_month_year_dates_are_read_from_a_cp1252_semicolon_file(cast):
    result = import_(cast, upload("french_trades.csv"), FRENCH)

    trade = result.trades[0]
    assert trade.reference == "CMD-2026-17"
    assert (trade.invoice_date, trade.planned_departure) == (dt.date(2026, 11, 2), dt.date(2026, 12, 3))
    assert trade.buyer.name == "Épicerie Fine Lyonnaise"
    assert trade.payment_terms == "open_account"
    first, second = trade.items.all()
    assert first.description == "Noix de cajou grillées"
    assert (first.quantity, first.net_mass_kg, first.gross_mass_kg, first.unit_price) == (
        Decimal("1250.5"),
        Decimal("1250.5"),
        Decimal("1312.75"),
        Decimal("9.80"),
    )
    assert second.gross_mass_kg == Decimal("322.4")


def test_without_the_date_format_day_month_year_dates_are_errors(cast):
    mapping = {**FRENCH, "_options": {"decimal_comma": True}}

    errors = errors_of(cast, upload("french_trades.csv"), mapping)

    assert errors == [
        (row, column, field)
        for row in (2, 3)
        for column, field in [("Date facture", "invoice_date"), ("Départ prévu", "planned_departure")]
    ]


def test_a_saved_mapping_is_reused_for_a_file_with_its_own_french_headers(cast, exporter_actor):
    saved = bulk.save_mapping(
        actor=exporter_actor, organisation=cast.msme, name="Fichier export", mapping=FRENCH
    )

    result = import_(cast, upload("french_trades.csv"), ColumnMapping.objects.get(pk=saved.pk))

    assert result.references == ["CMD-2026-17"]
    assert (
        saved.mapping["description"] == "Désignation" and saved.mapping["_options"]["decimal_comma"] is True
    )
    assert (1, "Désignation", "description") in errors_of(cast, upload("good_trades.csv"), saved)


def test_headers_equal_to_our_field_names_need_no_mapping(cast):
    header = bulk.template_csv().strip()
    fields = header.split(",")
    values = {
        "reference": "T-1",
        "direction": "export",
        "buyer.name": "Bloemen BV",
        "buyer.country": "NL",
        "currency": "EUR",
        "incoterm": "FCA",
        "incoterm_place": "CIABJ",
        "transport_mode": "4",
        "place_of_loading": "CIABJ",
        "place_of_discharge": "NLAMS",
        "payment_terms": "advance",
        "description": "Mangoes",
        "hs_code": "080450",
        "origin_country": "CI",
        "quantity": "100",
        "unit": "KGM",
        "packages_count": "10",
        "package_type": "BX",
        "net_mass_kg": "100",
        "gross_mass_kg": "110",
        "unit_price": "2",
    }

    result = import_(cast, csv_of(header, ",".join(values.get(f, "") for f in fields)), mapping=None)

    assert result.trades[0].items.get().hs_code_id == "080450"


def test_a_tab_separated_utf8_file_with_bom_is_read(cast):
    content = "\n".join(
        line.replace('"Cashew kernels W320, shelled"', "Kernels").replace(",", "\t") for line in GOOD_ROWS
    )

    result = import_(cast, SimpleUploadedFile("t.txt", b"\xef\xbb\xbf" + content.encode()))

    assert result.references == ["BULK-001", "BULK-002"]


def test_suggested_mappings_match_headers_by_name_and_take_a_saved_mapping_first():
    headers = ["Buyer Name", "HS_CODE", "Qty", "Désignation"]

    assert bulk.suggest_mapping(headers) == {"buyer.name": "Buyer Name", "hs_code": "HS_CODE"}
    assert bulk.suggest_mapping(headers, {"quantity": "qty", "description": "désignation"}) == {
        "buyer.name": "Buyer Name",
        "hs_code": "HS_CODE",
        "quantity": "Qty",
        "description": "Désignation",
    }


# -- limits -----------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(cast, settings):
    settings.BULK_IMPORT_MAX_BYTES = 200

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, upload("good_trades.csv"))

    assert caught.value.stage == "file"
    assert "larger than" in caught.value.errors[0].message


def test_a_file_over_the_row_limit_is_refused(cast, settings):
    settings.BULK_IMPORT_MAX_ROWS = 2

    with pytest.raises(bulk.BulkImportError) as caught:
        import_(cast, upload("good_trades.csv"))

    assert caught.value.errors[0].message == "The file has more than 2 rows; split it into smaller files."
    assert not Trade.objects.exists()


def test_files_that_are_not_tables_are_refused(cast):
    for name, content in [
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
        ("a.xlsx", b"PK\x03\x04 not really a zip"),
        ("a.csv", b""),
        ("a.csv", GOOD_ROWS[0].encode()),
    ]:
        with pytest.raises(bulk.BulkImportError) as caught:
            import_(cast, SimpleUploadedFile(name, content))
        assert caught.value.stage == "file", name


# -- who may import ---------------------------------------------------------------------------------


def test_a_read_only_member_cannot_import(cast):
    with pytest.raises(PermissionDenied):
        import_(cast, upload("good_trades.csv"), user=cast.viewer)
    assert not Trade.objects.exists()


def test_a_colleague_can_import_and_save_mappings(cast):
    actor = actor_for(cast.colleague)

    bulk.save_mapping(actor=actor, organisation=cast.msme, name="Ours", mapping=ENGLISH)

    assert (
        import_(cast, upload("good_trades.csv"), user=cast.colleague).trades[0].created_by == cast.colleague
    )


def test_saving_a_mapping_under_the_same_name_replaces_it_and_is_audited(cast, exporter_actor):
    first = bulk.save_mapping(actor=exporter_actor, organisation=cast.msme, name="Ours", mapping=ENGLISH)
    second = bulk.save_mapping(actor=exporter_actor, organisation=cast.msme, name="Ours", mapping=FRENCH)

    assert first.pk == second.pk
    assert ColumnMapping.objects.get(pk=first.pk).mapping["description"] == "Désignation"
    assert AuditEvent.objects.filter(action="trade.mapping_saved").count() == 2


def test_a_mapping_with_unknown_fields_or_a_bad_date_format_is_refused(cast, exporter_actor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        bulk.save_mapping(
            actor=exporter_actor,
            organisation=cast.msme,
            name="Bad",
            mapping={"colour": "Colour", "_options": {"date_format": "%Q"}},
        )

    assert set(caught.value.message_dict) == {"mapping.colour", "mapping._options.date_format"}


def test_a_read_only_member_cannot_save_or_delete_a_mapping(cast, exporter_actor):
    saved = bulk.save_mapping(actor=exporter_actor, organisation=cast.msme, name="Ours", mapping=ENGLISH)
    viewer = actor_for(cast.viewer)

    with pytest.raises(PermissionDenied):
        bulk.save_mapping(actor=viewer, organisation=cast.msme, name="Mine", mapping=ENGLISH)
    with pytest.raises(PermissionDenied):
        bulk.delete_mapping(actor=viewer, mapping=saved)
    assert ColumnMapping.objects.filter(pk=saved.pk).exists()


def test_another_organisations_mapping_cannot_be_found(cast, exporter_actor):
    from django.http import Http404

    saved = bulk.save_mapping(actor=exporter_actor, organisation=cast.msme, name="Ours", mapping=ENGLISH)

    with pytest.raises(Http404):
        bulk.get_mapping_for(actor_for(cast.other), saved.pk)
    assert bulk.get_mapping_for(actor_for(cast.viewer), saved.pk) == saved
    assert list(bulk.mappings_for(actor_for(cast.other), cast.other_msme)) == []


def test_a_failure_while_creating_rolls_back_the_trades_already_created(cast):
    """BULK-002's reference is taken by someone else once BULK-001 is written (after the checks)."""
    from django.db.models.signals import post_save

    def take_the_next_reference(sender, instance, created, **kwargs):
        if created and instance.reference == "BULK-001":
            Trade.objects.create(
                **{
                    **{
                        f.attname: getattr(instance, f.attname)
                        for f in Trade._meta.concrete_fields
                        if f.name != "id"
                    },
                    "reference": "BULK-002",
                }
            )

    post_save.connect(take_the_next_reference, sender=Trade)
    try:
        errors = errors_of(cast, upload("good_trades.csv"))
    finally:
        post_save.disconnect(take_the_next_reference, sender=Trade)

    assert errors == [(4, "Order ref", "reference")]
    assert not Trade.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["trade.created", "trade.bulk_imported"]).exists()


def test_an_overlong_or_oversized_cell_is_one_error_on_its_cell(cast):
    row = GOOD_ROWS[3].replace("BULK-002", "B" * 41).replace(",8000,8240,", ",8000,999999999999,")

    assert errors_of(cast, csv_of(GOOD_ROWS[0], row)) == [
        (2, "Gross kg", "gross_mass_kg"),
        (2, "Order ref", "reference"),
    ]
