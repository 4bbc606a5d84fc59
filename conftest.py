"""The test cast, shared by every test: one person per role (see docs/architecture.md).

exporter   msme owner (Abidjan cashew processor)      colleague  member of the same MSME
viewer     read-only member of the same MSME          other      owner of another MSME (Nairobi)
broker     customs broker                              forwarder  freight forwarder
banker     bank officer                                operator   platform operator
stranger   signed up, belongs to nothing
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent / "shared"
# The official standards files the product reads from a configured folder (documents/standards.py).
os.environ.setdefault("ISMIT_STANDARDS_DIR", str(SHARED / "refdata"))
PASSWORD = "correct-horse-battery-9"
pytest_plugins = ["tests.browser"]  # the `browser` fixture: Debian's Chromium


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in the test's process when they are sent, never through a broker: a committed enqueue (an
    outbox message, the platform's e-mails) is delivered at once, and no test leaves tasks in var/broker or
    on a shared RabbitMQ. The end-to-end tests run real workers on a broker of their own."""
    from ismit.config.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the shipped reference data (the built-in UN/LOCODE set)."""
    with django_db_blocker.unblock():
        from ismit.refdata.services import load_all

        load_all()


@pytest.fixture(autouse=True)
def _reference_data_present(request, django_db_blocker):
    """A transactional test empties every table when it ends: load the code lists again for the next one."""
    if (
        not any(m.name == "django_db" for m in request.node.iter_markers())
        and "db" not in request.fixturenames
    ):
        return
    with django_db_blocker.unblock():
        from ismit.refdata.models import Incoterm

        if not Incoterm.objects.exists():
            from ismit.audit.models import ChainHead
            from ismit.refdata.services import load_all

            ChainHead.objects.get_or_create(id=1)  # made by a migration; the flush removed it too
            load_all()


@pytest.fixture(autouse=True)
def _code_lists_read_afresh():
    """Each test's code lists are its own (a test may add or remove codes): no row kept from another."""
    from ismit.refdata import lookup

    lookup.clear_cache()


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    """Uploaded and issued files go through the default storage into a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def shared_refdata() -> Path:
    path = SHARED / "refdata"
    if not path.exists():
        pytest.fail(f"reference data not found at {path}: the tests need ../shared beside the checkout")
    return path


def _person(email: str, **extra):
    from ismit.accounts.models import User

    return User.objects.create_user(email=email, password=PASSWORD, **extra)


def _org(owner, name: str, kind: str, country: str, city: str, verified: bool = True, **extra):
    from ismit.accounts.models import Membership, Organisation, Role, VerificationStatus

    org = Organisation.objects.create(
        legal_name=name,
        kind=kind,
        country=country,
        city=city,
        verification_status=VerificationStatus.VERIFIED if verified else VerificationStatus.PENDING,
        **extra,
    )
    Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    return org


class Cast:
    """Attributes: one user per role, and their organisations."""


@pytest.fixture
def cast(db) -> Cast:
    from ismit.accounts.models import Membership, Role

    c = Cast()
    c.password = PASSWORD
    c.exporter = _person("awa@cashew-ci.example", full_name="Awa Koné", language="fr")
    c.msme = _org(c.exporter, "Anacarde Abidjan SARL", "msme", "CI", "Abidjan")
    c.colleague = _person("yao@cashew-ci.example", full_name="Yao Kouassi")
    Membership.objects.create(user=c.colleague, organisation=c.msme, role=Role.MEMBER)
    c.viewer = _person("audit@cashew-ci.example")
    Membership.objects.create(user=c.viewer, organisation=c.msme, role=Role.READ_ONLY)
    c.other = _person("wanjiru@flowers-ke.example", full_name="Wanjiru Kamau")
    c.other_msme = _org(c.other, "Rift Valley Roses Ltd", "msme", "KE", "Nairobi")
    c.broker = _person("broker@transit-ci.example")
    c.broker_org = _org(c.broker, "Transit Lagunaire", "provider", "CI", "Abidjan", provider_types=["broker"])
    c.forwarder = _person("ops@forwarder.example")
    c.forwarder_org = _org(
        c.forwarder, "Sahel Freight", "provider", "SN", "Dakar", provider_types=["forwarder"]
    )
    c.banker = _person("credit@bank.example")
    c.bank = _org(c.banker, "Banque Atlantique CI", "provider", "CI", "Abidjan", provider_types=["bank"])
    c.operator = _person("operator@ismit.example")
    c.operator_org = _org(c.operator, "ISMIT Côte d'Ivoire", "operator", "CI", "Abidjan")
    c.stranger = _person("nobody@example.com")
    return c


def cashew_trade_data(**overrides):
    """An export of cashew nuts from Abidjan to Marseille, as an MSME would enter it."""
    from ismit.trades.samples import cashew_export

    data = cashew_export()
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


@pytest.fixture
def trade_data():
    return cashew_trade_data()


@pytest.fixture
def exporter_actor(cast):
    from ismit.accounts.actors import actor_for

    return actor_for(cast.exporter)


@pytest.fixture
def cashew_trade(cast, exporter_actor):
    from ismit.trades.services import create_trade

    return create_trade(actor=exporter_actor, organisation=cast.msme, data=cashew_trade_data())


@pytest.fixture
def other_trade(cast):
    from ismit.accounts.actors import actor_for
    from ismit.trades.services import GoodsItemData, PartyData, create_trade

    data = cashew_trade_data(
        seller=PartyData(name="Rift Valley Roses Ltd", country="KE", city="Nairobi"),
        buyer=PartyData(name="Bloemen BV", country="NL", city="Aalsmeer"),
        incoterm="CPT",
        incoterm_place="NLAMS",
        transport_mode="4",
        place_of_loading="KENBO",
        place_of_discharge="NLAMS",
        payment_terms="open_account",
        invoice_number="RVR-77",
        items=[
            GoodsItemData(
                description="Cut roses",
                hs_code="060311",
                origin_country="KE",
                quantity=Decimal("2000"),
                unit="KGM",
                packages_count=100,
                package_type="BX",
                net_mass_kg=Decimal("2000"),
                gross_mass_kg=Decimal("2300"),
                unit_price=Decimal("3.10"),
            )
        ],
    )
    return create_trade(actor=actor_for(cast.other), organisation=cast.other_msme, data=data)
