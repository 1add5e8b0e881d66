"""Upload a zip of mixed files in Chromium, watch progress complete, read per-file results."""

import pytest

from classifiers.models import Document, UploadBatch
from tests.conftest import browser_login, make_project, make_user
from tests.uploads import mixed_zip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_zip_and_read_results(page, live_server, tmp_path):
    alice = make_user("alice")
    project = make_project(alice, name="Contract mail")
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(mixed_zip())

    browser_login(page, "alice")
    page.goto(f"/projects/{project.slug}/upload/")
    page.locator("input[type=file]").set_input_files(str(archive))
    page.get_by_text("1 file: mixed.zip").wait_for()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"**/projects/{project.slug}/uploads/*/")
    page.locator("#progress").get_by_text("Done").wait_for()
    results = page.locator("#results")
    results.get_by_text("mixed.zip/mail/renewal.eml").wait_for()
    assert results.get_by_text("A document with the same text is already in this project.").is_visible()
    assert results.locator("code", has_text="empty_text").is_visible()
    assert results.locator("code", has_text="unsafe_path").is_visible()
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)

    batch = UploadBatch.objects.get()
    assert batch.status == "done" and batch.imported == Document.objects.count() == 5
    results.get_by_role("link", name="Rejected").click()
    page.wait_for_url("**?status=rejected")
    assert "renewal.eml" not in page.locator("#results tbody").inner_text()
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
