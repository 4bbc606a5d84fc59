"""The helper other tests use to have a queried declaration without a running single window."""

from __future__ import annotations

import pytest

from ismit.customs.models import DeclarationStatus, QueryStatus
from ismit.customs.services import answer_query
from ismit.customs.tests.support import seed_query

pytestmark = pytest.mark.django_db


def test_seed_query_makes_a_queried_declaration_that_can_be_answered(cashew_trade, exporter, cast):
    declaration, query, message = seed_query(exporter, cashew_trade)
    assert declaration.status == DeclarationStatus.QUERY and query.status == QueryStatus.OPEN
    assert message.trade == cashew_trade and message.organisation == cast.msme and message.read()
    correction = answer_query(actor=exporter, query=query, answer="Cashew kernels, W320.")
    assert correction.corrects == declaration
