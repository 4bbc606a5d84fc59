"""The checklist of a trade through the API: MSMEs mark their commercial steps."""

from __future__ import annotations

import pytest

from ismit.accounts.services import create_api_token
from ismit.trades.models import ChecklistStep, StepStatus, Trade, TradeStatus

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(user) -> dict[str, str]:
    _token, key = create_api_token(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def step_of(trade, code: str) -> ChecklistStep:
    return ChecklistStep.objects.get(trade=trade, code=code)


def test_the_checklist_lists_every_step_in_order(client, cast, cashew_trade):
    steps = client.get(f"/api/v1/trades/{cashew_trade.id}/checklist", headers=bearer(cast.viewer)).json()
    assert [s["position"] for s in steps] == sorted(s["position"] for s in steps)
    by_code = {s["code"]: s for s in steps}
    assert by_code["lc_opened"]["status"] == "todo"  # paid by letter of credit
    assert by_code["advance_payment"]["status"] == "not_needed"
    assert by_code["contract"]["manual"] is True
    assert by_code["export_declaration"]["manual"] is False


def test_a_member_marks_a_commercial_step_done(client, cast, cashew_trade):
    url = f"/api/v1/trades/{cashew_trade.id}/checklist/contract"
    response = client.patch(
        url, {"status": "done", "note": "PO 4471 signed"}, content_type=JSON, headers=bearer(cast.colleague)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "done"
    assert response.json()["completed_at"] is not None
    assert Trade.objects.get(pk=cashew_trade.pk).status == TradeStatus.ACTIVE

    again = client.patch(url, {"status": "in_progress"}, content_type=JSON, headers=bearer(cast.colleague))
    assert again.json()["note"] == "PO 4471 signed"  # an omitted note is kept
    assert step_of(cashew_trade, "contract").status == StepStatus.IN_PROGRESS


def test_steps_moved_by_the_platform_cannot_be_marked_by_hand(client, cast, cashew_trade):
    response = client.patch(
        f"/api/v1/trades/{cashew_trade.id}/checklist/export_declaration",
        {"status": "done"},
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert response.status_code == 403
    assert step_of(cashew_trade, "export_declaration").status == StepStatus.TODO


def test_an_unknown_status_is_refused(client, cast, cashew_trade):
    response = client.patch(
        f"/api/v1/trades/{cashew_trade.id}/checklist/contract",
        {"status": "finished"},
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_a_read_only_member_cannot_mark_steps(client, cast, cashew_trade):
    response = client.patch(
        f"/api/v1/trades/{cashew_trade.id}/checklist/contract",
        {"status": "done"},
        content_type=JSON,
        headers=bearer(cast.viewer),
    )
    assert response.status_code == 403
    assert step_of(cashew_trade, "contract").status == StepStatus.TODO


def test_an_unknown_step_is_not_found(client, cast, cashew_trade):
    response = client.patch(
        f"/api/v1/trades/{cashew_trade.id}/checklist/teleport",
        {"status": "done"},
        content_type=JSON,
        headers=bearer(cast.exporter),
    )
    assert response.status_code == 404
