"""Sessions expire (STUDIO_SESSION_SECONDS) and Django's password validators are on."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.test_settings import run_manage


def sign_in(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_session_expiry_is_set_on_login(admin_user, settings):
    client = sign_in(admin_user)
    age = settings.SESSION_COOKIE_AGE
    assert age == 8 * 3600  # STUDIO_SESSION_SECONDS' default
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert age - 60 < remaining <= age
    # The cookie itself ends with the browser (no Max-Age), the server-side row by the age.
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]
    assert cookie["httponly"]


def test_expired_session_goes_back_to_login(admin_user):
    client = sign_in(admin_user)
    assert client.get("/projects/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/projects/"


def test_session_lifetime_comes_from_the_environment(tmp_path):
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)",
        env={"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_SESSION_SECONDS": "900"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "900"


def change_password(client: Client, new: str):
    return client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )


def test_password_validators_refuse_weak_passwords(admin_user):
    client = Client()
    client.force_login(admin_user)
    common = change_password(client, "password")
    assert common.status_code == 200 and "This password is too common." in common.content.decode()
    short = change_password(client, "x7#Qz")
    assert short.status_code == 200 and "This password is too short." in short.content.decode()
    numeric = change_password(client, "80417395226")
    assert "This password is entirely numeric." in numeric.content.decode()
    similar = change_password(client, "alice@example.com")
    assert "too similar" in similar.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)  # unchanged
    assert change_password(client, "a sturdy new passphrase 7").status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password("a sturdy new passphrase 7")
