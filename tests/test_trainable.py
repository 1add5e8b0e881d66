"""The trainable-classifier flow on a real corpus: seed -> train -> test items -> review."""

import random

import pytest

from classifiers.actions.trainable import do_review, do_set_threshold
from classifiers.actions.training import do_request_training
from classifiers.models import Document, ModelVersion, Prediction, Review
from classifiers.trainable import (
    gather_seed,
    next_review_item,
    publishable,
    review_figures,
    seed_problems,
    state,
)
from tests.conftest import make_project
from tests.corpora import load_corpus


def add_docs(project, rows, doc_set):
    return Document.objects.bulk_create(
        [
            Document(project=project, set=doc_set, text=r["text"], text_chars=len(r["text"]),
                     text_hash=f"{doc_set}-{r['id']}", external_id=str(r["id"]))
            for r in rows
        ]
    )  # fmt: skip


@pytest.fixture
def bbc_sport(admin_user):
    """50 sport seeds, 400 background articles, 300 test items (half sport)."""
    rows = load_corpus("bbc")
    rng = random.Random(0)
    rng.shuffle(rows)
    sport = [r for r in rows if r["label"] == "sports"]
    other = [r for r in rows if r["label"] != "sports"]
    project = make_project(admin_user, name="Sport news", kind="trainable")
    add_docs(project, sport[:50], "seed")
    add_docs(project, sport[50:100] + other[:350], "background")
    test_rows = sport[100:250] + other[350:500]
    add_docs(project, test_rows, "test")
    truth = {str(r["id"]): r["label"] == "sports" for r in test_rows}
    return project, truth


def train(project, user, capture):
    with capture(execute=True):
        run, _ = do_request_training(user, project)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return ModelVersion.objects.get(training_run=run)


def test_states_and_reviews(bbc_sport, admin_user, tagger_user, django_capture_on_commit_callbacks, settings):
    project, truth = bbc_sport
    assert state(project).code == "needs_seed" and not seed_problems(project)
    version = train(project, admin_user, django_capture_on_commit_callbacks)
    assert version.threshold is not None and version.metrics["seed"]["positives"] == 50
    assert Prediction.objects.filter(model_version=version).count() == 300  # test items scored
    assert state(project).code == "ready_to_review"

    from classifiers.actions import do_add_member

    do_add_member(admin_user, project, tagger_user, "tagger")
    first = next_review_item(project, tagger_user)
    threshold = version.threshold
    # The first item offered is the one nearest the threshold.
    distances = Prediction.objects.filter(model_version=version).values_list("top_score", flat=True)
    assert abs(first.top_score - threshold) == pytest.approx(min(abs(s - threshold) for s in distances))
    # Another reviewer does not get the leased item.
    assert next_review_item(project, admin_user).document_id != first.document_id

    for _ in range(3 * 30):
        item = next_review_item(project, tagger_user)
        answer = "match" if truth[item.document.external_id] else "not_match"
        with django_capture_on_commit_callbacks(execute=True):
            do_review(tagger_user, project, item.document, answer)
    assert ModelVersion.objects.filter(project=project).count() == 4  # a retrain after each batch
    figures = review_figures(project)
    assert figures["reviewed"] == 90 and [b["batch"] for b in figures["batches"]] == [1, 2, 3]
    assert figures["overall"]["accuracy"] > 0.7
    ok, why = publishable(figures)
    assert not ok and "at least 200" in why
    settings.STUDIO_PUBLISH_MIN_REVIEWS = 90
    settings.STUDIO_PUBLISH_STABILITY_MARGIN = 1.0
    assert publishable(review_figures(project))[0]
    assert state(project).code == "ready_to_publish"
    # Reviews teach the next model: they are in its training data.
    assert len(gather_seed(project).reviewed) == 90


def test_review_twice_is_refused(bbc_sport, admin_user, django_capture_on_commit_callbacks):
    from classifiers.actions.base import ActionError

    project, _ = bbc_sport
    train(project, admin_user, django_capture_on_commit_callbacks)
    item = next_review_item(project, admin_user)
    do_review(admin_user, project, item.document, "match")
    with pytest.raises(ActionError, match="already reviewed"):
        do_review(admin_user, project, item.document, "not_match")
    assert Review.objects.count() == 1


def test_threshold_change_is_a_new_version(bbc_sport, admin_user, django_capture_on_commit_callbacks):
    project, _ = bbc_sport
    version = train(project, admin_user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        new = do_set_threshold(admin_user, version, 0.3, 0.2)
    assert new.number == version.number + 1 and new.artifact == version.artifact
    assert (new.threshold, new.close_match_lower) == (0.3, 0.2)
    assert Prediction.objects.filter(model_version=new).count() == 300


def test_too_few_seeds(admin_user):
    project = make_project(admin_user, name="Tiny", kind="trainable")
    add_docs(project, [{"id": i, "text": f"seed {i}"} for i in range(10)], "seed")
    problems = seed_problems(project)
    assert "at least 50 seed positives (10 so far)" in problems[0]
    assert "background collection" in problems[1]
