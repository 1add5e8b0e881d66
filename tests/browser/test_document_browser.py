"""A tagger searches, filters, ticks two documents and moves them to the test set, in Chromium."""

import pytest

from classifiers.models import Class, Document, Tag
from tests.conftest import browser_login, make_project, make_user
from tests.test_search import make_doc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_filter_select_and_assign_to_test(page, live_server, tmp_path):
    from classifiers.actions import do_add_member
    from classifiers.roles import ensure_role_groups

    ensure_role_groups()  # transactional tests flush the groups made at migrate
    admin = make_user("alice", creator=True)
    tagger = make_user("tom")
    project = make_project(admin, name="Mail")
    do_add_member(admin, project, tagger, "tagger")
    billing = Class.objects.create(project=project, name="Billing")
    texts = ["Invoice overdue", "Invoice paid", "Invoice disputed", "Holiday plans", "Meeting notes"]
    docs = {t: make_doc(project, t, filename=f"{t.lower().replace(' ', '-')}.txt") for t in texts}
    for t in ("Invoice overdue", "Invoice paid"):
        Tag.objects.create(project=project, document=docs[t], tag_class=billing, tagger=admin)

    browser_login(page, "tom")
    page.goto(f"/projects/{project.slug}/documents/")
    results = page.locator("#results")
    results.get_by_text("5 documents").wait_for()

    page.get_by_role("searchbox").fill("invoice")
    page.get_by_role("button", name="Search").click()
    results.get_by_text("3 documents match").wait_for()
    assert "holiday-plans.txt" not in results.inner_text()

    page.locator("form[role=search] select[name=class]").select_option(label="Billing")
    results.get_by_text("2 documents match").wait_for()
    assert "?q=invoice" in page.url and f"class={billing.pk}" in page.url  # the filter is in the address

    results.get_by_label("Select invoice-overdue.txt").check()
    results.get_by_label("Select invoice-paid.txt").check()
    results.locator("select[name=target_set]").select_option("test")
    results.get_by_role("button", name="Apply").click()
    results.get_by_text("2 documents moved to Test").wait_for()

    moved = set(Document.objects.filter(set="test").values_list("id", flat=True))
    assert moved == {docs["Invoice overdue"].pk, docs["Invoice paid"].pk}
    assert results.locator(".badge.set-test").count() == 2

    # The test set, through the set filter, shows exactly those two.
    page.locator("form[role=search] select[name=set]").select_option("test")
    page.locator("form[role=search] select[name=class]").select_option("")
    page.get_by_role("searchbox").fill("")
    page.get_by_role("button", name="Search").click()
    results.get_by_text("2 documents match").wait_for()
    page.screenshot(path=str(tmp_path / "documents.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
