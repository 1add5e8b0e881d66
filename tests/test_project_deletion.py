"""Deleting a project: typed confirmation, everything goes (rows and files), the audit entry
stays, and background tasks that later find the project gone end quietly."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from classifiers import ml
from classifiers.actions import ActionError, do_delete_project
from classifiers.actions.deployments import do_create_token, do_deploy
from classifiers.actions.training import do_request_training
from classifiers.actions.uploads import do_create_export, do_create_upload_batch
from classifiers.api.jobs import run_classify_job
from classifiers.models import (
    ApiToken,
    ClassifyJob,
    Deployment,
    Document,
    ExportJob,
    ModelVersion,
    Project,
    Tag,
    TrainingRun,
    UploadBatch,
)
from classifiers.tasks import (
    analyse_model_version,
    process_upload_batch,
    run_export,
    score_test_items,
    train_project,
)
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.training_data import tagged_project
from tests.uploads import txt


def project_folder(project_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / f"projects/{project_id}"


@pytest.fixture
def trained(project, admin_user, django_capture_on_commit_callbacks):
    """A project with tagged documents, an uploaded original, a trained and deployed version,
    an API token and a finished export: something of everything, with files."""
    tagged_project(project, admin_user, per_class=10)
    with django_capture_on_commit_callbacks(execute=True):
        do_create_upload_batch(admin_user, project, [txt("memo.txt", "An uploaded memo about budgets.")], "training")
        run, _ = do_request_training(admin_user, project)
        do_create_export(admin_user, project, "jsonl", {})
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    version = ModelVersion.objects.get(project=project)
    do_deploy(admin_user, project, "production", version)
    do_create_token(admin_user, project, "CI", ["classify"])
    return project


def test_wrong_name_is_refused_and_nothing_is_deleted(project, admin_user):
    for typed in ["", "contracts", "Contracts v2", "Secret HR cases"]:
        with pytest.raises(ActionError, match="exactly"):
            do_delete_project(admin_user, project, typed)
    assert Project.objects.filter(pk=project.pk).exists()
    assert not AuditEntry.objects.filter(action="project.delete").exists()


def test_only_admins_may_delete(project, tagger_user, viewer_user, outsider_user):
    for user in (tagger_user, viewer_user, outsider_user):
        with pytest.raises(ActionError, match="Admin role"):
            do_delete_project(user, project, project.name)
    assert Project.objects.filter(pk=project.pk).exists()


def test_everything_and_every_file_goes_and_the_audit_entry_stays(
    trained, admin_user, outsider_user, django_capture_on_commit_callbacks
):
    project = trained
    pk = project.pk
    other = make_project(outsider_user, name="Other team")
    default_storage.save(f"projects/{other.pk}/originals/aa/keep", ContentFile(b"theirs"))
    assert ExportJob.objects.get(project=project).status == "done"
    assert any(project_folder(pk).joinpath(part).exists() for part in ("originals", "models", "exports"))
    before = AuditEntry.objects.filter(project=project).count()

    with django_capture_on_commit_callbacks(execute=True):
        counts = do_delete_project(admin_user, project, "Contracts")

    assert counts["documents"] == 31 and counts["model_versions"] == 1 and counts["deployments"] == 1
    assert not Project.objects.filter(pk=pk).exists()
    for model in (Document, Tag, ModelVersion, Deployment, ApiToken, TrainingRun, UploadBatch, ExportJob):
        assert not model.objects.filter(project_id=pk).exists(), model
    assert not project_folder(pk).exists()
    assert default_storage.exists(f"projects/{other.pk}/originals/aa/keep")  # other projects untouched

    entry = AuditEntry.objects.get(action="project.delete")
    assert entry.project_id is None and entry.project_name == "Contracts" and entry.actor_name == "alice"
    assert entry.payload["slug"] == "contracts" and entry.payload["id"] == pk
    assert entry.payload["documents"] == 31 and entry.payload["deployments"] == 1
    # The project's earlier history stays too, by name.
    assert AuditEntry.objects.filter(project_name="Contracts").count() == before + 1


def test_files_stay_when_the_deletion_rolls_back(trained, admin_user, monkeypatch):
    from classifiers.actions import projects

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(projects.Project, "delete", fail)
    with pytest.raises(RuntimeError):
        do_delete_project(admin_user, trained, "Contracts")
    assert Project.objects.filter(pk=trained.pk).exists()
    assert Document.objects.filter(project=trained).count() == 31
    assert project_folder(trained.pk).exists()
    assert not AuditEntry.objects.filter(action="project.delete").exists()


def test_queued_tasks_of_a_deleted_project_end_quietly(
    trained, admin_user, django_capture_on_commit_callbacks, caplog
):
    project = trained
    pk = project.pk
    # Work queued but not yet picked up by a worker when the project goes.
    batch = do_create_upload_batch(admin_user, project, [txt("late.txt", "arrives late")], "training")
    export = do_create_export(admin_user, project, "csv", {})
    version = ModelVersion.objects.get(project=project)
    run = TrainingRun.objects.create(project=project, requested_by=admin_user)
    job = ClassifyJob.objects.create(
        project=project, job_id="6f1c2b9e-1d1a-4a50-9c39-0d4a1c6b7e11", slot="production",
        model_version=version, request={"documents": [{"id": "1", "text": "budget"}]}, total=1,
        expires_at="2999-01-01T00:00:00Z",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_project(admin_user, project, "Contracts")

    # Each task now meets an id whose row is gone: no exception, no row, no file.
    process_upload_batch(batch.pk)
    run_export(export.pk)
    train_project(run.pk)
    analyse_model_version(version.pk)
    score_test_items(version.pk)
    run_classify_job(job.pk)
    assert not project_folder(pk).exists()
    assert not Document.objects.filter(project_id=pk).exists()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_a_training_run_deleted_while_it_fits_ends_quietly(
    project, admin_user, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    tagged_project(project, admin_user, per_class=10)
    pk = project.pk
    real_train = ml.train

    def train_while_the_admin_deletes(*args, should_cancel=None, **kwargs):
        # The Admin deletes the project while the worker is fitting.
        do_delete_project(admin_user, Project.objects.get(pk=pk), "Contracts")
        return real_train(*args, should_cancel=should_cancel, **kwargs)

    monkeypatch.setattr(ml, "train", train_while_the_admin_deletes)
    with django_capture_on_commit_callbacks(execute=True):
        do_request_training(admin_user, project)  # runs the task (sync mode) after the commit

    assert not Project.objects.filter(pk=pk).exists()
    assert not ModelVersion.objects.filter(project_id=pk).exists()
    assert not project_folder(pk).exists()  # no artifact left behind
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_a_finished_version_stored_just_before_the_deletion_is_removed_with_it(
    project, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    """The other order: the run stores its version, then the project goes: the artifact the
    run wrote goes with the project's folder."""
    tagged_project(project, admin_user, per_class=10)
    with django_capture_on_commit_callbacks(execute=True):
        do_request_training(admin_user, project)
    version = ModelVersion.objects.get(project=project)
    assert default_storage.exists(version.artifact)
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_project(admin_user, project, "Contracts")
    assert not default_storage.exists(version.artifact)


@pytest.mark.django_db(transaction=True)
def test_an_upload_processed_while_its_project_is_deleted_ends_quietly(admin_user, monkeypatch, caplog):
    """Real commits (a transactional test): the batch's documents would point at a deleted
    project; the database refuses them, and the task ends without an error or leftovers."""
    from classifiers import uploads

    project = make_project(admin_user)
    pk = project.pk
    real_prepare = uploads.BatchProcessor.prepare

    def prepare_while_the_admin_deletes(self, item):
        # Extraction runs outside any transaction; the deletion commits meanwhile.
        if Project.objects.filter(pk=pk).exists():
            do_delete_project(admin_user, Project.objects.get(pk=pk), "Contracts")
        return real_prepare(self, item)

    monkeypatch.setattr(uploads.BatchProcessor, "prepare", prepare_while_the_admin_deletes)
    # The task runs at the commit (sync mode); a task that raised would raise here.
    batch = do_create_upload_batch(
        admin_user, project, [txt("a.txt", "first memo"), txt("b.txt", "second memo")], "training"
    )
    process_upload_batch(batch.pk)  # a second delivery: nothing to do

    assert not Project.objects.filter(pk=pk).exists()
    assert not Document.objects.filter(project_id=pk).exists()
    assert not project_folder(pk).exists()  # the originals it stored went too
    assert AuditEntry.objects.filter(action="project.delete", project_name="Contracts").exists()


@pytest.mark.parametrize(
    "task",
    [
        "process_upload_batch", "run_export", "train_project", "analyse_model_version", "score_test_items",
        "classify_production", "apply_label_policy", "compare_versions",
    ],
)  # fmt: skip
def test_every_task_taking_an_id_of_a_deleted_object_ends_quietly(db, task, caplog):
    from classifiers import tasks

    getattr(tasks, task)(987654)  # no such row (deleted with its project): nothing happens
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
