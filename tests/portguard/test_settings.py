"""Settings come from the environment, with clear errors and a clean deploy check."""

import os
import secrets
import subprocess
import sys

from django.conf import settings


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HTTPS")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL="postgres://portguard@127.0.0.1:5432/portguard",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SECRET_KEY=secrets.token_urlsafe(50),
        HTTPS="true",
        ALLOWED_HOSTS="portguard.example.vn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_database_requires_a_secret_key():
    result = manage("check", DATABASE_URL="postgres://portguard@127.0.0.1:5432/portguard", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_bad_boolean_names_the_variable():
    result = manage("check", HTTPS="maybe")
    assert result.returncode != 0
    assert "HTTPS must be a boolean" in result.stderr


def test_embedded_default_never_allows_every_host():
    assert "*" not in settings.ALLOWED_HOSTS
