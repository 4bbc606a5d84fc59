"""Prepared queries (lib.prepared) answer what the ORM answers, scoped the same way."""

from __future__ import annotations

import pytest
from django.db.models import Q

from ismit.accounts.actors import Actor, actor_for
from ismit.accounts.models import Membership, Role
from ismit.lib.prepared import Prepared, concrete_attnames, instance, prefixed, split
from ismit.lib.scoping import CHANGE, VIEW
from ismit.trades import queries
from ismit.trades.models import GoodsItem, Party, Trade

pytestmark = pytest.mark.django_db


def visible_ids(action: str) -> Prepared:
    return Prepared(
        lambda user_id: (
            Trade.objects.visible_to(Actor.of_user_id(user_id), action).order_by("pk").values_list("pk")
        ),
        "user_id",
    )


def test_a_prepared_scoped_read_sees_what_the_orm_sees_for_every_user(cast, cashew_trade, other_trade):
    for action in (VIEW, CHANGE):
        prepared = visible_ids(action)
        for user in (cast.exporter, cast.viewer, cast.other, cast.broker, cast.operator):
            expected = list(
                Trade.objects.visible_to(actor_for(user), action).order_by("pk").values_list("pk", flat=True)
            )
            assert [pk for (pk,) in prepared.rows(user_id=user.pk)] == expected
    # the same SQL, run for the two users, gave two different answers
    assert visible_ids(VIEW).rows(user_id=cast.exporter.pk) != visible_ids(VIEW).rows(user_id=cast.other.pk)


def test_the_sql_is_compiled_once_and_reused_with_new_values(cast, cashew_trade, other_trade):
    prepared = visible_ids(VIEW)
    prepared.rows(user_id=cast.exporter.pk)
    sql = prepared.sql()
    assert prepared.rows(user_id=cast.other.pk) == [(other_trade.pk,)]
    assert prepared.sql() is sql


def test_a_read_only_member_has_no_change_scope(cast, cashew_trade):
    assert visible_ids(CHANGE).rows(user_id=cast.viewer.pk) == []
    assert visible_ids(VIEW).rows(user_id=cast.viewer.pk) == [(cashew_trade.pk,)]
    Membership.objects.filter(user=cast.viewer).update(role=Role.MEMBER)
    assert visible_ids(CHANGE).rows(user_id=cast.viewer.pk) == [(cashew_trade.pk,)]


def test_values_are_converted_as_the_orm_converts_them(cast, cashew_trade):
    Party.objects.filter(pk=cashew_trade.buyer_id).update(identifiers={"eori": "FR123"})
    fields = concrete_attnames(Party)
    prepared = Prepared(lambda pk: Party.objects.filter(pk=pk).values_list(*fields), "pk")
    (row,) = prepared.rows(pk=cashew_trade.buyer_id)
    party = instance(Party, fields, row)
    assert party.identifiers == {"eori": "FR123"}  # JSON decoded, not text
    assert party == Party.objects.get(pk=cashew_trade.buyer_id)
    item_fields = concrete_attnames(GoodsItem)
    items = Prepared(
        lambda trade: GoodsItem.objects.filter(trade_id=trade).values_list(*item_fields), "trade"
    )
    orm = {i.pk: i for i in GoodsItem.objects.filter(trade=cashew_trade)}
    for got in (instance(GoodsItem, item_fields, r) for r in items.rows(trade=cashew_trade.pk)):
        assert {f: getattr(got, f) for f in item_fields} == {f: getattr(orm[got.pk], f) for f in item_fields}


def test_text_arguments_and_joined_rows(cast, cashew_trade):
    fields, party_fields = ("id", "reference"), concrete_attnames(Party)
    prepared = Prepared(
        lambda reference: Trade.objects.filter(reference=reference).values_list(
            *fields, *prefixed("seller", party_fields)
        ),
        text=("reference",),
    )
    (row,) = prepared.rows(reference=cashew_trade.reference)
    head, seller = split(row, len(fields), len(party_fields))
    assert head == (cashew_trade.pk, cashew_trade.reference)
    assert instance(Party, party_fields, seller).name == cashew_trade.seller.name
    assert prepared.rows(reference="no such reference") == []


def test_a_shape_whose_sql_depends_on_a_value_is_refused():
    # The argument never reaches the parameters: the SQL would change with it.
    prepared = Prepared(
        lambda flag: Trade.objects.filter(Q(pk__gt=0) if flag else Q()).values_list("pk"), "flag"
    )
    with pytest.raises(ValueError, match="flag"):
        prepared.rows(flag=1)


def test_the_trade_record_is_the_orm_trade(cast, cashew_trade, exporter_actor):
    record = queries.get_trade_record_for(exporter_actor, cashew_trade.pk)
    expected = queries.get_trade_for(exporter_actor, cashew_trade.pk)
    for name in concrete_attnames(Trade):
        assert getattr(record.trade, name) == getattr(expected, name), name
    assert record.trade.seller == expected.seller and record.trade.buyer.name == expected.buyer.name
    for rows, objects in ((record.items, expected.items.all()), (record.steps, expected.steps.all())):
        fields = concrete_attnames(type(objects[0]))
        assert [{f: getattr(r, f) for f in fields} for r in rows] == [
            {f: getattr(o, f) for f in fields} for o in objects
        ]
    assert [i.line_amount for i in record.items] == [i.line_amount for i in expected.items.all()]
