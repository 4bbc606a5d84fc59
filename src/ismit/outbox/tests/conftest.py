from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in the test's process when they are sent, never through a broker: a committed enqueue is
    delivered at once, and no test leaves tasks in var/broker or on a shared RabbitMQ."""
    from ismit.config.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
