from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from ismit.accounts.models import Membership, Organisation, User
from ismit.audit.services import verify_chain
from ismit.trades.models import StepStatus, Trade

pytestmark = pytest.mark.django_db

LOGINS = ["operator", "msme1", "msme2", "forwarder", "broker", "bank", "insurer"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seeding_prints_every_demo_login_and_they_work():
    printed = seed()
    for login in LOGINS:
        email = f"{login}@demo.ismit.example"
        assert email in printed
        assert authenticate(username=email, password="ismit-demo") is not None


def test_seeding_twice_changes_nothing():
    seed()
    counts = (
        User.objects.count(),
        Organisation.objects.count(),
        Membership.objects.count(),
        Trade.objects.count(),
    )
    seed()
    assert counts == (
        User.objects.count(),
        Organisation.objects.count(),
        Membership.objects.count(),
        Trade.objects.count(),
    )
    assert verify_chain().ok


def test_the_demo_trade_is_part_way_through_its_checklist():
    seed()
    trade = Trade.objects.get(reference="DEMO-EXP-0001", organisation__legal_name="Anacarde Abidjan SARL")
    statuses = set(trade.steps.values_list("status", flat=True))
    assert {StepStatus.DONE, StepStatus.IN_PROGRESS, StepStatus.TODO} <= statuses
    assert Organisation.objects.get(legal_name="Rift Valley Roses Ltd").verification_status == "pending"
