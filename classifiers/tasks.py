"""django-q2 entry points: thin, idempotent (the ORM broker delivers at least once), ids only."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task


def process_upload_batch(batch_id: int) -> None:
    from classifiers.uploads import process_batch

    process_batch(batch_id)


def run_export(export_id: int) -> None:
    from classifiers.exports import run_export_job

    run_export_job(export_id)


def enqueue(func: str, *args, training: bool = False) -> None:
    """Queue a task once the current transaction commits (a worker must see the rows)."""

    def send() -> None:
        kwargs = {"cluster": settings.STUDIO_TRAINING_QUEUE} if training else {}
        async_task(func, *args, task_name=f"{func.rsplit('.', 1)[-1]}:{':'.join(map(str, args))}", **kwargs)

    transaction.on_commit(send)


def train_project(run_id: int) -> None:
    from classifiers.training import execute

    execute(run_id)


def analyse_model_version(version_id: int) -> None:
    from classifiers.analysis import analyse

    analyse(version_id)


def reap_training_runs() -> int:
    from classifiers.training import reap_stale_runs

    return reap_stale_runs()


def score_test_items(version_id: int) -> None:
    from classifiers.scoring import score_test_items as score

    score(version_id)
