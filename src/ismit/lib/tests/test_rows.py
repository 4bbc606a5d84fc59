"""Rows written by lib.rows read back through the ORM as if bulk_create had written them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from ismit.lib.rows import insert_rows, update_rows
from ismit.trades.models import ChecklistStep, GoodsItem, Party

pytestmark = pytest.mark.django_db

PARTY = ("organisation_id", "name", "street", "city", "postcode", "country_id", "identifiers", "email")
LINE = (
    "trade_id",
    "line_no",
    "description",
    "hs_code_id",
    "origin_country_id",
    "quantity",
    "unit_id",
    "packages_count",
    "package_type_id",
    "net_mass_kg",
    "gross_mass_kg",
    "unit_price",
)


def line(trade, n: int) -> tuple:
    quantity = Decimal("1000.125") + n
    return (
        trade.pk,
        n,
        f"lot {n}",
        "080132",
        "CI",
        quantity,
        "KGM",
        5,
        "BG",
        quantity,
        quantity,
        Decimal("6.2"),
    )


def test_inserted_rows_answer_their_keys_in_order_and_read_back_as_given(cast, cashew_trade):
    rows = [
        (cast.msme.pk, "Bob", "", "Lyon", "", "FR", {"eori": "FR1"}, "bob@example.com"),
        (cast.msme.pk, "Eve", "1 rue", "", "69000", "CI", {}, ""),
    ]
    keys = insert_rows(Party, PARTY, rows)
    assert len(keys) == 2 and keys[0] < keys[1]
    for key, row in zip(keys, rows, strict=True):
        party = Party.objects.get(pk=key)
        assert tuple(getattr(party, name) for name in PARTY) == row
    assert Party.objects.get(pk=keys[0]).linked_organisation_id is None  # a column not given is NULL


def test_decimals_dates_and_nulls_are_stored_as_the_orm_stores_them(cashew_trade):
    keys = insert_rows(GoodsItem, LINE, [line(cashew_trade, n) for n in (50, 51, 52)])
    stored = list(GoodsItem.objects.filter(pk__in=keys).order_by("line_no"))
    assert [g.line_no for g in stored] == [50, 51, 52]
    assert stored[1].quantity == Decimal("1051.125") and stored[1].unit_price == Decimal("6.2000")
    at = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    (key,) = insert_rows(
        ChecklistStep,
        (
            "trade_id",
            "code",
            "category",
            "position",
            "responsible",
            "status",
            "note",
            "updated_at",
            "started_at",
        ),
        [(cashew_trade.pk, "extra", "logistics", 99, "seller", "todo", "", at, None)],
    )
    step = ChecklistStep.objects.get(pk=key)
    assert step.updated_at == at and step.started_at is None and step.acting_organisation_id is None


def test_many_rows_go_in_batches_the_database_accepts(cashew_trade):
    keys = insert_rows(GoodsItem, LINE, [line(cashew_trade, n) for n in range(100, 1100)])
    assert len(keys) == len(set(keys)) == 1000
    assert GoodsItem.objects.filter(trade=cashew_trade, line_no__gte=100).count() == 1000


def test_a_constraint_fails_as_with_the_orm(cashew_trade):
    insert_rows(GoodsItem, LINE, [line(cashew_trade, 60)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(GoodsItem, LINE, [line(cashew_trade, 61), line(cashew_trade, 60)])
    assert not GoodsItem.objects.filter(trade=cashew_trade, line_no=61).exists()


@pytest.mark.parametrize("count", [1, 2])
def test_a_value_too_long_for_its_column_fails_rather_than_being_cut(cashew_trade, count):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps text of any length")
    too_long = "x" * (GoodsItem._meta.get_field("description").max_length + 1)
    rows = [line(cashew_trade, 70 + n) for n in range(count)]
    rows = [(*row[:2], too_long, *row[3:]) for row in rows]
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(GoodsItem, LINE, rows)
    keys = insert_rows(GoodsItem, LINE, [line(cashew_trade, 80 + n) for n in range(count)])
    items = list(GoodsItem.objects.filter(pk__in=keys))
    for item in items:
        item.description = too_long
    with pytest.raises(DataError), transaction.atomic():
        update_rows(GoodsItem, items, ["description"])
    assert all(g.description == f"lot {g.line_no}" for g in GoodsItem.objects.filter(pk__in=keys))
