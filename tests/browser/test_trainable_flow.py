"""Purview's flow in Chromium on the BBC corpus: 50 sport seeds -> train -> 300 test items ->
review batches of 30 (answers from the known labels) -> publish."""

import io
import random
import zipfile

import pytest

from classifiers.models import Deployment, Document, ModelVersion, Review
from studio.models import AuditEntry
from tests.conftest import browser_login, make_project, make_user
from tests.corpora import load_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def zip_of(rows) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for r in rows:
            zf.writestr(f"{r['id']}.txt", r["text"])
    return out.getvalue()


def upload(page, project, path, set_value):
    page.goto(f"/projects/{project.slug}/upload/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_label("Add to set").select_option(set_value)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"**/projects/{project.slug}/uploads/*/")
    page.locator("#progress").get_by_text("Done").wait_for()


def test_seed_train_test_review_publish(page, live_server, tmp_path, settings):
    settings.STUDIO_PUBLISH_MIN_REVIEWS = 180  # six batches of 30, as the flow has it
    rows = load_corpus("bbc")
    random.Random(0).shuffle(rows)
    sport = [r for r in rows if r["label"] == "sports"]
    other = [r for r in rows if r["label"] != "sports"]
    files = {
        "seed": sport[:60],  # the corpus repeats a few articles: 50 or more stay after duplicates
        "background": sport[60:100] + other[:360],
        "test": sport[100:250] + other[360:510],
    }
    for name, part in files.items():
        (tmp_path / f"{name}.zip").write_bytes(zip_of(part))
    truth = {f"{r['id']}.txt": r["label"] == "sports" for r in files["test"]}

    alice = make_user("alice")
    project = make_project(alice, name="Sport news", kind="trainable")
    browser_login(page, "alice")

    upload(page, project, tmp_path / "seed.zip", "seed")
    upload(page, project, tmp_path / "background.zip", "background")
    page.goto(f"/projects/{project.slug}/classifier/")
    assert page.locator(".stepper [aria-current=step]").inner_text() == "Needs seed"
    assert "Seeds are ready" in page.locator(".next-step").inner_text(), page.locator(".next-step").inner_text()
    page.get_by_role("button", name="Train the first model").click()
    page.wait_for_url(f"**/projects/{project.slug}/training/runs/*/")
    # Tests run jobs in sync mode, so the run has ended when its page shows; live, the page
    # polls and moves on to the version by itself.
    page.get_by_role("link", name="Open version 1").click()
    page.wait_for_url(f"**/projects/{project.slug}/models/*/")

    upload(page, project, tmp_path / "test.zip", "test")
    page.goto(f"/projects/{project.slug}/classifier/")
    assert page.locator(".stepper [aria-current=step]").inner_text() == "Ready to review"

    page.goto(f"/projects/{project.slug}/review/")
    for _ in range(300):
        card = page.locator("#review-card")
        hidden = card.locator("input[name=document]")
        if hidden.count() == 0:
            break
        document = Document.objects.get(pk=int(hidden.get_attribute("value")))
        page.keyboard.press("m" if truth[document.filename] else "n")
        page.wait_for_function(
            "(id) => { const i = document.querySelector('#review-card input[name=document]');"
            " return !i || i.value !== id; }",
            arg=str(document.pk),
        )
        answered = Review.objects.filter(project=project).count()
        if answered >= 180 and answered % 30 == 0:
            page.goto(f"/projects/{project.slug}/classifier/")
            if page.get_by_role("button", name="Publish").count():
                break
            page.goto(f"/projects/{project.slug}/review/")

    page.goto(f"/projects/{project.slug}/classifier/")
    assert page.locator(".stepper [aria-current=step]").inner_text() == "Ready to publish"
    reviewed = Review.objects.filter(project=project).count()
    assert reviewed >= 180 and reviewed % 30 == 0
    assert ModelVersion.objects.filter(project=project).count() == 1 + reviewed // 30  # a retrain per batch
    accuracy = float(
        page.locator("dl.counts >> text=Accuracy").locator("xpath=..").locator("dd").inner_text()[:-1]
    )
    assert accuracy >= 85
    page.screenshot(path=str(tmp_path / "classifier.png"), full_page=True)

    page.get_by_label("Publish version").check()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("is published").wait_for()
    assert page.locator(".stepper [aria-current=step]").inner_text() == "Published"
    latest = ModelVersion.objects.filter(project=project).order_by("-number").first()
    assert Deployment.objects.get(project=project, name="production").model_version == latest
    actions = set(AuditEntry.objects.filter(project=project).values_list("action", flat=True))
    assert {"review.answer", "training.succeed", "classifier.publish"} <= actions
