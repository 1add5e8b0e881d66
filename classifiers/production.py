"""Production items: classified in the background by the published version, labels applied
by the label policies, re-classified after every publish or rollback.

A ``ClassificationRun`` walks the project's production items in id order from its
``cursor``, skipping those the version has already answered; each chunk's classifications,
applied labels and the cursor are written in one transaction. So a run that is delivered
twice, or killed and delivered again, continues where it stopped and never writes an item
twice (classifications are upserts keyed by the item).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Substr
from django.utils import timezone

from classifiers import ml
from classifiers.explorer import forget_counts
from classifiers.models import (
    PRODUCTION_SLOT,
    AppliedLabel,
    Classification,
    ClassificationRun,
    Deployment,
    Document,
    DocumentSet,
    LabelPolicy,
    ModelVersion,
    Project,
)

logger = logging.getLogger(__name__)

CHUNK = 2000
# A running run whose heartbeat (written after every chunk, about a second) is older than
# this was abandoned by a dead worker: a redelivered task takes it over.
STALE_AFTER = timedelta(seconds=30)


def published_version(project: Project | int) -> ModelVersion | None:
    project_id = project if isinstance(project, int) else project.pk
    return (
        ModelVersion.objects.filter(
            pk__in=Deployment.objects.filter(project_id=project_id, name=PRODUCTION_SLOT).values(
                "model_version"
            )
        )
        .select_related("project")
        .first()
    )


def production_items(project: Project):
    return Document.objects.filter(project=project, set=DocumentSet.PRODUCTION, has_text=True)


def unclassified_items(project: Project, version: ModelVersion):
    """Production items the version has not answered yet."""
    done = Classification.objects.filter(document=OuterRef("pk"), model_version=version)
    return production_items(project).exclude(Exists(done))


# --- Starting runs ---------------------------------------------------------------------------------
def request_classification(project: Project, reason: str) -> ClassificationRun | None:
    """Queue a run of the published version over the items it has not answered (call inside
    a transaction; the task is sent on commit). A queued run for the same version is reused:
    it reads the items when it starts. Nothing published: nothing to do."""
    from classifiers.tasks import enqueue

    version = published_version(project)
    if version is None:
        return None
    waiting = ClassificationRun.objects.filter(
        project=project, model_version=version, state=ClassificationRun.State.QUEUED
    ).first()
    if waiting is not None:
        return waiting
    run = ClassificationRun.objects.create(project=project, model_version=version, reason=reason)
    enqueue("classifiers.tasks.classify_production", run.pk)
    return run


def latest_run(project: Project) -> ClassificationRun | None:
    return project.classification_runs.select_related("model_version").first()


# --- Running ---------------------------------------------------------------------------------------
def _claim(run_id: int) -> ClassificationRun | None:
    now = timezone.now()
    with transaction.atomic():
        run = ClassificationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state not in ClassificationRun.ACTIVE:
            return None  # gone, or finished by an earlier delivery
        if (
            run.state == ClassificationRun.State.RUNNING
            and run.heartbeat_at
            and now - run.heartbeat_at < STALE_AFTER
        ):
            return None  # another worker has it
        run.state = ClassificationRun.State.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.save(update_fields=["state", "started_at", "heartbeat_at"])
    return run


def _finish(run: ClassificationRun, state: str, error: str = "") -> None:
    ClassificationRun.objects.filter(pk=run.pk).update(
        state=state, finished_at=timezone.now(), heartbeat_at=timezone.now(), error=error[:2000]
    )


def classify_run(run_id: int) -> int:
    """Classify the run's items; returns how many this call classified."""
    from classifiers import serving

    run = _claim(run_id)
    if run is None:
        return 0
    project = run.project
    version = run.model_version
    if published_version(project) != version:
        _finish(run, ClassificationRun.State.SUPERSEDED)
        return 0
    try:
        serving.get_model(version)
    except serving.ModelUnavailable as exc:
        _finish(run, ClassificationRun.State.FAILED, str(exc))
        return 0
    remaining = unclassified_items(project, version).filter(id__gt=run.cursor).count()
    ClassificationRun.objects.filter(pk=run.pk).update(total=run.processed + remaining)
    done = 0
    policies = list(project.label_policies.select_related("label"))
    while True:
        rows = list(
            unclassified_items(project, version)
            .filter(id__gt=run.cursor)
            .order_by("id")
            .annotate(prefix=Substr("text", 1, settings.STUDIO_MODEL_PREFIX_CHARS))
            .values_list("id", "created_at", "prefix")[:CHUNK]
        )
        if not rows:
            break
        with transaction.atomic():
            current = ClassificationRun.objects.select_for_update().get(pk=run.pk)
            if current.state != ClassificationRun.State.RUNNING:
                return done  # cancelled by a project deletion or superseded
            if published_version(project) != version:
                _finish(run, ClassificationRun.State.SUPERSEDED)
                return done
            write_classifications(version, rows, policies)
            run.cursor = rows[-1][0]
            run.processed = current.processed + len(rows)
            ClassificationRun.objects.filter(pk=run.pk).update(
                cursor=run.cursor, processed=run.processed, heartbeat_at=timezone.now()
            )
        done += len(rows)
    _finish(run, ClassificationRun.State.DONE)
    return done


def answer_fields(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    """serving.classify's answer as a Classification's fields."""
    if kind == Project.Kind.TRAINABLE:
        outcome = result.get("match") or Classification.Outcome.NO_MATCH
        score = float(result.get("confidenceScore") or 0.0)
        labels = [ml.base.MATCH] if outcome == Classification.Outcome.MATCH else []
    else:
        outcome = Classification.Outcome.PREDICTED
        labels = [c["category"] for c in result["classes"]]
        scores = result["scores"]
        score = float(max((scores[n] for n in labels), default=max(scores.values(), default=0.0)))
    return {
        "outcome": outcome,
        "labels": labels,
        "classes_key": "".join(f"|{n}" for n in labels) + "|" if labels else "",
        "score": score,
        "scores": result["scores"],
    }


def write_classifications(
    version: ModelVersion, rows: list[tuple[int, Any, str]], policies: list[LabelPolicy]
) -> list[Classification]:
    """Classify (id, received_at, text) rows with the version and upsert their
    Classification and applied labels (inside the caller's transaction)."""
    from classifiers import serving

    project = version.project
    results = serving.classify(version, [serving.DocumentIn(str(i), t or "") for i, _, t in rows])
    now = timezone.now()
    objs = [
        Classification(
            document_id=doc_id,
            project=project,
            model_version=version,
            received_at=received,
            classified_at=now,
            **answer_fields(project.kind, result),
        )
        for (doc_id, received, _), result in zip(rows, results, strict=True)
    ]
    Classification.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["document"],
        update_fields=[
            "model_version",
            "outcome",
            "labels",
            "classes_key",
            "score",
            "scores",
            "classified_at",
        ],
    )
    apply_labels(objs, policies)
    forget_counts(project.pk)
    return objs


def apply_labels(classifications: Iterable[Classification], policies: list[LabelPolicy]) -> int:
    """Replace the policies' applied labels on these items with what the classifications say."""
    items = list(classifications)
    if not items:
        return 0
    ids = [c.document_id for c in items]
    AppliedLabel.objects.filter(document_id__in=ids, policy__in=policies).delete()
    if not policies:
        return 0
    now = timezone.now()
    rows = []
    for c in items:
        for policy in policies:
            value = policy.applies(c.outcome, c.labels, c.score, c.scores)
            if value is not None:
                rows.append(
                    AppliedLabel(
                        document_id=c.document_id,
                        project_id=c.project_id,
                        label_id=policy.label_id,
                        policy=policy,
                        model_version_id=c.model_version_id,
                        score=value,
                        applied_at=now,
                    )
                )
    AppliedLabel.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def apply_policy(policy_id: int) -> int:
    """(Re-)apply one policy to every classified item of its project (after it is created or
    changed); idempotent."""
    policy = LabelPolicy.objects.select_related("project").filter(pk=policy_id).first()
    if policy is None:
        return 0
    applied = 0
    cursor = 0
    while True:
        chunk = list(
            Classification.objects.filter(project=policy.project, document_id__gt=cursor).order_by(
                "document_id"
            )[:CHUNK]
        )
        if not chunk:
            break
        with transaction.atomic():
            if not LabelPolicy.objects.filter(pk=policy_id).exists():
                return applied
            applied += apply_labels(chunk, [policy])
        cursor = chunk[-1].document_id
    return applied


def forget_items(project: Project, document_ids: Iterable[int]) -> None:
    """Items that left the production set lose their classification and labels."""
    ids = list(document_ids)
    AppliedLabel.objects.filter(document_id__in=ids).delete()
    if Classification.objects.filter(project=project, document_id__in=ids).delete()[0]:
        forget_counts(project.pk)


def sweep() -> int:
    """Periodic safety net: restart abandoned runs and queue runs for projects whose items
    the published version has not all answered. Returns the runs (re)queued."""
    from classifiers.tasks import enqueue

    queued = 0
    stale = timezone.now() - STALE_AFTER
    for run in ClassificationRun.objects.filter(
        state=ClassificationRun.State.RUNNING, heartbeat_at__lt=stale
    ):
        with transaction.atomic():
            enqueue("classifiers.tasks.classify_production", run.pk)
        queued += 1
    for deployment in Deployment.objects.filter(name=PRODUCTION_SLOT).select_related(
        "project", "model_version"
    ):
        project = deployment.project
        if ClassificationRun.objects.filter(project=project, state__in=ClassificationRun.ACTIVE).exists():
            continue
        if unclassified_items(project, deployment.model_version).exists():
            with transaction.atomic():
                request_classification(project, "sweep")
            queued += 1
    return queued


def throughput(run: ClassificationRun) -> float | None:
    if not run.started_at or not run.processed:
        return None
    end = run.finished_at or run.heartbeat_at or timezone.now()
    seconds = max((end - run.started_at).total_seconds(), 1e-3)
    return run.processed / seconds
