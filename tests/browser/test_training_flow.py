"""Train a version in Chromium and read its evaluation: the Admin presses "Train a new
version", the run page shows the progress reach the end and leads to the evaluation page,
whose confusion matrix tab opens without a page load (htmx) and adds up."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from classifiers.models import ModelVersion
from tests.conftest import browser_login, make_project, make_user
from tests.training_data import tagged_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_train_then_read_the_confusion_matrix(page, tmp_path):
    from classifiers.roles import ensure_role_groups

    ensure_role_groups()  # transactional tests flush the groups made at migrate
    admin = make_user("alice", creator=True)
    project = make_project(admin, name="Newsroom")
    tagged_project(project, admin)

    browser_login(page, "alice")
    page.goto(f"/projects/{project.slug}/training/")
    # django-q2 runs in sync mode here: the run trains inside the request's on_commit.
    page.get_by_role("button", name="Train a new version").click()
    page.wait_for_url(re.compile(r"/training/runs/\d+/$"))
    status = page.locator("#run-status")
    expect(status.locator("progress")).to_have_attribute("value", "100")
    expect(status).to_contain_text("Succeeded")
    status.get_by_role("link", name="Open version 1").click()

    version = ModelVersion.objects.get(project=project)
    page.wait_for_url(f"**/projects/{project.slug}/models/{version.pk}/")
    expect(page.get_by_role("heading", name=re.compile(r"Model version 1"))).to_be_visible()
    expect(page.locator("#tab-overview")).to_contain_text("Accuracy")
    # Screenshots to look at: STUDIO_SCREENSHOTS=/some/folder keeps them.
    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "evaluation-overview.png"), full_page=True)

    page.get_by_role("link", name="Confusion matrix", exact=True).click()
    page.wait_for_url("**?tab=confusion")  # hx-push-url: the tab is in the address
    matrix = page.locator("#confusion-matrix")
    expect(matrix).to_be_visible()
    expect(matrix.locator("thead")).to_contain_text("Predicted")
    expect(matrix.locator("tbody")).to_contain_text("Actual")
    labels = matrix.locator("thead th.cm-label").all_inner_texts()
    assert labels == ["finance", "sport", "tech"]
    cells = matrix.locator("td.cm-cell")
    expect(cells).to_have_count(9)
    numbers = [int(text or 0) for text in cells.all_inner_texts()]
    expected = [n for row in version.metrics["confusion_matrix"]["matrix"] for n in row]
    assert numbers == expected and sum(numbers) == version.test_size
    assert matrix.locator("td.cm-hit").count() == 3
    page.screenshot(path=str(shots / "evaluation-confusion.png"), full_page=True)

    # Normalised view and the link from a cell into the test set.
    page.get_by_role("link", name="Share of the actual class").click()
    expect(matrix.locator("td.cm-cell").first).to_contain_text("%")
    matrix.locator("td.cm-hit a").first.click()
    expect(page.locator(".test-table")).to_be_visible()
    expect(page.locator(".result-count")).to_contain_text("actual finance, predicted finance")
    # Back restores the pushed tab as a whole page (the header too), not a bare partial.
    page.go_back()
    expect(page.locator("#confusion-matrix")).to_be_visible()
    page.get_by_role("link", name="Per class", exact=True).click()
    page.wait_for_url("**?tab=classes")
    page.go_back()  # htmx restores the pushed URL with a history-restore request
    expect(page.locator("#confusion-matrix")).to_be_visible()
    expect(page.locator(".version-meta")).to_have_count(1)
    expect(page.locator("#version-tabs")).to_have_count(1)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
