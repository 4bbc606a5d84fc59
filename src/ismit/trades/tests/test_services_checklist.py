"""The checklist is derived from the trade's Incoterms rule, direction and payment terms."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.trades import checklist
from ismit.trades.models import ChecklistStep, StepStatus, Trade, TradeStatus
from ismit.trades.services import create_trade, mark_commercial_step, set_step_status

pytestmark = pytest.mark.django_db


def steps_of(trade) -> dict[str, ChecklistStep]:
    return {s.code: s for s in ChecklistStep.objects.filter(trade=trade)}


def make(cast, actor, **overrides) -> Trade:
    return create_trade(actor=actor, organisation=cast.msme, data=cashew_trade_data(**overrides))


def test_every_step_of_the_catalogue_is_listed_once_in_order(cashew_trade):
    codes = list(
        ChecklistStep.objects.filter(trade=cashew_trade).order_by("position").values_list("code", flat=True)
    )
    assert codes == [s.code for s in checklist.STEPS]


def test_cif_makes_the_seller_responsible_for_carriage_and_insurance(cashew_trade):
    steps = steps_of(cashew_trade)
    assert steps["cargo_insurance"].responsible == "seller"
    assert steps["carriage_booked"].responsible == "seller"
    assert steps["import_declaration"].responsible == "buyer"


def test_fob_makes_the_buyer_book_the_main_carriage(cast, exporter_actor):
    steps = steps_of(make(cast, exporter_actor, incoterm="FOB", incoterm_place="CIABJ"))
    assert steps["carriage_booked"].responsible == "buyer"
    assert steps["cargo_insurance"].responsible == "buyer"
    assert steps["export_declaration"].responsible == "seller"


def test_exw_leaves_the_export_declaration_to_the_buyer(cast, exporter_actor):
    steps = steps_of(make(cast, exporter_actor, incoterm="EXW", incoterm_place="CIABJ"))
    assert steps["export_declaration"].responsible == "buyer"
    assert steps["export_release"].responsible == "buyer"
    assert steps["handover_to_carrier"].responsible == "buyer"


def test_ddp_leaves_the_import_declaration_to_the_seller(cast, exporter_actor):
    steps = steps_of(make(cast, exporter_actor, incoterm="DDP"))
    assert steps["import_declaration"].responsible == "seller"
    assert steps["delivered"].responsible == "seller"


def test_a_letter_of_credit_adds_opening_it_and_presenting_documents(cashew_trade):
    steps = steps_of(cashew_trade)  # payment_terms="lc"
    assert steps["lc_opened"].status == StepStatus.TODO
    assert steps["documents_presented"].status == StepStatus.TODO
    assert steps["advance_payment"].status == StepStatus.NOT_NEEDED


def test_open_account_needs_neither_a_letter_of_credit_nor_bank_documents(cast, exporter_actor):
    steps = steps_of(make(cast, exporter_actor, payment_terms="open_account"))
    assert steps["lc_opened"].status == StepStatus.NOT_NEEDED
    assert steps["documents_presented"].status == StepStatus.NOT_NEEDED
    assert steps["payment_received"].status == StepStatus.TODO


def test_cash_in_advance_replaces_payment_received_by_the_advance(cast, exporter_actor):
    steps = steps_of(make(cast, exporter_actor, payment_terms="advance"))
    assert steps["advance_payment"].status == StepStatus.TODO
    assert steps["payment_received"].status == StepStatus.NOT_NEEDED


def test_an_import_has_no_export_vat_refund_and_the_buyer_settles_the_currency(cast, exporter_actor):
    trade = make(cast, exporter_actor, direction="import")
    steps = steps_of(trade)
    assert steps["vat_refund"].status == StepStatus.NOT_NEEDED
    assert steps["fx_settlement"].responsible == "buyer"
    assert checklist.our_side(trade) == "buyer"


def test_the_organisation_acts_on_its_own_side_of_the_steps_only(cashew_trade, cast):
    steps = steps_of(cashew_trade)
    assert steps["contract"].acting_organisation == cast.msme  # seller's step, our export
    assert steps["import_declaration"].acting_organisation is None  # the buyer's


def test_every_step_has_a_translated_label():
    for step in checklist.STEPS:
        assert checklist.label_for(step.code) != step.code
    assert checklist.label_for("no_such_step") == "no_such_step"


# -- marking steps ---------------------------------------------------------------------------------


def test_marking_a_commercial_step_done_records_who_and_when_and_starts_the_trade(
    cashew_trade, cast, exporter_actor
):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="contract")
    step = mark_commercial_step(actor=exporter_actor, step=step, status="done", note="PO 4471 signed")
    step.refresh_from_db()
    assert (step.status, step.note, step.updated_by) == ("done", "PO 4471 signed", cast.exporter)
    assert step.started_at is not None and step.completed_at is not None
    assert step.acting_organisation == cast.msme
    assert Trade.objects.get(pk=cashew_trade.pk).status == TradeStatus.ACTIVE


def test_reopening_a_done_step_clears_its_completion_time(cashew_trade, exporter_actor):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="packing_list")
    mark_commercial_step(actor=exporter_actor, step=step, status="done")
    step = mark_commercial_step(actor=exporter_actor, step=step, status="in_progress")
    assert step.completed_at is None and step.started_at is not None


@pytest.mark.parametrize("code", ["export_declaration", "certificate_of_origin", "lc_opened", "departed"])
def test_marking_by_hand_refuses_steps_the_platform_updates(cashew_trade, exporter_actor, code):
    step = ChecklistStep.objects.get(trade=cashew_trade, code=code)
    with pytest.raises(PermissionDenied):
        mark_commercial_step(actor=exporter_actor, step=step, status="done")
    assert ChecklistStep.objects.get(pk=step.pk).status == StepStatus.TODO


def test_a_step_cannot_be_marked_not_needed_by_hand(cashew_trade, exporter_actor):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="contract")
    with pytest.raises(ValidationError):
        mark_commercial_step(actor=exporter_actor, step=step, status="not_needed")
    with pytest.raises(ValidationError):
        mark_commercial_step(actor=exporter_actor, step=step, status="shipped")
    assert ChecklistStep.objects.get(pk=step.pk).status == StepStatus.TODO


@pytest.mark.parametrize("who", ["viewer", "other", "stranger"])
def test_only_members_who_may_change_can_mark_steps(cashew_trade, cast, who):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="contract")
    with pytest.raises(PermissionDenied):
        mark_commercial_step(actor=actor_for(getattr(cast, who)), step=step, status="done")
    assert ChecklistStep.objects.get(pk=step.pk).status == StepStatus.TODO


def test_other_apps_move_regulatory_steps_through_set_step_status(cashew_trade, cast):
    step = ChecklistStep.objects.get(trade=cashew_trade, code="export_declaration")
    step = set_step_status(actor=None, step=step, status="in_progress", acting_organisation=cast.broker_org)
    step.refresh_from_db()
    assert (step.status, step.acting_organisation, step.updated_by) == ("in_progress", cast.broker_org, None)
    with pytest.raises(ValidationError):
        set_step_status(actor=None, step=step, status="lost")
