"""Shared fixtures: a project with an admin, a tagger, a viewer and an outsider; Chromium."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

# Playwright's sync API keeps an asyncio loop in the test thread; without this the ORM
# refuses to run in browser tests (SynchronousOnlyOperation).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes files into its own folder, never into the developer's data."""
    settings.MEDIA_ROOT = tmp_path / "media"


def make_user(username: str, *, creator: bool = False, **extra):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )
    if creator:
        from classifiers.roles import COMPLIANCE_ADMINS

        user.groups.add(Group.objects.get(name=COMPLIANCE_ADMINS))
    return user


@pytest.fixture
def admin_user(db):
    return make_user("alice", creator=True)


@pytest.fixture
def tagger_user(db):
    return make_user("tom")


@pytest.fixture
def viewer_user(db):
    return make_user("vera")


@pytest.fixture
def outsider_user(db):
    return make_user("oscar", creator=True)


@pytest.fixture
def staff_user(db):
    return make_user("stella", is_staff=True)


def make_project(admin, name: str = "Contracts", kind: str = "single_label", **kwargs):
    from classifiers.actions import do_create_project

    return do_create_project(admin, name=name, kind=kind, **kwargs)


@pytest.fixture
def project(admin_user, tagger_user, viewer_user):
    """A single-label project whose Admin is alice, with tom (Tagger) and vera (Viewer)."""
    from classifiers.actions import do_add_member

    project = make_project(admin_user)
    do_add_member(admin_user, project, tagger_user, "tagger")
    do_add_member(admin_user, project, viewer_user, "viewer")
    return project


@pytest.fixture
def other_project(outsider_user):
    """Somebody else's project, which our users must never see."""
    return make_project(outsider_user, name="Secret HR cases", kind="multi_label")


def client_for(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


# --- Browser ------------------------------------------------------------------------------
CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()


def browser_login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/projects/")
