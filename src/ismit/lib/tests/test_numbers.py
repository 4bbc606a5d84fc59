from decimal import Decimal

import pytest

from ismit.lib.numbers import typed_decimal


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("12 500,50", Decimal("12500.50")),
        ("12\u00a0500,5", Decimal("12500.5")),
        ("12\u202f500.25", Decimal("12500.25")),
        (7, Decimal(7)),
        ("-3,0", Decimal("-3.0")),
    ],
)
def test_numbers_as_typed_in_french_or_english(typed, number):
    assert typed_decimal(typed) == number


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3", "NaN", "Infinity", "1e"])
def test_what_is_not_a_finite_number_is_none(typed):
    assert typed_decimal(typed) is None
