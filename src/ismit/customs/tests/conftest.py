"""Fixtures of the customs tests: one reference single window process (and its callback relay) per test
module, a window configured for it in each test's database, the actors of the cast."""

from __future__ import annotations

import pytest

from ismit.accounts.actors import actor_for
from ismit.customs.models import SingleWindow
from ismit.customs.tests.support import SECRET, Relay, Sim, make_window


@pytest.fixture(autouse=True)
def _fast_outbox(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_BACKOFF_BASE_S = 0
    settings.OUTBOX_BACKOFF_MAX_S = 0


@pytest.fixture(scope="module")
def relay():
    r = Relay()
    yield r
    r.close()


@pytest.fixture(scope="module")
def sim(relay, tmp_path_factory):
    """`ismit nsw-sim` (no delay), calling back the relay at the callback path of window 1."""
    s = Sim(tmp_path_factory.mktemp("nsw-sim"), relay.url(1))
    yield s
    s.stop()


@pytest.fixture
def faults(sim):
    """faults(**options) changes the simulator's options for this test; they are put back afterwards."""
    before = sim.configure()
    changed: set[str] = set()

    def configure(**options):
        changed.update(options)
        return sim.configure(**options)

    yield configure
    if changed:
        sim.configure(**{name: before[name] for name in changed})


@pytest.fixture
def window(db, sim) -> SingleWindow:
    return make_window(sim)


@pytest.fixture
def offline_window(db) -> SingleWindow:
    """A single window nobody listens on (port 9 of the loopback: connection refused)."""
    window = SingleWindow(
        name="Guichet unique CI",
        country="CI",
        procedure="export",
        connector="wco-xml",
        base_url="http://127.0.0.1:9",
        client_id="ismit-test",
        timeout=2,
    )
    window.set_secret(SECRET)
    window.save()
    return window


@pytest.fixture
def exporter(cast):
    return actor_for(cast.exporter)


@pytest.fixture
def broker(cast):
    return actor_for(cast.broker)
