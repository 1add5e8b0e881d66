"""Issue 7 in Chromium on the BBC corpus: a published trainable classifier (sport) classifies
500 production items; the tester gives 30 feedback items in the explorer (bulk and single),
the automatic retrain runs, the overview shows both versions and where they disagree, the
tester re-publishes, and the explorer shows the new version."""

import os
import random

import pytest

from classifiers.actions.deployments import do_deploy
from classifiers.actions.training import do_request_training
from classifiers.models import PRODUCTION_SLOT, Classification, Document, Feedback, ModelVersion
from classifiers.production import published_version
from tests.conftest import browser_login, make_project, make_user
from tests.corpora import load_corpus
from tests.uploads import zip_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_explorer_feedback_retrain_compare_republish(page, live_server, tmp_path):
    rows = load_corpus("bbc")
    random.Random(7).shuffle(rows)
    sport = [r for r in rows if r["label"] == "sports"]
    other = [r for r in rows if r["label"] != "sports"]
    alice = make_user("alice")
    project = make_project(alice, name="Sport news", kind="trainable")
    for doc_set, part in (("seed", sport[:50]), ("background", sport[50:80] + other[:370])):
        Document.objects.bulk_create(
            Document(project=project, set=doc_set, text=r["text"], text_chars=len(r["text"]),
                     text_hash=f"{doc_set}-{r['id']}", external_id=str(r["id"]))
            for r in part
        )  # fmt: skip
    run, _ = do_request_training(alice, project)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    v1 = ModelVersion.objects.get(training_run=run)
    do_deploy(alice, project, PRODUCTION_SLOT, v1)
    production = sport[80:180] + other[370:770]
    (tmp_path / "production.zip").write_bytes(
        zip_bytes({f"{r['id']}.txt": r["text"].encode() for r in production})
    )
    truth = {f"{r['id']}.txt": r["label"] == "sports" for r in production}

    browser_login(page, "alice")
    page.goto(f"/projects/{project.slug}/upload/")
    page.locator("input[type=file]").set_input_files(str(tmp_path / "production.zip"))
    page.get_by_label("Add to set").select_option("production")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"**/projects/{project.slug}/uploads/*/")
    page.locator("#progress").get_by_text("Done").wait_for()
    items = Document.objects.filter(project=project, set="production").count()
    assert items >= 490  # the corpus repeats a few articles
    assert Classification.objects.filter(project=project, model_version=v1).count() == items

    # The explorer lists them with counts; close matches and matches first for feedback.
    page.goto("/explorer/")
    assert "Sport news" in page.locator(".classifier-list").inner_text()
    assert f"{items} items" in page.locator("#explorer-results h2").inner_text().replace(",", "")
    page.get_by_label("Outcome").select_option("match")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**outcome=match**")
    matches = Classification.objects.filter(project=project, outcome="match").count()
    assert f"{matches} items" in page.locator("#explorer-results h2").inner_text().replace(",", "")

    # Bulk: tick 25 shown items: 10 true matches among the matches, then 15 others.
    def tick_and_send(url: str, wanted: bool, how_many: int, answer: str) -> None:
        page.goto(url)
        boxes = page.locator("#explorer-results input[name=document]")
        ticked = 0
        for i in range(boxes.count()):
            doc = Document.objects.get(pk=int(boxes.nth(i).get_attribute("value")))
            if truth[doc.filename] == wanted and ticked < how_many:
                boxes.nth(i).check()
                ticked += 1
        assert ticked == how_many
        page.locator("#bulk-feedback .bulk-actions").get_by_role("button", name=answer, exact=True).click()
        page.locator(".messages").get_by_text(f"recorded on {how_many} items").wait_for()

    tick_and_send(f"/explorer/?classifier={project.slug}&outcome=match", True, 10, "Match")
    tick_and_send(f"/explorer/?classifier={project.slug}", False, 15, "Not a match")
    assert Feedback.objects.filter(project=project).count() == 25

    # Single: five more from the "give feedback" queue, by keyboard.
    page.goto(f"/projects/{project.slug}/feedback/")
    for _ in range(5):
        link = page.get_by_role("link", name="Open the item")
        doc_id = int(link.get_attribute("href").rstrip("/").split("/")[-1])
        doc = Document.objects.get(pk=doc_id)
        page.keyboard.press("m" if truth[doc.filename] else "n")
        page.wait_for_function(
            "(id) => { const a = [...document.querySelectorAll('a')].find(a => a.textContent === 'Open the item');"
            " return !a || !a.href.includes('/' + id + '/'); }",
            arg=str(doc_id),
        )
    assert Feedback.objects.filter(project=project, withdrawn_at__isnull=True).count() == 30

    # The 30th answer started the retrain (it ran already: tests run jobs synchronously).
    v2 = project.model_versions.order_by("-number").first()
    assert v2.number == v1.number + 1 and v2.training_run.reason == "feedback"
    assert published_version(project) == v1  # the retrain published nothing by itself
    page.goto(f"/projects/{project.slug}/retraining/")
    overview = page.locator("#comparison")
    overview.get_by_text(f"v{v2.number} (retrained) against v{v1.number} (published").wait_for()
    text = overview.inner_text()
    assert "Feedback items" in text and "Recommended:" in text and "Accuracy" in text
    assert (
        "accuracy rose" in text.lower() or "accuracy held" in text.lower() or "accuracy fell" in text.lower()
    )
    # Disagreements open in place, blind (two answers, no version named), and can be answered.
    entries = page.locator(".disagreements li")
    if entries.count():
        entries.first.get_by_role("link").click()
        blind = page.locator(".blind-item")
        blind.wait_for()
        assert "Answer 1" in blind.inner_text() and "v1" not in blind.inner_text()
        # Answer with the known truth: pick the button that says it.
        doc = Document.objects.get(pk=int(entries.first.get_attribute("id").split("-")[1]))
        wanted = "match" if truth.get(doc.filename) else "not a match"
        for n in (1, 2):
            button = blind.get_by_role("button", name=f"Answer {n}: {wanted}", exact=True)
            if button.count():
                button.click()
                page.locator(".blind-item").get_by_text("Answer recorded").wait_for()
                break
    shots = os.environ.get("STUDIO_SCREENSHOTS")  # a folder, to look at the pages by eye
    if shots:
        page.screenshot(path=f"{shots}/retraining.png", full_page=True)

    page.goto(f"/projects/{project.slug}/retraining/")
    page.get_by_role("button", name=f"Re-publish v{v2.number}").click()
    page.locator(".messages").get_by_text(f"Version {v2.number} is published").wait_for()
    assert published_version(project) == v2
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        v2.pk
    }

    page.goto(f"/explorer/?classifier={project.slug}")
    assert f"published v{v2.number}" in page.locator("#explorer-results").inner_text()
    assert (
        page.locator("#explorer-results tbody tr").first.locator("td").nth(5).inner_text() == f"v{v2.number}"
    )
    if shots:
        page.screenshot(path=f"{shots}/explorer.png", full_page=True)
    page.goto(f"/projects/{project.slug}/history/")
    if shots:
        page.screenshot(path=f"{shots}/history.png", full_page=True)
    assert page.get_by_role("link", name=f"Roll back to v{v1.number}").count() == 1
