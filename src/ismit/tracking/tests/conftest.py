from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in the test's process, never through a broker."""
    from ismit.config.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def carrier_org(cast):
    """A verified carrier, not authorised on anything yet."""
    from conftest import _org, _person

    cast.carrier = _person("ops@carrier.example")
    return _org(cast.carrier, "Atlantic Lines", "provider", "FR", "Marseille", provider_types=["carrier"])
