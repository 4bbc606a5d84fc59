"""A kept database connection is health-checked (SELECT 1) before a request only when it has been idle."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from ismit.lib.connections import note_released, skip_recent_checks

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    connection.ensure_connection()
    yield connection
    connection.errors_occurred = False
    connection.health_check_done = False


def test_a_connection_given_back_moments_ago_counts_as_checked(kept):
    kept.health_check_done = False
    note_released()
    skip_recent_checks()
    assert kept.health_check_done


def test_a_connection_idle_longer_or_given_back_after_an_error_is_checked(kept):
    note_released()
    kept.health_check_done = False
    skip_recent_checks(idle_s=0.0)  # idle longer than the limit
    assert not kept.health_check_done
    kept.errors_occurred = True
    note_released()
    skip_recent_checks()
    assert not kept.health_check_done


def test_the_web_server_application_connects_them():
    from ismit.config import wsgi

    assert callable(wsgi.application)
    started = [r[1]() for r in request_started.receivers]
    finished = [r[1]() for r in request_finished.receivers]
    assert skip_recent_checks in started and note_released in finished
