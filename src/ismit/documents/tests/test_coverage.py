"""The single entry ratio: data element occurrences carried by all documents ÷ values the MSME typed."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from ismit.documents.coverage import coverage, occurrences, typed_values
from ismit.documents.data import TYPED_HEADER_FIELDS, TYPED_ITEM_FIELDS, document_data
from ismit.documents.generators import all_generators

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Reads:
    kind: str
    reads: tuple[str, ...]
    format: str = "pdf"


def test_item_paths_count_once_per_line_and_empty_values_not_at_all(cashew_trade):
    data = document_data(cashew_trade)
    assert len(data.items) == 2 and data.consignee is None

    assert occurrences(data, "items[].hs_code") == 2
    assert occurrences(data, "seller.name") == 1
    assert occurrences(data, "consignee.name") == 0  # no consignee
    assert occurrences(data, "seller.postcode") == 0  # typed empty
    assert occurrences(data, "buyer.identifiers") == 1  # the buyer's VAT number
    assert occurrences(data, "total_amount") == 1  # derived values count where a document carries them
    with pytest.raises(ValueError):
        occurrences(data, "seller.colour")
    with pytest.raises(ValueError):
        occurrences(data, "items[].colour")


def test_the_ratio_divides_what_documents_carry_by_what_was_typed(cashew_trade):
    data = document_data(cashew_trade)
    invoice = Reads("invoice", ("reference", "seller.name", "items[].description", "items[].unit_price"))
    packing = Reads(
        "packing", ("reference", "items[].description", "items[].gross_mass_kg", "consignee.name")
    )

    report = coverage(data, [invoice, packing])

    assert [(r.kind, r.fields, r.occurrences) for r in report.rows] == [("invoice", 4, 6), ("packing", 4, 5)]
    assert report.carried == 11
    typed_header = sum(occurrences(data, p) for p in TYPED_HEADER_FIELDS)
    assert report.typed == typed_header + 2 * len(TYPED_ITEM_FIELDS)  # every item field typed on both lines
    assert report.ratio == round(11 / report.typed, 2)


def test_more_goods_lines_carry_more_values(cashew_trade):
    data = document_data(cashew_trade)
    one_line = replace(data, items=data.items[:1])
    generators = all_generators()
    assert coverage(data, generators).carried > coverage(one_line, generators).carried
    assert typed_values(data) - typed_values(one_line) == len(TYPED_ITEM_FIELDS)


def test_every_generator_reads_only_fields_of_the_data_set(cashew_trade):
    from conftest import cashew_trade_data
    from ismit.accounts.actors import actor_for
    from ismit.trades.services import PartyData, create_trade

    # A trade with a consignee, so that consignee paths are resolved too.
    with_consignee = create_trade(
        actor=actor_for(cashew_trade.created_by),
        organisation=cashew_trade.organisation,
        data=cashew_trade_data(consignee=PartyData(name="Entrepôt Fos SA", country="FR", city="Fos-sur-Mer")),
    )
    data = document_data(with_consignee)
    for generator in all_generators():
        assert generator.reads, generator.kind
        for path in generator.reads:
            occurrences(data, path)  # raises ValueError on a path that names no field


def test_the_cashew_trade_is_typed_once_and_carried_many_times(cashew_trade):
    report = coverage(document_data(cashew_trade))
    assert len(report.rows) == len(all_generators())
    assert report.ratio > 5, report  # each value typed once reaches several documents
