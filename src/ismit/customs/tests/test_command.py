"""`ismit customs add-window | list-windows | poll`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ismit.customs.models import SingleWindow
from ismit.customs.services import submit_declaration
from ismit.customs.tests.support import CLIENT, SECRET, deliver

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("customs", *args, stdout=out)
    return out.getvalue()


def test_add_window_stores_the_secret_encrypted_and_prints_the_callback_url():
    out = run(
        "add-window",
        "--country",
        "ci",
        "--procedure",
        "export",
        "--connector",
        "wco-xml",
        "--base-url",
        "http://127.0.0.1:8100",
        "--client-id",
        "ismit",
        "--secret",
        "s3cret-value",
    )
    window = SingleWindow.objects.get()
    assert (window.country, window.procedure, window.connector) == ("CI", "export", "wco-xml")
    assert b"s3cret-value" not in bytes(window.secret_sealed) and window.secret == "s3cret-value"
    assert f"/customs/callback/{window.pk}/" in out
    # Again: the same row, changed.
    run(
        "add-window",
        "--country",
        "CI",
        "--procedure",
        "export",
        "--connector",
        "wco-xml",
        "--base-url",
        "http://127.0.0.1:8200",
        "--client-id",
        "ismit",
        "--secret-env",
        "NSW_TEST_SECRET",
    )
    window.refresh_from_db()
    assert window.base_url == "http://127.0.0.1:8200" and window.secret_env == "NSW_TEST_SECRET"
    assert "8200" in run("list-windows")


def test_the_secret_may_come_from_the_environment(monkeypatch):
    run(
        "add-window",
        "--country",
        "CI",
        "--procedure",
        "export",
        "--connector",
        "edifact",
        "--base-url",
        "http://127.0.0.1:8100",
        "--client-id",
        "ismit",
        "--secret-env",
        "NSW_TEST_SECRET",
    )
    monkeypatch.setenv("NSW_TEST_SECRET", "from-the-environment")
    assert SingleWindow.objects.get().secret == "from-the-environment"


def test_add_window_refuses_bad_values():
    with pytest.raises(CommandError, match="secret"):
        run(
            "add-window",
            "--country",
            "CI",
            "--procedure",
            "export",
            "--connector",
            "wco-xml",
            "--base-url",
            "http://x",
            "--client-id",
            "ismit",
        )
    with pytest.raises(CommandError, match="base_url"):
        run(
            "add-window",
            "--country",
            "CI",
            "--procedure",
            "export",
            "--connector",
            "wco-xml",
            "--base-url",
            "ftp://x",
            "--client-id",
            "ismit",
            "--secret",
            "s",
        )


def test_poll_reads_the_answers_of_every_window(cashew_trade, exporter, sim, faults):
    faults(callback_drop_rate=1.0)
    run(
        "add-window",
        "--country",
        "CI",
        "--procedure",
        "export",
        "--connector",
        "wco-xml",
        "--base-url",
        f"http://127.0.0.1:{sim.port}",
        "--client-id",
        CLIENT,
        "--secret",
        SECRET,
    )
    window = SingleWindow.objects.get()
    window.poll_after = max((n["sequence"] for n in sim.notifications(0, 1000)), default=0)
    window.save()
    declaration = submit_declaration(actor=exporter, trade=cashew_trade)
    deliver(declaration)
    declaration.refresh_from_db()
    assert len(sim.wait_notifications(declaration.conversation_id, 5)) == 5
    assert run("poll") == "5 notifications read\n"
    declaration.refresh_from_db()
    assert declaration.status == "goods_exited"
