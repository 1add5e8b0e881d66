"""Failed sign-ins are throttled per username and per client address (shared cache)."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD, make_user

URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def _limits(settings, db):
    settings.STUDIO_LOGIN_MAX_FAILURES = 5
    settings.STUDIO_LOGIN_MAX_FAILURES_PER_IP = 20
    settings.STUDIO_LOGIN_WINDOW_SECONDS = 900
    settings.STUDIO_TRUSTED_PROXIES = 0
    cache.clear()
    yield
    cache.clear()


def attempt(username: str, password: str, ip: str = "10.0.0.1", client: Client | None = None, **extra):
    return (client or Client()).post(URL, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def test_five_failures_then_429_without_checking_the_password(admin_user, monkeypatch, caplog):
    for _ in range(5):
        response = attempt("alice", "wrong")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    checked = []
    monkeypatch.setattr("django.contrib.auth.authenticate", lambda *a, **k: checked.append(1))
    monkeypatch.setattr("django.contrib.auth.forms.authenticate", lambda *a, **k: checked.append(1))
    with caplog.at_level(logging.WARNING, logger="studio.auth"):
        response = attempt("alice", PASSWORD)  # even the right password
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins; try again in 15 minutes." in body
    assert 0 < int(response["Retry-After"]) <= 900
    assert checked == []  # the password was not even checked
    assert "_auth_user_id" not in response.wsgi_request.session
    assert any("throttled" in r.getMessage() and "alice" in r.getMessage() for r in caplog.records)
    # Another user from the same address is not affected by alice's limit.
    monkeypatch.undo()
    make_user("bob")
    assert attempt("bob", PASSWORD).status_code == 302


def test_throttle_is_per_username_whatever_the_case_or_address(admin_user):
    for i in range(5):
        attempt("alice", "wrong", ip=f"10.0.1.{i}")
    assert attempt("ALICE", PASSWORD, ip="10.9.9.9").status_code == 429


def test_success_resets_the_username_count(admin_user):
    for _ in range(4):
        attempt("alice", "wrong")
    assert attempt("alice", PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt("alice", "wrong").status_code == 200  # counting from zero again
    assert attempt("alice", PASSWORD).status_code == 302


def test_per_address_limit_across_usernames(db):
    for i in range(20):
        assert attempt(f"nobody{i}", "guess", ip="203.0.113.7").status_code == 200
    make_user("carol")
    assert attempt("carol", PASSWORD, ip="203.0.113.7").status_code == 429
    assert attempt("carol", PASSWORD, ip="203.0.113.8").status_code == 302  # another address


def test_window_passes(admin_user, monkeypatch):
    for _ in range(5):
        attempt("alice", "wrong")
    assert attempt("alice", PASSWORD).status_code == 429
    later = time.time() + 901
    monkeypatch.setattr("studio.throttle.time.time", lambda: later)
    assert attempt("alice", PASSWORD).status_code == 302


def test_minutes_count_down(admin_user, monkeypatch):
    start = time.time()
    monkeypatch.setattr("studio.throttle.time.time", lambda: start)
    for _ in range(5):
        attempt("alice", "wrong")
    monkeypatch.setattr("studio.throttle.time.time", lambda: start + 14 * 60 + 5)
    response = attempt("alice", PASSWORD)
    assert response.status_code == 429 and "try again in 1 minute." in response.content.decode()


def test_counts_are_shared_through_the_database_cache(admin_user, settings):
    """Each web process has its own memory; the DatabaseCache is what they share."""
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    for _ in range(5):
        attempt("alice", "wrong", client=Client())  # a fresh client each time: no session state
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {settings.CACHES['default']['LOCATION']}")
        assert cursor.fetchone()[0] >= 1
    assert attempt("alice", PASSWORD).status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts(db, settings):
    settings.STUDIO_TRUSTED_PROXIES = 1
    for i in range(20):
        attempt(f"u{i}", "x", ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    make_user("dave")
    # Another client behind the same proxy is not blocked by the first one's failures...
    assert attempt("dave", PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302
    # ...and a forged left-most entry does not escape the limit.
    forged = "1.2.3.4, 198.51.100.1"
    assert attempt("dave", PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR=forged).status_code == 429


def test_limits_can_be_turned_off(admin_user, settings):
    settings.STUDIO_LOGIN_MAX_FAILURES = 0
    settings.STUDIO_LOGIN_MAX_FAILURES_PER_IP = 0
    for _ in range(30):
        attempt("alice", "wrong")
    assert attempt("alice", PASSWORD).status_code == 302


def test_login_page_still_renders_and_redirects_signed_in_users(admin_user):
    assert Client().get(URL).status_code == 200
    client = Client()
    client.force_login(admin_user)
    assert client.get(URL).status_code == 302
