from __future__ import annotations

import pytest

from ismit.nsw_sim.tests.support import Receiver, Sim


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def start_sim(tmp_path):
    """start_sim(callback_url, **options) starts an `ismit nsw-sim` process, stopped when the test ends."""
    started: list[Sim] = []

    def start(callback_url: str = "", env: dict | None = None, **options) -> Sim:
        sim = Sim(tmp_path, callback_url, env=env, **options)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(start_sim, receiver):
    """A simulator with no delay, calling back the test's receiver."""
    return start_sim(receiver.url)
