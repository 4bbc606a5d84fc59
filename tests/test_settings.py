"""Settings come from the environment, with safe embedded defaults and a loud failure in production."""

from __future__ import annotations

import os
import subprocess
import sys

import ismit.config.settings as configured


def settings_of(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = f"import ismit.config.settings as s; print({expression})"
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ISMIT_ENV", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)


def test_passwords_are_hashed_with_argon2():
    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = settings_of({"ISMIT_ENV": "production", "ISMIT_VAR_DIR": str(tmp_path)}, "s.SECRET_KEY")
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr and "ImproperlyConfigured" in done.stderr


def test_production_cookies_are_secure(tmp_path):
    env = {"ISMIT_ENV": "production", "SECRET_KEY": "x" * 50, "ISMIT_VAR_DIR": str(tmp_path)}
    done = settings_of(
        env, "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG"
    )
    assert done.stdout.split() == ["True", "True", "True", "False"]


def test_the_embedded_mode_keeps_one_secret_key_under_var(tmp_path):
    first = settings_of({"ISMIT_VAR_DIR": str(tmp_path)}, "s.SECRET_KEY").stdout
    second = settings_of({"ISMIT_VAR_DIR": str(tmp_path)}, "s.SECRET_KEY").stdout
    assert first == second and len(first.strip()) > 40
    assert (tmp_path / "ismit.sqlite3").parent.exists()


def test_a_malformed_boolean_is_an_error(tmp_path):
    done = settings_of({"DEBUG": "maybe", "ISMIT_VAR_DIR": str(tmp_path)}, "s.DEBUG")
    assert done.returncode != 0 and "DEBUG must be a boolean" in done.stderr
