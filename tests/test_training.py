"""Training runs through the django-q2 task (sync mode): one version per run, always."""

import pytest
from django.utils import timezone

from classifiers import ml, training
from classifiers.actions.training import do_cancel_training, do_request_training
from classifiers.analysis import ModelUnavailable, load_version_model
from classifiers.models import Document, ModelVersion, Prediction, TrainingRun, VersionAnalysis
from classifiers.tasks import train_project
from studio.models import AuditEntry
from tests.training_data import tagged_project


@pytest.fixture
def tagged(project, admin_user):
    tagged_project(project, admin_user)
    return project


def request(project, user, capture):
    with capture(execute=True):
        run, _created = do_request_training(user, project)
    run.refresh_from_db()
    return run


def test_full_run(tagged, admin_user, django_capture_on_commit_callbacks):
    run = request(tagged, admin_user, django_capture_on_commit_callbacks)
    assert run.state == "succeeded", run.error
    version = ModelVersion.objects.get(training_run=run)
    assert version.number == 1 and version.kind == "single_label"
    assert set(version.classes) == {"finance", "sport", "tech"}
    # No test set existed: one was drawn (20%, stratified) and kept in the test set.
    assert Document.objects.filter(project=tagged, set="test").count() == version.test_size == 12
    assert version.metrics["macro"]["f1"] > 0.8
    assert set(version.metrics["per_class"]) == {"finance", "sport", "tech"}
    assert version.snapshot["tags_sha256"] and version.library_versions["scikit-learn"]
    assert (
        Prediction.objects.filter(model_version=version, outcome__in=["correct", "wrong", "partial"]).count()
        == 12
    )
    assert load_version_model(version).classes == version.classes
    assert VersionAnalysis.objects.get(model_version=version).state == "done"
    actions = set(AuditEntry.objects.filter(project=tagged).values_list("action", flat=True))
    assert {"training.request", "training.succeed"} <= actions
    assert any("split" in a for a in actions), actions


def test_second_delivery_makes_no_second_version(tagged, admin_user, django_capture_on_commit_callbacks):
    run = request(tagged, admin_user, django_capture_on_commit_callbacks)
    train_project(run.pk)
    TrainingRun.objects.filter(pk=run.pk).update(state="running")  # as if the ack was lost
    train_project(run.pk)
    assert ModelVersion.objects.filter(project=tagged).count() == 1
    run.refresh_from_db()
    assert run.state == "succeeded"


def test_worker_killed_midway_then_reaped(
    tagged, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    """The worker dies after writing the artifact, before the version row: no version; the
    reaper queues the run again and it ends with exactly one version."""
    real_save = ml.save_model

    def dying_save(model, path):
        real_save(model, path)
        raise SystemExit("worker killed")  # BaseException: escapes like a dying process

    monkeypatch.setattr(ml, "save_model", dying_save)
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        do_request_training(admin_user, tagged)
    run = TrainingRun.objects.get()
    assert run.state == "running" and not ModelVersion.objects.exists()
    monkeypatch.setattr(ml, "save_model", real_save)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - training.STALE_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert training.reap_stale_runs() == 1
    run.refresh_from_db()
    assert run.state == "succeeded" and run.attempts == 2
    assert ModelVersion.objects.filter(project=tagged).count() == 1
    assert AuditEntry.objects.filter(action="training.requeue").exists()


def test_reaper_gives_up_after_two_attempts(tagged, admin_user):
    run = TrainingRun.objects.create(
        project=tagged, requested_by=admin_user, state="running", attempts=2,
        heartbeat_at=timezone.now() - training.STALE_AFTER * 2,
    )  # fmt: skip
    assert training.reap_stale_runs() == 1
    run.refresh_from_db()
    assert run.state == "failed" and "worker stopped" in run.error


def test_cancel_while_running(tagged, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    real_train = ml.train

    def train_after_cancel_button(*args, should_cancel=None, **kwargs):
        # The Admin presses Cancel while the run is fitting: the engine polls should_cancel.
        TrainingRun.objects.update(cancel_requested=True)
        if should_cancel():
            raise ml.TrainingCancelled()
        return real_train(*args, should_cancel=should_cancel, **kwargs)

    monkeypatch.setattr(ml, "train", train_after_cancel_button)
    run = request(tagged, admin_user, django_capture_on_commit_callbacks)
    assert run.state == "cancelled" and not ModelVersion.objects.exists()
    assert AuditEntry.objects.filter(action="training.cancelled").exists()


def test_cancel_queued_run(tagged, admin_user):
    run, _ = do_request_training(admin_user, tagged)  # on_commit never fires: stays queued
    do_cancel_training(admin_user, run)
    run.refresh_from_db()
    assert run.state == "cancelled"
    train_project(run.pk)  # a late delivery does nothing
    assert not ModelVersion.objects.exists()


def test_second_request_joins_the_waiting_run(tagged, admin_user):
    first, created = do_request_training(admin_user, tagged)
    second, created_again = do_request_training(admin_user, tagged)
    assert created and not created_again and first == second


def test_engine_error_fails_the_run_with_a_message(
    tagged, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ValueError("the data broke it")

    monkeypatch.setattr(ml, "train", broken)
    run = request(tagged, admin_user, django_capture_on_commit_callbacks)
    assert run.state == "failed" and "the data broke it" in run.error and "Traceback" in run.traceback


def test_too_little_data_is_explained(project, admin_user, django_capture_on_commit_callbacks):
    tagged_project(project, admin_user, per_class=2, classes=("finance",))
    assert training.problems(project)
    run = request(project, admin_user, django_capture_on_commit_callbacks)
    assert run.state == "failed" and "Tag at least 10 documents" in run.error


def test_tampered_artifact_is_refused(tagged, admin_user, django_capture_on_commit_callbacks, settings):
    run = request(tagged, admin_user, django_capture_on_commit_callbacks)
    version = ModelVersion.objects.get(training_run=run)
    path = settings.MEDIA_ROOT / version.artifact
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        load_version_model(version)


def test_versions_are_immutable(tagged, admin_user, django_capture_on_commit_callbacks):
    request(tagged, admin_user, django_capture_on_commit_callbacks)
    version = ModelVersion.objects.get()
    version.metrics = {"macro": {"f1": 1.0}}
    with pytest.raises(TypeError):
        version.save()


def test_multi_label_and_trainable(admin_user, django_capture_on_commit_callbacks):
    from classifiers.models import Tag
    from tests.conftest import make_project

    multi = make_project(admin_user, name="Multi", kind="multi_label")
    objs, docs = tagged_project(multi, admin_user)
    for doc in docs[::3]:  # some documents get a second class
        Tag.objects.get_or_create(project=multi, document=doc, tag_class=objs["tech"], tagger=admin_user)
    run = request(multi, admin_user, django_capture_on_commit_callbacks)
    assert run.state == "succeeded", run.error
    assert "threshold_curves" in ModelVersion.objects.get(project=multi).metrics
