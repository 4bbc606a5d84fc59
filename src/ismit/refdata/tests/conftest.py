"""Fixtures of the refdata tests: code lists loaded for real into the test database.

The official files the tests compare against live outside the repository, in ../shared/refdata
(ISMIT_SHARED_REFDATA overrides the folder); tests that need them are skipped when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ismit.refdata import services
from ismit.refdata.models import (
    Country,
    Currency,
    HSCode,
    Incoterm,
    Location,
    PackageType,
    TransportMode,
    UnitOfMeasure,
)

SHARED_REFDATA = Path(
    os.environ.get("ISMIT_SHARED_REFDATA", Path(__file__).resolve().parents[5] / "shared" / "refdata")
)


def shared_file(relative: str) -> Path:
    path = SHARED_REFDATA / relative
    if not path.is_file():
        pytest.skip(f"official file not available: {path}")
    return path


@pytest.fixture
def unlocode_release() -> Path:
    return shared_file("unlocode/code-list.csv")


def ensure_loaded(model, *loaders) -> None:
    """Run the loaders unless the table already has rows (the session's test database usually does)."""
    if not model.objects.exists():
        for load in loaders:
            load()


@pytest.fixture
def countries(db) -> None:
    ensure_loaded(Country, services.load_countries)


@pytest.fixture
def currencies(db) -> None:
    ensure_loaded(Currency, services.load_currencies)


@pytest.fixture
def hs_codes(db) -> None:
    ensure_loaded(HSCode, services.load_hs_codes)


@pytest.fixture
def builtin_locations(db) -> None:
    ensure_loaded(Location, services.load_builtin_locations)


@pytest.fixture
def trade_terms(db) -> None:
    """Incoterms, transport modes, units and package types: the small lists."""
    ensure_loaded(Incoterm, services.load_incoterms)
    ensure_loaded(TransportMode, services.load_transport_modes)
    ensure_loaded(UnitOfMeasure, services.load_units)
    ensure_loaded(PackageType, services.load_package_types)


@pytest.fixture
def exporter(django_user_model):
    return django_user_model.objects.create_user(email="awa@exporter.test", password="cashew-2024-abidjan")


@pytest.fixture
def exporter_client(client, exporter):
    client.force_login(exporter)
    return client
