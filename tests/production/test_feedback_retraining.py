"""Feedback on production items, the automatic retrain and its daily cap, the comparison,
re-publishing, deciding to keep, history and rollback. No retrain ever publishes itself."""

from __future__ import annotations

import pytest

from classifiers.actions import do_add_member
from classifiers.actions.base import ActionError
from classifiers.actions.production import (
    do_bulk_feedback,
    do_decide,
    do_give_feedback,
    do_republish,
    do_retrain_now,
    do_rollback_published,
    do_set_retraining,
    do_withdraw_feedback,
)
from classifiers.models import (
    Classification,
    Document,
    Feedback,
    TrainingRun,
    VersionComparison,
)
from classifiers.production import published_version
from classifiers.retraining import history, latest_comparison, next_feedback_item, retrain_status
from classifiers.trainable import gather_seed, state
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.production.helpers import published_sport_classifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(admin_user, tagger_user, django_capture_on_commit_callbacks):
    project, version = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    do_add_member(admin_user, project, tagger_user, "tagger")
    return project, version


def truth(document: Document) -> str:
    return "match" if int(document.text.rsplit("p", 1)[1]) % 3 == 0 else "not_match"


def items(project):
    return list(Document.objects.filter(project=project, set="production").order_by("id"))


def test_feedback_replace_and_withdraw(
    published, tagger_user, admin_user, django_capture_on_commit_callbacks
):
    project, version = published
    doc = items(project)[0]
    first, run = do_give_feedback(tagger_user, project, doc, "match")
    assert run is None and first.model_version == version and first.outcome
    second, _ = do_give_feedback(admin_user, project, doc, "not_match")
    first.refresh_from_db()
    assert first.withdrawn_at is not None and second.withdrawn_at is None
    assert Feedback.objects.filter(document=doc, withdrawn_at__isnull=True).count() == 1
    # Only its giver or an Admin withdraws it.
    with pytest.raises(ActionError):
        do_withdraw_feedback(tagger_user, second, is_admin=False)
    do_withdraw_feedback(admin_user, second, is_admin=True)
    with pytest.raises(ActionError):
        do_withdraw_feedback(admin_user, second, is_admin=True)
    assert not Feedback.objects.filter(document=doc, withdrawn_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action="feedback.withdraw").count() == 1
    # Withdrawn feedback does not teach the next model.
    assert doc.pk not in gather_seed(project).feedback_ids


def test_feedback_refusals(published, tagger_user, admin_user, other_project):
    project, _ = published
    with pytest.raises(ActionError):
        do_give_feedback(tagger_user, project, items(project)[0], "maybe")
    seed = Document.objects.filter(project=project, set="seed").first()
    with pytest.raises(ActionError, match="production items"):
        do_give_feedback(tagger_user, project, seed, "match")
    unclassified = Document.objects.create(project=project, set="production", text="x y", text_hash="u1")
    with pytest.raises(ActionError, match="not been classified"):
        do_give_feedback(tagger_user, project, unclassified, "match")
    with pytest.raises(ActionError):
        do_bulk_feedback(tagger_user, project, [items(project)[0].pk, 10**9], "match")
    with pytest.raises(ActionError):
        do_bulk_feedback(tagger_user, project, ["abc"], "match")
    assert not Feedback.objects.exists()


def test_suggest_another_classifier(published, tagger_user, admin_user, django_capture_on_commit_callbacks):
    project, _ = published
    other, other_version = published_sport_classifier(
        admin_user, django_capture_on_commit_callbacks, production=3, name="Second"
    )
    doc = items(project)[1]
    with pytest.raises(ActionError, match="only suggest"):
        do_give_feedback(tagger_user, project, doc, "not_match", suggest=other)
    do_add_member(admin_user, other, tagger_user, "tagger")
    with django_capture_on_commit_callbacks(execute=True):
        feedback, _ = do_give_feedback(tagger_user, project, doc, "not_match", suggest=other)
    copy = feedback.suggested_document
    assert copy.project == other and copy.set == "production" and copy.text == doc.text
    assert copy.metadata["suggested_from"] == {"project": project.slug, "document": doc.pk}
    # The other classifier scored it.
    assert Classification.objects.get(document=copy).model_version == other_version
    # Suggesting the same item twice does not copy it twice.
    with django_capture_on_commit_callbacks(execute=True):
        do_give_feedback(tagger_user, project, doc, "not_match", suggest=other)
    assert Document.objects.filter(project=other, text_hash=doc.text_hash).count() == 1


def test_feedback_queue_offers_close_matches_first(published, tagger_user, admin_user):
    project, _ = published
    close = Classification.objects.filter(project=project).order_by("-document_id").first()
    Classification.objects.filter(pk=close.pk).update(outcome="close_match")
    item = next_feedback_item(project, tagger_user)
    assert item.document_id == close.document_id
    # Leased to tom: alice gets another item.
    assert next_feedback_item(project, admin_user).document_id != close.document_id
    do_give_feedback(tagger_user, project, item.document, "not_match")
    assert next_feedback_item(project, tagger_user).document_id != close.document_id


def test_automatic_retrain_daily_cap_and_no_self_publishing(
    published, tagger_user, admin_user, django_capture_on_commit_callbacks
):
    project, version = published
    do_set_retraining(admin_user, project, 5, 1)
    with pytest.raises(ActionError):
        do_set_retraining(admin_user, project, 0, 1)
    docs = items(project)
    runs = []
    for doc in docs[:4]:
        with django_capture_on_commit_callbacks(execute=True):
            _, run = do_give_feedback(tagger_user, project, doc, truth(doc))
        runs.append(run)
    assert runs == [None] * 4 and retrain_status(project).new_feedback == 4
    # The 5th new item starts the retrain (bulk counts item by item).
    with django_capture_on_commit_callbacks(execute=True):
        _count, run = do_bulk_feedback(tagger_user, project, [docs[4].pk], truth(docs[4]))
    assert run is not None and run.reason == "feedback"
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    retrained = project.model_versions.order_by("-number").first()
    assert retrained.number == version.number + 1
    # The retrain trained on the feedback too...
    assert retrained.snapshot["feedback_count"] == 5
    assert set(gather_seed(project).feedback_ids) == {d.pk for d in docs[:5]}
    # ...and changed nothing that is published: it is compared instead.
    assert published_version(project) == version
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        version.pk
    }
    comparison = latest_comparison(project)
    assert comparison.retrained == retrained and comparison.state == "ready"
    assert state(project).code == "retrained"
    # Five more: the daily cap (1) holds the next automatic retrain back.
    for doc in docs[5:10]:
        with django_capture_on_commit_callbacks(execute=True):
            _, run = do_give_feedback(tagger_user, project, doc, truth(doc))
        assert run is None
    status = retrain_status(project)
    assert status.new_feedback == 5 and not status.due and "today" in status.why
    # "Retrain now" is always there for Admins.
    with django_capture_on_commit_callbacks(execute=True):
        manual = do_retrain_now(admin_user, project)
    manual.refresh_from_db()
    assert manual.reason == "retrain" and manual.state == "succeeded"
    assert published_version(project) == version
    assert TrainingRun.objects.filter(project=project, reason="feedback").count() == 1


def test_comparison_republish_and_rollback(
    published, tagger_user, admin_user, django_capture_on_commit_callbacks
):
    project, version = published
    docs = items(project)
    with django_capture_on_commit_callbacks(execute=True):
        for doc in docs[:12]:
            do_give_feedback(tagger_user, project, doc, truth(doc))
        do_retrain_now(admin_user, project)
    comparison = latest_comparison(project)
    figures = comparison.figures
    assert figures["feedback"]["published"]["n"] == 12 and figures["original"]["published"]["n"] == 0
    for side in ("published", "retrained"):
        assert set(figures["all"][side]) >= {"accuracy", "precision", "recall", "f1", "per_class"}
    assert comparison.recommendation["action"] in ("republish", "more_feedback")
    assert "accuracy_change" in comparison.recommendation
    for d in comparison.disagreements:
        assert d["published"] != d["retrained"]
    # Deciding needs the current published version; a decision is made once.
    with django_capture_on_commit_callbacks(execute=True):
        new = do_republish(admin_user, comparison)
    assert published_version(project) == new
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        new.pk
    }
    comparison.refresh_from_db()
    assert comparison.decision == "republish"
    with pytest.raises(ActionError):
        do_decide(admin_user, comparison, "keep")
    assert AuditEntry.objects.filter(action="classifier.republish").exists()
    # History: both publishes, newest first, and a confirmed rollback to v1.
    rows = history(project)
    assert [r["version"].number for r in rows] == [new.number, version.number] and rows[0]["current"]
    with pytest.raises(ActionError):
        do_rollback_published(admin_user, project, version, confirmed=False)
    assert published_version(project) == new
    with django_capture_on_commit_callbacks(execute=True):
        do_rollback_published(admin_user, project, version, confirmed=True)
    assert published_version(project) == version
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        version.pk
    }
    # The old comparison no longer applies to what is published.
    with pytest.raises(ActionError):
        do_republish(admin_user, comparison)


def test_keep_the_published_version(published, tagger_user, admin_user, django_capture_on_commit_callbacks):
    project, version = published
    with django_capture_on_commit_callbacks(execute=True):
        do_give_feedback(tagger_user, project, items(project)[0], "match")
        do_retrain_now(admin_user, project)
    comparison = latest_comparison(project)
    with pytest.raises(ActionError):
        do_decide(admin_user, comparison, "republish")  # re-publishing has its own action
    do_decide(admin_user, comparison, "keep")
    assert published_version(project) == version and state(project).code == "published"
    assert VersionComparison.objects.get(pk=comparison.pk).decided_by == admin_user


def test_single_label_feedback_confirm_and_correct(
    admin_user, tagger_user, django_capture_on_commit_callbacks
):
    import random

    from classifiers.actions.deployments import do_deploy
    from classifiers.actions.documents import do_assign_set
    from classifiers.models import PRODUCTION_SLOT
    from tests.production.helpers import add, train
    from tests.training_data import make_text, tagged_project

    project = make_project(admin_user, name="Desks")
    do_add_member(admin_user, project, tagger_user, "tagger")
    tagged_project(project, admin_user, per_class=20)
    version = train(project, admin_user, django_capture_on_commit_callbacks)
    rng = random.Random(3)
    with django_capture_on_commit_callbacks(execute=True):
        do_deploy(admin_user, project, PRODUCTION_SLOT, version)
        docs = add(project, [make_text(rng, c, 20) + f" q{i}" for i, c in enumerate(["sport", "tech"] * 5)],
                   "training", "p")  # fmt: skip
        do_assign_set(admin_user, project, [d.pk for d in docs], "production")
    docs = [Document.objects.get(pk=d.pk) for d in docs]
    c = Classification.objects.get(document=docs[0])
    assert c.outcome == "predicted" and c.labels and c.classes_key == f"|{c.labels[0]}|"
    confirmed, _ = do_give_feedback(tagger_user, project, docs[0], "match")
    assert confirmed.labels == c.labels
    with pytest.raises(ActionError, match="one class"):
        do_give_feedback(tagger_user, project, docs[1], "not_match", corrected=["sport", "tech"])
    with pytest.raises(ActionError, match="Not a class"):
        do_give_feedback(tagger_user, project, docs[1], "not_match", corrected=["nope"])
    corrected, _ = do_give_feedback(tagger_user, project, docs[1], "not_match", corrected=["finance"])
    assert corrected.labels == ["finance"]
    from classifiers.training import gather

    data = gather(project)
    assert docs[1].pk in data.train_ids
    assert data.train_labels[data.train_ids.index(docs[1].pk)] == "finance"
