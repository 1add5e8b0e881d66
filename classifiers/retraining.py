"""Feedback on production items, retraining from it, and the retrained-versus-published
comparison that decides whether an Admin re-publishes (Purview's flow, in seconds).

Nothing here changes the published version: a retrain makes a new version and a
comparison; only ``do_republish`` (an Admin's click) moves the production slot.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, FloatField, IntegerField, OuterRef, Value, When
from django.db.models.functions import Abs
from django.utils import timezone

from classifiers import ml
from classifiers.labels import final_labels
from classifiers.models import (
    Classification,
    Document,
    DocumentSet,
    Feedback,
    Lease,
    ModelVersion,
    Project,
    Review,
    TrainingRun,
    VersionComparison,
)
from classifiers.production import published_version
from classifiers.scoring import texts_for
from classifiers.search import day_start

logger = logging.getLogger(__name__)

# Runs that count as retraining from feedback: the automatic ones and "Retrain now".
RETRAIN_REASONS = ("feedback", "retrain")
MAX_DISAGREEMENTS = 500
PRODUCTION_SAMPLE = 2000  # recent production items also checked for disagreements


# --- The automatic retrain -------------------------------------------------------------------------
@dataclass
class RetrainStatus:
    new_feedback: int
    needed: int
    today: int
    per_day: int
    active_run: TrainingRun | None
    published: ModelVersion | None

    @property
    def due(self) -> bool:
        return (
            self.published is not None
            and self.active_run is None
            and self.new_feedback >= self.needed
            and self.today < self.per_day
        )

    @property
    def why(self) -> str:
        if self.published is None:
            return "Nothing is published yet: feedback starts with a published version."
        if self.active_run is not None:
            return "Re-training now."
        if self.new_feedback < self.needed:
            return (
                f"{self.new_feedback} of {self.needed} new feedback items before the next automatic retrain."
            )
        if self.today >= self.per_day:
            return (
                f"{self.new_feedback} new feedback items are waiting, but the project already retrained "
                f"{self.today} time{'s' if self.today != 1 else ''} today (at most {self.per_day} a day): "
                "it retrains tomorrow, or now with “Retrain now”."
            )
        return "Retraining is due."


def active_feedback(project: Project):
    return Feedback.objects.filter(project=project, withdrawn_at__isnull=True)


def retrain_status(project: Project) -> RetrainStatus:
    last = (
        TrainingRun.objects.filter(project=project, reason__in=RETRAIN_REASONS)
        .exclude(state__in=[TrainingRun.State.FAILED, TrainingRun.State.CANCELLED])
        .order_by("-created_at")
        .first()
    )
    feedback = active_feedback(project)
    if last is not None:
        feedback = feedback.filter(created_at__gt=last.created_at)
    return RetrainStatus(
        new_feedback=feedback.count(),
        needed=project.feedback_retrain_after,
        today=TrainingRun.objects.filter(project=project, reason="feedback", created_at__gte=day_start(timezone.localdate()))
        .exclude(state=TrainingRun.State.CANCELLED)
        .count(),
        per_day=project.retrains_per_day,
        active_run=project.training_runs.filter(state__in=TrainingRun.ACTIVE).first(),
        published=published_version(project),
    )


def maybe_retrain(project: Project) -> TrainingRun | None:
    """Start the automatic retrain when enough new feedback arrived and today's cap allows
    (inside the caller's transaction; the project row is locked so two reviewers' last
    answers start one run, not two)."""
    from classifiers.actions.training import do_request_training

    Project.objects.select_for_update().filter(pk=project.pk).first()
    status = retrain_status(project)
    if not status.due:
        return None
    run, _ = do_request_training(
        None, project, reason="feedback", options={"new_feedback": status.new_feedback}
    )
    return run


def check_all_projects() -> int:
    """Hourly: a project held back by the daily cap retrains once the day turns."""
    started = 0
    for project in Project.objects.filter(deployments__name="production").distinct():
        with transaction.atomic():
            if maybe_retrain(project) is not None:
                started += 1
    return started


# --- The feedback queue ----------------------------------------------------------------------------
def feedback_queue(project: Project, user: Any):
    """Production items without feedback and not leased to another reviewer."""
    now = timezone.now()
    taken = Lease.objects.filter(project=project, purpose="feedback", expires_at__gt=now).exclude(tagger=user)
    answered = Feedback.objects.filter(document=OuterRef("document_id"), withdrawn_at__isnull=True)
    return (
        Classification.objects.filter(project=project, document__set=DocumentSet.PRODUCTION)
        .exclude(Exists(answered))
        .exclude(document_id__in=taken.values("document_id"))
    )


def next_feedback_item(project: Project, user: Any) -> Classification | None:
    """Close matches first (they teach the most), then the items nearest the threshold; in
    single- and multi-label projects the least sure first. Leases the item to ``user``."""
    now = timezone.now()
    mine = (
        Lease.objects.filter(project=project, tagger=user, purpose="feedback", expires_at__gt=now)
        .values_list("document_id", flat=True)
        .first()
    )
    qs = feedback_queue(project, user).select_related("document", "model_version")
    if mine:
        own = qs.filter(document_id=mine).first()
        if own is not None:
            return own
    if project.kind == Project.Kind.TRAINABLE:
        version = published_version(project)
        threshold = version.threshold if version and version.threshold is not None else 0.5
        ordered = qs.annotate(
            first=Case(
                When(outcome=Classification.Outcome.CLOSE_MATCH, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            gap=Abs(F("score") - Value(threshold, output_field=FloatField())),
        ).order_by("first", "gap", "document_id")
    else:
        ordered = qs.order_by("score", "document_id")
    item = ordered.first()
    if item is not None:
        Lease.objects.update_or_create(
            document=item.document, tagger=user, purpose="feedback",
            defaults={"project": project, "expires_at": now + timedelta(minutes=10)},
        )  # fmt: skip
    return item


# --- The comparison ---------------------------------------------------------------------------------
def request_comparison(version: ModelVersion) -> VersionComparison | None:
    """After a retrain: compare the new version with the published one (inside a transaction)."""
    from classifiers.tasks import enqueue

    published = published_version(version.project)
    if published is None or published.pk == version.pk:
        return None
    comparison, created = VersionComparison.objects.get_or_create(
        project=version.project, retrained=version, published=published
    )
    if created:
        enqueue("classifiers.tasks.compare_versions", comparison.pk)
    return comparison


def latest_comparison(project: Project) -> VersionComparison | None:
    """The comparison of the newest version with what is published now."""
    published = published_version(project)
    if published is None:
        return None
    return (
        VersionComparison.objects.filter(
            project=project, published=published, retrained__number__gt=published.number
        )
        .select_related("retrained", "published", "decided_by")
        .order_by("-retrained__number")
        .first()
    )


def _answers(kind: str, results: list[dict[str, Any]]) -> list[list[str]]:
    if kind == Project.Kind.TRAINABLE:
        return [[ml.base.MATCH] if r.get("match") == ml.base.MATCH else [] for r in results]
    return [[c["category"] for c in r["classes"]] for r in results]


def comparison_items(project: Project, published: ModelVersion) -> dict[str, dict[int, list[str]]]:
    """The held-fixed items with their right answers: set name -> {document id: labels}."""
    feedback: dict[int, list[str]] = {}
    for f in active_feedback(project).select_related("project"):
        labels = f.labels
        if labels or project.kind == Project.Kind.MULTI_LABEL:
            feedback[f.document_id] = labels
    original: dict[int, list[str]] = {}
    if project.kind == Project.Kind.TRAINABLE:
        for doc_id, answer in (
            Review.objects.filter(project=project)
            .exclude(answer=Review.Answer.SKIP)
            .values_list("document_id", "answer")
        ):
            original[doc_id] = [answer]
    else:
        test_ids = published.snapshot.get("test_ids") or list(
            Document.objects.filter(project=project, set=DocumentSet.TEST).values_list("id", flat=True)
        )
        original = final_labels(project, test_ids)
    for doc_id in feedback:
        original.pop(doc_id, None)
    return {"feedback": feedback, "original": original}


def compute_comparison(comparison_id: int) -> VersionComparison | None:
    """Score the items with both versions and store figures, disagreements and the
    recommendation. Idempotent: a second delivery recomputes the same thing."""
    from classifiers import serving

    comparison = (
        VersionComparison.objects.select_related("project", "retrained", "published")
        .filter(pk=comparison_id)
        .first()
    )
    if comparison is None:
        return None
    project = comparison.project
    try:
        items = comparison_items(project, comparison.published)
        sample = list(
            Document.objects.filter(project=project, set=DocumentSet.PRODUCTION, has_text=True)
            .exclude(id__in=list(items["feedback"]))
            .order_by("-id")
            .values_list("id", flat=True)[:PRODUCTION_SAMPLE]
        )
        ids = sorted(set(items["feedback"]) | set(items["original"]) | set(sample))
        texts = texts_for(project, ids)
        ids = [i for i in ids if i in texts]
        docs = [serving.DocumentIn(str(i), texts[i] or "") for i in ids]
        first = _answers(project.kind, serving.classify(comparison.published, docs))
        second = _answers(project.kind, serving.classify(comparison.retrained, docs))
    except serving.ModelUnavailable as exc:
        VersionComparison.objects.filter(pk=comparison_id).update(
            state=VersionComparison.State.FAILED, error=str(exc), computed_at=timezone.now()
        )
        return comparison
    position = {doc_id: n for n, doc_id in enumerate(ids)}
    kind = ml.KIND_BINARY if project.kind == Project.Kind.TRAINABLE else project.kind
    classes = list(dict.fromkeys([*comparison.published.classes, *comparison.retrained.classes]))
    figures: dict[str, Any] = {}
    for name, truth in (*items.items(), ("all", {**items["original"], **items["feedback"]})):
        known = [i for i in truth if i in position]
        figures[name] = {
            "published": ml.set_figures(
                kind, classes, [truth[i] for i in known], [first[position[i]] for i in known]
            ),
            "retrained": ml.set_figures(
                kind, classes, [truth[i] for i in known], [second[position[i]] for i in known]
            ),
        }
    if figures["all"]["published"]["n"]:
        pick = ("accuracy", "f1")
        recommendation = ml.recommend_republish(
            {k: figures["all"]["published"][k] for k in pick}, {k: figures["all"]["retrained"][k] for k in pick}
        )
    else:
        recommendation = {
            "action": "more_feedback",
            "reason": "No item with a known answer yet: give feedback first.",
        }
    truth_of = {**items["original"], **items["feedback"]}
    where = {i: "feedback" for i in items["feedback"]} | {i: "original" for i in items["original"]}
    rows = []
    for n in ml.disagreements(kind, ids, first, second)[:MAX_DISAGREEMENTS]:
        doc_id = ids[n]
        rows.append(
            {
                "document_id": doc_id,
                "set": where.get(doc_id, "production"),
                "published": first[n],
                "retrained": second[n],
                "truth": truth_of.get(doc_id),
            }
        )
    VersionComparison.objects.filter(pk=comparison_id).update(
        state=VersionComparison.State.READY,
        figures=figures,
        disagreements=rows,
        recommendation=recommendation,
        feedback_count=active_feedback(project).count(),
        computed_at=timezone.now(),
        error="",
    )
    comparison.refresh_from_db()
    return comparison


def blind_order(comparison: VersionComparison, document_id: int) -> bool:
    """True when the retrained version's answer is shown first (a stable coin per item, so
    the reviewer cannot learn which side is which)."""
    digest = hashlib.sha256(f"{comparison.pk}:{document_id}:{settings.SECRET_KEY}".encode()).digest()
    return digest[0] % 2 == 1


def is_retraining(project: Project) -> bool:
    return (
        project.training_runs.filter(state__in=TrainingRun.ACTIVE, reason__in=RETRAIN_REASONS).exists()
        and published_version(project) is not None
    )


def history(project: Project) -> list[dict[str, Any]]:
    """Published versions, newest first: each publish, re-publish and rollback with its
    version's figures (they stay attached to the version)."""
    from classifiers.models import DeploymentEvent

    events = (
        DeploymentEvent.objects.filter(project=project, slot="production")
        .select_related("to_version", "from_version", "actor")
        .order_by("-created_at", "-id")
    )
    comparisons = {
        c.retrained_id: c for c in VersionComparison.objects.filter(project=project).exclude(state="failed")
    }
    current = published_version(project)
    rows = []
    for event in events:
        version = event.to_version
        rows.append(
            {
                "event": event,
                "version": version,
                "current": version is not None and current is not None and version.pk == current.pk,
                "comparison": comparisons.get(version.pk) if version else None,
            }
        )
    return rows


__all__ = [
    "RetrainStatus",
    "blind_order",
    "compute_comparison",
    "history",
    "maybe_retrain",
    "next_feedback_item",
    "request_comparison",
    "retrain_status",
]
