"""A newcomer logs in, creates a project and adds a colleague, in Chromium."""

import pytest

from classifiers.models import Membership, Project
from studio.models import AuditEntry
from tests.conftest import browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_create_project_add_member(page, live_server, tmp_path):
    from django.contrib.auth.models import Group

    from classifiers.roles import ensure_role_groups

    ensure_role_groups()  # transactional tests flush the groups made at migrate
    admin = make_user("alice")
    admin.groups.add(Group.objects.get(name="Compliance admins"))
    make_user("carla")

    browser_login(page, "alice")
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Contract mail")
    page.get_by_label("Single-label").check()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/contract-mail/")
    assert "You are its Admin" in page.content()

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Settings").click()
    # Bad input first: an unknown user gets a clear message, the page stays usable.
    page.get_by_label("Username or e-mail").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("No account “nobody”").wait_for()
    page.get_by_label("Username or e-mail").fill("carla@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("carla added as Viewer").wait_for()
    assert page.url.endswith("/settings/")  # htmx swapped the card, no reload

    project = Project.objects.get(name="Contract mail")
    assert Membership.objects.get(project=project, user__username="carla").role == "viewer"
    assert AuditEntry.objects.filter(project=project, action="member.add").count() == 1

    page.get_by_role("link", name="Activity").click()
    page.locator("#entries").get_by_text("member.add").wait_for()
    page.screenshot(path=str(tmp_path / "activity.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


def test_shortcut_help_and_logout(page, live_server):
    make_user("vera")
    browser_login(page, "vera")
    page.keyboard.press("?")
    assert page.locator("#shortcuts-help").is_visible()
    page.keyboard.press("Escape")
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    assert not page.console_errors, page.console_errors
