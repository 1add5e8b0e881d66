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


PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "Zq8#xV2!mN4$pL6^rT0&wY3*uI5(oP7)aS9" + "j" * 10,
    "ALLOWED_HOSTS": "studio.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
    "STUDIO_HTTPS": "true",
    "DEBUG": "false",
}


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {"STUDIO_DATA_DIR": str(tmp_path), **PRODUCTION_ENV}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr and "?: (security." not in result.stdout + result.stderr
    # Nothing is silenced in production: every deploy check really ran and passed.
    silenced = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.SILENCED_SYSTEM_CHECKS)", env=env
    )
    assert silenced.stdout.strip().splitlines()[-1] == "['security.W021']"  # HSTS preload: an opt-in


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


PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "Zq8#xV2!mN4$pL6^rT0&wY3*uI5(oP7)aS9" + "j" * 10,
    "ALLOWED_HOSTS": "studio.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
    "STUDIO_HTTPS": "true",
    "DEBUG": "false",
}

# Run in a subprocess: the security settings are computed when settings.py is imported.
# STUDIO_TESTING only swaps in plain static storage (no collectstatic needed) and makes
# whitenoise search the static folders too: more it could serve, not less.
HEADERS_SCRIPT = """
import json
from pathlib import Path
from django.conf import settings
from django.test import Client
media = Path(settings.MEDIA_ROOT) / "projects/1/originals/ab"
media.mkdir(parents=True, exist_ok=True)
(media / "evil.html").write_bytes(b"<script>alert(1)</script>")
client = Client(HTTP_HOST="studio.example.com")
out = {}
for name, path, secure in [
    ("login", "/accounts/login/", True),
    ("plain_http", "/accounts/login/", False),
    ("missing", "/no/such/page/", True),
    ("media", "/media/projects/1/originals/ab/evil.html", True),
    ("media_root", "/" + settings.MEDIA_URL + "projects/1/originals/ab/evil.html", True),
]:
    r = client.get(path, secure=secure)
    out[name] = {"status": r.status_code, "headers": dict(r.headers), "cookies": {
        k: {"secure": bool(v["secure"]), "httponly": bool(v["httponly"])} for k, v in r.cookies.items()
    }}
print("JSON" + json.dumps(out))
"""


def test_production_responses_carry_the_security_headers(tmp_path):
    import json

    env = {"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_TESTING": "true", **PRODUCTION_ENV}
    result = run_manage("shell", "-c", HEADERS_SCRIPT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout.split("JSON", 1)[1])

    login = out["login"]
    assert login["status"] == 200
    headers = login["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert login["cookies"]["csrftoken"]["secure"]

    # Plain http is sent to https by Django itself (STUDIO_SSL_REDIRECT defaults on).
    assert out["plain_http"]["status"] == 301
    assert out["plain_http"]["headers"]["Location"] == "https://studio.example.com/accounts/login/"
    # Error pages carry the headers too.
    assert out["missing"]["status"] == 404
    assert out["missing"]["headers"]["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in out["missing"]["headers"]
    # Uploaded files are never served from MEDIA_URL: only through the access-checked views.
    assert out["media"]["status"] == 404 and out["media_root"]["status"] == 404


def test_local_responses_carry_headers_but_no_hsts(client, admin_user, settings):
    assert not settings.HTTPS
    client.force_login(admin_user)
    response = client.get("/projects/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert "Strict-Transport-Security" not in response  # plain http on 127.0.0.1: no HSTS


def test_media_is_not_routed(settings):
    from django.urls import Resolver404, resolve

    for path in ("/media/projects/1/originals/ab/x", f"/{settings.MEDIA_URL}x"):
        with pytest.raises(Resolver404):
            resolve(path)
    # whitenoise serves STATIC_ROOT and the static folders only; media lives elsewhere.
    media = Path(settings.MEDIA_ROOT).resolve()
    for folder in [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]:
        assert not media.is_relative_to(folder.resolve())
    assert not getattr(settings, "WHITENOISE_ROOT", None)
