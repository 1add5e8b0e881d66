"""Trainable classifiers: review answers, publishing, the decision threshold."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max

from classifiers.actions.base import ActionError
from classifiers.models import (
    PRODUCTION_SLOT,
    Document,
    DocumentSet,
    Lease,
    ModelVersion,
    Prediction,
    Project,
    Review,
)
from classifiers.trainable import BATCH_SIZE, current_batch, latest_version, publishable, review_figures
from studio.audit import log_action


def do_review(
    actor: AbstractBaseUser,
    project: Project,
    document: Document,
    answer: str,
    *,
    corrected: list[str] | None = None,
) -> tuple[Review, bool]:
    """Record a reviewer's answer on a test item. Returns (review, retrain_started): every
    30th answer closes a batch and retrains on seeds plus everything reviewed so far."""
    if answer not in Review.Answer.values:
        raise ActionError("Answer Match, Not a match or Skip.")
    if document.project_id != project.pk or document.set != DocumentSet.TEST:
        raise ActionError("Only the project's test items are reviewed.")
    version = latest_version(project)
    prediction = (
        Prediction.objects.filter(model_version=version, document=document).first() if version else None
    )
    retrain = False
    try:
        with transaction.atomic():
            batch = current_batch(project)
            review = Review.objects.create(
                project=project,
                document=document,
                model_version=version,
                reviewer=actor,
                answer=answer,
                predicted=prediction.labels if prediction else [],
                score=prediction.top_score if prediction else None,
                corrected=corrected or [],
                batch=batch,
            )
            Lease.objects.filter(document=document, tagger=actor, purpose="review").delete()
            log_action(
                actor,
                "review.answer",
                document,
                payload={
                    "answer": answer,
                    "predicted": review.predicted,
                    "score": review.score,
                    "version": version.number if version else None,
                    "batch": batch,
                },
            )
            answered = Review.objects.filter(project=project).exclude(answer=Review.Answer.SKIP).count()
            if answer != Review.Answer.SKIP and answered % BATCH_SIZE == 0:
                from classifiers.actions.training import do_request_training

                do_request_training(None, project, reason="review", options={"after_batch": batch})
                retrain = True
    except IntegrityError:
        raise ActionError("Someone has already reviewed this item; here is the next one.") from None
    return review, retrain


def do_publish(
    actor: AbstractBaseUser, project: Project, version: ModelVersion | None = None
) -> ModelVersion:
    """Put a version in the production slot, once the review figures allow it."""
    from classifiers.actions.deployments import do_deploy

    version = version or latest_version(project)
    if version is None or version.project_id != project.pk:
        raise ActionError("There is no model version to publish.")
    ok, why = publishable(review_figures(project))
    if not ok:
        raise ActionError(f"Not ready to publish: {why}")
    with transaction.atomic():
        do_deploy(actor, project, PRODUCTION_SLOT, version)
        log_action(actor, "classifier.publish", version, payload={"version": version.number})
    return version


def do_set_threshold(
    actor: AbstractBaseUser, version: ModelVersion, threshold: float, close_match_lower: float | None
) -> ModelVersion:
    """A new threshold is a new version (versions are immutable): the same artifact, the
    new decision threshold and close-match lower bound."""
    if not 0.0 < threshold < 1.0:
        raise ActionError("The threshold is a score between 0 and 1.")
    if close_match_lower is not None and not 0.0 <= close_match_lower <= threshold:
        raise ActionError("The close-match lower bound must lie between 0 and the threshold.")
    project = version.project
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        number = (ModelVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        params = {
            **version.params,
            "threshold": threshold,
            "close_match_lower": close_match_lower,
            "derived_from": version.number,
            "change": "decision threshold",
        }
        new = ModelVersion.objects.create(
            project=project,
            number=number,
            training_run=None,
            created_by=actor,
            kind=version.kind,
            classes=version.classes,
            schema_version=version.schema_version,
            artifact=version.artifact,
            artifact_sha256=version.artifact_sha256,
            artifact_size=version.artifact_size,
            snapshot=version.snapshot,
            params=params,
            library_versions=version.library_versions,
            train_size=version.train_size,
            test_size=version.test_size,
            duration_seconds=0.0,
            peak_memory_mb=0.0,
            metrics=version.metrics,
            threshold=threshold,
            close_match_lower=close_match_lower,
        )
        log_action(
            actor,
            "model_version.threshold",
            new,
            payload={
                "from_version": version.number,
                "threshold": threshold,
                "close_match_lower": close_match_lower,
            },
        )
    from classifiers.tasks import enqueue

    enqueue("classifiers.tasks.score_test_items", new.pk)
    return new
