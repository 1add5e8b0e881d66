"""Production items are classified by the published version, re-classified after every
publish or rollback, and carry the labels their policies apply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from classifiers.actions.base import ActionError
from classifiers.actions.deployments import do_deploy
from classifiers.actions.production import do_create_label, do_create_policy, do_delete_policy
from classifiers.actions.training import do_delete_model_version
from classifiers.models import (
    PRODUCTION_SLOT,
    AppliedLabel,
    Classification,
    ClassificationRun,
    Document,
)
from classifiers.production import classify_run, sweep
from tests.production.helpers import published_sport_classifier, train

pytestmark = pytest.mark.django_db


def test_publish_classifies_production_items(admin_user, django_capture_on_commit_callbacks):
    project, version = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    rows = Classification.objects.filter(project=project)
    assert rows.count() == 40
    assert set(rows.values_list("model_version", flat=True)) == {version.pk}
    outcomes = set(rows.values_list("outcome", flat=True))
    assert "match" in outcomes and outcomes <= {"match", "close_match", "no_match"}
    # Sport items (every third) are matches; the others are not (a small model: mostly).
    right = 0
    for c in rows.select_related("document"):
        number = int(c.document.text.rsplit("p", 1)[1])
        right += (c.outcome == "match") == (number % 3 == 0)
        assert c.labels == (["match"] if c.outcome == "match" else [])
        assert c.received_at == c.document.created_at
        assert c.score == pytest.approx(c.scores["match"])
    assert right >= 32
    run = ClassificationRun.objects.filter(project=project).first()
    assert run.state == "done" and run.processed == 40 and run.total == 40


def test_a_publish_reclassifies_everything_and_a_run_is_idempotent(
    admin_user, django_capture_on_commit_callbacks
):
    project, first = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    second = train(project, admin_user, django_capture_on_commit_callbacks)
    # Training alone never changes what is published or what classified the items.
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        first.pk
    }
    with django_capture_on_commit_callbacks(execute=True):
        do_deploy(admin_user, project, PRODUCTION_SLOT, second)
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        second.pk
    }
    run = ClassificationRun.objects.filter(project=project, model_version=second).get()
    assert run.state == "done"
    # A second delivery of the same task does nothing and duplicates nothing.
    assert classify_run(run.pk) == 0
    assert Classification.objects.filter(project=project).count() == 40
    # The first version answered for items once: it may now be deleted (nothing uses it)...
    # ...but the published one may not.
    with pytest.raises(ActionError):
        do_delete_model_version(admin_user, second)


def test_an_interrupted_run_resumes_from_its_cursor(
    admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    import classifiers.production as production

    project, _first = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    second = train(project, admin_user, django_capture_on_commit_callbacks)
    monkeypatch.setattr(production, "CHUNK", 15)
    calls = {"n": 0}
    real = production.write_classifications

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # the second chunk dies mid-way
        return real(*args, **kwargs)

    monkeypatch.setattr(production, "write_classifications", dying)
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        do_deploy(admin_user, project, PRODUCTION_SLOT, second)
    run = ClassificationRun.objects.get(project=project, model_version=second)
    assert run.state == "running" and run.processed == 15
    assert Classification.objects.filter(project=project, model_version=second).count() == 15
    # A redelivery while the heartbeat is fresh leaves it to the (presumed) living worker.
    monkeypatch.setattr(production, "write_classifications", real)
    assert classify_run(run.pk) == 0
    # Once the heartbeat is stale, the sweep re-queues it and it finishes the rest once.
    ClassificationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() >= 1
    run.refresh_from_db()
    assert run.state == "done" and run.processed == 40
    assert Classification.objects.filter(project=project, model_version=second).count() == 40
    assert Classification.objects.filter(project=project).count() == 40


def test_superseded_run_stops(admin_user, django_capture_on_commit_callbacks):
    project, _first = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    second = train(project, admin_user, django_capture_on_commit_callbacks)
    # A run of a version that is no longer published ends as superseded without writing.
    run = ClassificationRun.objects.create(project=project, model_version=second)
    assert classify_run(run.pk) == 0
    run.refresh_from_db()
    assert run.state == "superseded"


def test_items_leaving_production_lose_their_classification(admin_user, django_capture_on_commit_callbacks):
    from classifiers.actions.documents import do_assign_set

    project, _ = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    doc = Document.objects.filter(project=project, set="production").first()
    do_assign_set(admin_user, project, [doc.pk], "test")
    assert not Classification.objects.filter(document=doc).exists()


def test_label_policies_apply_and_follow_reclassification(admin_user, django_capture_on_commit_callbacks):
    project, first = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    label = do_create_label(admin_user, "Sport retention", "Keep 2 years", "#336699")
    with django_capture_on_commit_callbacks(execute=True):
        policy = do_create_policy(admin_user, project, label)
    matches = Classification.objects.filter(project=project, outcome="match")
    applied = AppliedLabel.objects.filter(policy=policy)
    assert set(applied.values_list("document_id", flat=True)) == set(
        matches.values_list("document_id", flat=True)
    )
    assert set(applied.values_list("model_version", flat=True)) == {first.pk}
    # A minimum score keeps the label to the surer matches.
    label2 = do_create_label(admin_user, "Sure sport")
    cut = sorted(matches.values_list("score", flat=True))[len(matches) // 2]
    with django_capture_on_commit_callbacks(execute=True):
        strict = do_create_policy(admin_user, project, label2, min_score=cut)
    sure = set(matches.filter(score__gte=cut).values_list("document_id", flat=True))
    assert set(AppliedLabel.objects.filter(policy=strict).values_list("document_id", flat=True)) == sure
    assert 0 < len(sure) < matches.count() or len(set(matches.values_list("score", flat=True))) == 1
    # Re-classification by a new version re-applies the labels with that version.
    second = train(project, admin_user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        do_deploy(admin_user, project, PRODUCTION_SLOT, second)
    assert set(AppliedLabel.objects.filter(policy=policy).values_list("model_version", flat=True)) == {
        second.pk
    }
    # Removing the policy removes what it applied.
    do_delete_policy(admin_user, policy)
    assert not AppliedLabel.objects.filter(label=label).exists()
    with pytest.raises(ActionError):
        do_create_label(admin_user, "sport RETENTION")  # names are unique, case-insensitively


def test_labels_need_an_admin_somewhere(tagger_user, admin_user, django_capture_on_commit_callbacks):
    with pytest.raises(ActionError):
        do_create_label(tagger_user, "Mine")
    with pytest.raises(ActionError):
        do_create_label(admin_user, "bad\x00name")


def test_export_of_classifications_and_labels(admin_user, django_capture_on_commit_callbacks):
    import csv
    import io

    from django.core.files.storage import default_storage

    from classifiers.actions.uploads import do_create_export

    project, version = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    label = do_create_label(admin_user, "Sport retention")
    with django_capture_on_commit_callbacks(execute=True):
        do_create_policy(admin_user, project, label)
        job = do_create_export(admin_user, project, "labels", {"outcome": "match", "classifier": project.slug})
    job.refresh_from_db()
    assert job.status == "done", job.error
    with default_storage.open(job.file.name) as f:
        rows = list(csv.DictReader(io.StringIO(f.read().decode())))
    matches = Classification.objects.filter(project=project, outcome="match")
    assert len(rows) == matches.count() > 0
    for row in rows:
        assert row["outcome"] == "match" and row["labels"] == "Sport retention"
        assert row["model_version"] == str(version.number) and "policy" in row["label_details"]
