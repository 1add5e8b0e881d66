"""django-q2 entry points: thin, idempotent (the ORM broker delivers at least once), ids only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def _project_of(model_name: str, pk: int) -> int | None:
    from classifiers import models

    model = getattr(models, model_name)
    return model.objects.filter(pk=pk).values_list("project_id", flat=True).first()


def _project_exists(project_id: int | None) -> bool:
    from classifiers.models import Project

    return project_id is not None and Project.objects.filter(pk=project_id).exists()


def for_project_object(model_name: str, pk: int, work: Callable[[int], Any]) -> Any:
    """Run ``work(pk)``; when the object's project is deleted before or while it runs, end
    quietly and remove whatever files the work wrote after the project's own files were
    deleted. A task for a project that still exists raises as usual (and is retried)."""
    project_id = _project_of(model_name, pk)
    if project_id is None:
        logger.info("%s %s no longer exists: nothing to do", model_name, pk)
        return None
    try:
        return work(pk)
    except Exception:
        try:
            gone = not _project_exists(project_id)
        except Exception:
            gone = False  # the database is away: let the task fail and be retried
        if not gone:
            raise
        logger.info("project %s was deleted while %s %s was processed; the task ends", project_id, model_name, pk)
        return None
    finally:
        try:
            if not _project_exists(project_id):
                from classifiers.actions.projects import remove_project_files

                remove_project_files(project_id)
        except Exception:
            logger.warning("could not check for files of deleted project %s", project_id, exc_info=True)


def process_upload_batch(batch_id: int) -> None:
    from classifiers.uploads import process_batch

    for_project_object("UploadBatch", batch_id, process_batch)


def run_export(export_id: int) -> None:
    from classifiers.exports import run_export_job

    for_project_object("ExportJob", export_id, run_export_job)


def enqueue(func: str, *args, training: bool = False) -> None:
    """Queue a task once the current transaction commits (a worker must see the rows)."""

    def send() -> None:
        kwargs = {"cluster": settings.STUDIO_TRAINING_QUEUE} if training else {}
        async_task(func, *args, task_name=f"{func.rsplit('.', 1)[-1]}:{':'.join(map(str, args))}", **kwargs)

    transaction.on_commit(send)


def train_project(run_id: int) -> None:
    from classifiers.training import execute

    for_project_object("TrainingRun", run_id, execute)


def analyse_model_version(version_id: int) -> None:
    from classifiers.analysis import analyse

    for_project_object("ModelVersion", version_id, analyse)


def reap_training_runs() -> int:
    from classifiers.training import reap_stale_runs

    return reap_stale_runs()


def score_test_items(version_id: int) -> None:
    from classifiers.scoring import score_test_items as score

    for_project_object("ModelVersion", version_id, score)


def classify_production(run_id: int) -> None:
    from classifiers.production import classify_run

    for_project_object("ClassificationRun", run_id, classify_run)


def apply_label_policy(policy_id: int) -> None:
    from classifiers.production import apply_policy

    for_project_object("LabelPolicy", policy_id, apply_policy)


def compare_versions(comparison_id: int) -> None:
    from classifiers.retraining import compute_comparison

    for_project_object("VersionComparison", comparison_id, compute_comparison)


def sweep_production() -> int:
    from classifiers.production import sweep

    return sweep()


def check_feedback_retrains() -> int:
    from classifiers.retraining import check_all_projects

    return check_all_projects()
