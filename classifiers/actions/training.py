"""Training runs and model versions: request, cancel, delete."""

from __future__ import annotations

import contextlib

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction

from classifiers.actions.base import ActionError
from classifiers.models import ModelVersion, Project, TrainingRun
from classifiers.tasks import enqueue
from studio.audit import log_action


def do_request_training(
    actor: AbstractBaseUser | None, project: Project, *, reason: str = "manual", options: dict | None = None
) -> tuple[TrainingRun, bool]:
    """Queue a run. Returns (run, created): a run already waiting is returned instead, since
    it reads the data when it starts and so already includes the newest tags."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        waiting = TrainingRun.objects.filter(project=project, state=TrainingRun.State.QUEUED).first()
        if waiting is not None:
            return waiting, False
        run = TrainingRun.objects.create(
            project=project, requested_by=actor, reason=reason, options=options or {}
        )
        log_action(actor, "training.request", run, payload={"reason": reason, **(options or {})})
        enqueue("classifiers.tasks.train_project", run.pk, training=True)
    return run, True


def do_cancel_training(actor: AbstractBaseUser, run: TrainingRun) -> TrainingRun:
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if not run.is_active:
            raise ActionError("This run has already ended.")
        if run.state == TrainingRun.State.QUEUED:
            run.state = TrainingRun.State.CANCELLED
            run.stage = "Cancelled before it started"
            run.cancel_requested = True
            run.save(update_fields=["state", "stage", "cancel_requested"])
        else:
            # The worker checks this flag between stages and stops cleanly.
            run.cancel_requested = True
            run.stage = "Cancelling…"
            run.save(update_fields=["cancel_requested", "stage"])
        log_action(actor, "training.cancel", run, payload={"state": run.state})
    return run


def version_in_use(version: ModelVersion) -> str:
    """Why a version may not be deleted ('' when it may)."""
    for check in USE_CHECKS:
        reason = check(version)
        if reason:
            return reason
    return ""


# Later features (deployments, publishing) register what keeps a version in use.
USE_CHECKS: list = []


def do_delete_model_version(actor: AbstractBaseUser, version: ModelVersion) -> None:
    reason = version_in_use(version)
    if reason:
        raise ActionError(f"Version {version.number} cannot be deleted: {reason}")
    artifact, snapshot = version.artifact, version.snapshot.get("file", "")
    with transaction.atomic():
        log_action(actor, "model_version.delete", version, payload={"number": version.number})
        # A threshold change makes a version that shares its artifact: keep files still in use.
        shared = ModelVersion.objects.filter(artifact=artifact).exclude(pk=version.pk).exists()
        version.delete()
    if shared:
        return

    def remove_files() -> None:
        for name in (artifact, snapshot):
            if name:
                with contextlib.suppress(OSError):
                    default_storage.delete(name)

    transaction.on_commit(remove_files)
