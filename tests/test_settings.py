"""Settings come from the environment; a bad value stops start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STUDIO_", "Q_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"Q_WORKERS": "two"}, "Q_WORKERS='two' is not a whole number"),
        ({"Q_WORKERS": "0"}, "Q_WORKERS=0 must be at least 1"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ({"DATABASE_URL": "mongodb://x/y"}, "DATABASE_URL"),
        ({"CSRF_TRUSTED_ORIGINS": "studio.example.com"}, "needs a scheme"),
    ],
)
def test_bad_env_value_is_named(tmp_path, env, message):
    result = run_manage("check", env={"STUDIO_DATA_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {
        "STUDIO_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 20 + "Zq8#xV2!mN4$pL6^rT0&wY3*uI5(oP7)aS9" + "j" * 10,
        "ALLOWED_HOSTS": "studio.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
        "STUDIO_HTTPS": "true",
        "DEBUG": "false",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sqlite_runs_in_wal_with_immediate_transactions(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in connection.settings_dict["OPTIONS"]["init_command"]


def test_q_cluster_is_safe(settings):
    q = settings.Q_CLUSTER
    assert q["orm"] == "default"  # never a silent Redis fallback
    assert q["retry"] > q["timeout"] and q["max_attempts"] >= 1
    training = q["ALT_CLUSTERS"]["training"]
    assert training["retry"] > training["timeout"]
