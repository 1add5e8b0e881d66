"""Trainable classifiers (Microsoft Purview's flow): seed -> train -> test items -> review in
batches of 30 (a retrain after each) -> publish.

This module works out where a project stands in that flow, what trains it, which test item
a reviewer sees next, and the review figures. State changes live in actions/trainable.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, FloatField, Q
from django.db.models.functions import Abs, Cast, Coalesce, Substr
from django.utils import timezone

from classifiers import ml
from classifiers.models import (
    Document,
    DocumentSet,
    Lease,
    ModelVersion,
    Prediction,
    Project,
    Review,
    TrainingRun,
)
from classifiers.production import published_version

BATCH_SIZE = 30
LEASE = timedelta(minutes=10)


def min_seeds() -> int:
    return settings.STUDIO_SEED_MIN


def max_seeds() -> int:
    return settings.STUDIO_SEED_MAX


def publish_min_reviews() -> int:
    return settings.STUDIO_PUBLISH_MIN_REVIEWS


def stability_margin() -> float:
    return settings.STUDIO_PUBLISH_STABILITY_MARGIN


# --- Training data --------------------------------------------------------------------------------
@dataclass
class SeedData:
    positives: list[str] = field(default_factory=list)
    positive_ids: list[int] = field(default_factory=list)
    left_out_ids: list[int] = field(default_factory=list)  # seeds beyond the 500 most recent
    negatives: list[str] = field(default_factory=list)
    negative_ids: list[int] = field(default_factory=list)
    background: list[str] = field(default_factory=list)
    background_ids: list[int] = field(default_factory=list)
    background_source: str = ""
    reviewed: list[tuple[str, bool]] = field(default_factory=list)  # tagged matches, then reviews
    reviewed_ids: list[int] = field(default_factory=list)
    extra_positive_ids: list[int] = field(default_factory=list)  # training-set documents tagged match
    feedback_ids: list[int] = field(default_factory=list)  # production items with feedback (in reviewed)

    def snapshot(self) -> dict[str, Any]:
        import hashlib
        import json

        payload = {
            "positive_ids": self.positive_ids,
            "negative_ids": self.negative_ids,
            "background_ids": self.background_ids,
            "tagged_positive_ids": self.extra_positive_ids,
            "feedback_ids": self.feedback_ids,
            "reviewed": [
                [i, m]
                for i, (_t, m) in zip(
                    self.reviewed_ids, self.reviewed[len(self.extra_positive_ids) :], strict=True
                )
            ],
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return {
            **payload,
            "train_ids": self.positive_ids + self.extra_positive_ids + self.negative_ids + self.reviewed_ids,
            "test_ids": [],
            "tags_sha256": digest,
            "split": f"seed positives, {self.background_source or 'no background'}, reviewed test items",
        }


def seed_documents(project: Project):
    """The 500 most recently created seeds (the file's own created time, else upload time)."""
    return (
        Document.objects.filter(project=project, set=DocumentSet.SEED, has_text=True)
        .annotate(when=Coalesce("file_created", "created_at"))
        .order_by("-when", "-id")
    )


def _texts(qs, limit: int | None = None) -> list[tuple[int, str]]:
    prefix = settings.STUDIO_MODEL_PREFIX_CHARS
    rows = qs.annotate(prefix=Substr("text", 1, prefix)).values_list("id", "prefix")
    return list(rows[:limit] if limit else rows)


def gather_seed(project: Project) -> SeedData:
    data = SeedData()
    seeds = _texts(seed_documents(project))
    data.positive_ids = [i for i, _ in seeds[: max_seeds()]]
    data.positives = [t for _, t in seeds[: max_seeds()]]
    data.left_out_ids = [i for i, _ in seeds[max_seeds() :]]
    negatives = _texts(Document.objects.filter(project=project, set=DocumentSet.NEGATIVE, has_text=True))
    data.negative_ids = [i for i, _ in negatives]
    data.negatives = [t for _, t in negatives]
    # Tagged examples in the training set (the tagging studio's m / n) join either side.
    from classifiers.labels import MATCH, final_labels

    tagged = final_labels(
        project, Document.objects.filter(project=project, set=DocumentSet.TRAINING).values_list("id", flat=True)
    )
    for doc_id, text in _texts(Document.objects.filter(id__in=list(tagged), has_text=True).order_by("id")):
        if tagged[doc_id] == [MATCH]:
            data.extra_positive_ids.append(doc_id)
            data.reviewed.append((text, True))
        else:
            data.negative_ids.append(doc_id)
            data.negatives.append(text)
    reviews = dict(
        Review.objects.filter(project=project)
        .exclude(answer=Review.Answer.SKIP)
        .values_list("document_id", "answer")
    )
    # Feedback on production items (match / not a match) teaches like a review does.
    from classifiers.models import Feedback

    feedback = dict(
        Feedback.objects.filter(project=project, withdrawn_at__isnull=True)
        .exclude(document_id__in=list(reviews))
        .values_list("document_id", "answer")
    )
    reviews.update(feedback)
    reviewed = _texts(Document.objects.filter(id__in=list(reviews)).order_by("id"))
    data.reviewed_ids = [i for i, _ in reviewed]
    data.reviewed += [(t, reviews[i] == Review.Answer.MATCH) for i, t in reviewed]
    data.feedback_ids = sorted(i for i, _ in reviewed if i in feedback)
    # Positive-unlabelled learning needs unlabelled documents of the organisation's usual
    # kind: the background collection, else production items, else the unreviewed test items.
    for source, label in (
        (DocumentSet.BACKGROUND, "the background collection"),
        (DocumentSet.PRODUCTION, "production items as background"),
        (DocumentSet.TEST, "unreviewed test items as background"),
    ):
        qs = Document.objects.filter(project=project, set=source, has_text=True).exclude(id__in=list(reviews))
        rows = _texts(qs.order_by("id"), limit=20_000)
        if rows:
            data.background_ids = [i for i, _ in rows]
            data.background = [t for _, t in rows]
            data.background_source = label
            break
    return data


def seed_problems(project: Project, data: SeedData | None = None) -> list[str]:
    data = data or gather_seed(project)
    found = []
    n = len(data.positive_ids)
    if n < min_seeds():
        found.append(f"Add at least {min_seeds()} seed positives ({n} so far): documents that are a match.")
    if not data.negatives and not data.background and not any(not m for _, m in data.reviewed):
        found.append(
            "Add a background collection (a sample of ordinary documents, unlabelled) or negative examples: "
            "positives alone cannot show what is not a match."
        )
    return found


# --- Where the project stands ------------------------------------------------------------------------
@dataclass
class State:
    code: str
    label: str
    next_step: str


STEPS = [
    ("needs_seed", "Needs seed"),
    ("in_progress", "In progress"),
    ("needs_test_items", "Needs test items"),
    ("ready_to_review", "Ready to review"),
    ("ready_to_publish", "Ready to publish"),
    ("published", "Published"),
    ("retraining", "Re-training"),
    ("retrained", "Retrained"),
]


def latest_version(project: Project) -> ModelVersion | None:
    return project.model_versions.order_by("-number").first()


def state(project: Project) -> State:
    data = gather_seed(project)
    version = latest_version(project)
    active = project.training_runs.filter(state__in=TrainingRun.ACTIVE).exists()
    published = published_version(project)
    if published is not None:
        from classifiers.retraining import RETRAIN_REASONS, latest_comparison

        if project.training_runs.filter(state__in=TrainingRun.ACTIVE, reason__in=RETRAIN_REASONS).exists():
            return State(
                "retraining", "Re-training",
                "Retraining on the original data plus the feedback; the published version keeps classifying.",
            )  # fmt: skip
        comparison = latest_comparison(project)
        if comparison is not None and not comparison.decision:
            return State(
                "retrained", "Retrained",
                "Compare the retrained version with the published one: re-publish, give more feedback, or keep it.",
            )  # fmt: skip
        return State("published", "Published", "Classify production items and give feedback on the results.")
    if version is None:
        if active:
            return State("in_progress", "In progress", "Training the first model: this takes seconds.")
        problems = seed_problems(project, data)
        if problems:
            return State("needs_seed", "Needs seed", " ".join(problems))
        return State("needs_seed", "Needs seed", "Seeds are ready: train the first model.")
    test_count = Document.objects.filter(project=project, set=DocumentSet.TEST).count()
    if test_count == 0:
        return State(
            "needs_test_items", "Needs test items",
            "Add test items: a mix of matches and non-matches (at least 200 recommended).",
        )  # fmt: skip
    figures = review_figures(project)
    ok, why = publishable(figures)
    if ok:
        return State("ready_to_publish", "Ready to publish", "Review more, or publish the latest version.")
    return State("ready_to_review", "Ready to review", why)


# --- Review queue ----------------------------------------------------------------------------------
def scored_test_items(project: Project, version: ModelVersion):
    return Prediction.objects.filter(
        model_version=version, document__set=DocumentSet.TEST, project=project
    ).exclude(document__reviews__isnull=False)


def next_review_item(project: Project, user, version: ModelVersion | None = None) -> Prediction | None:
    """The unreviewed test item nearest the threshold (a close match teaches the most),
    not leased to another reviewer. Leases it to ``user``."""
    version = version or latest_version(project)
    if version is None:
        return None
    now = timezone.now()
    mine = (
        Lease.objects.filter(project=project, tagger=user, purpose="review", expires_at__gt=now)
        .values_list("document_id", flat=True)
        .first()
    )
    items = scored_test_items(project, version).select_related("document")
    if mine:
        own = items.filter(document_id=mine).first()
        if own is not None:
            return own
    taken = Lease.objects.filter(project=project, purpose="review", expires_at__gt=now).exclude(tagger=user)
    threshold = version.threshold if version.threshold is not None else 0.5
    candidate = (
        items.exclude(document_id__in=taken.values("document_id"))
        .annotate(distance=Abs(Cast(F("top_score"), FloatField()) - threshold))
        .order_by("distance", "document_id")
        .first()
    )
    if candidate is not None:
        Lease.objects.update_or_create(
            document=candidate.document, tagger=user, purpose="review",
            defaults={"project": project, "expires_at": now + LEASE},
        )  # fmt: skip
    return candidate


def current_batch(project: Project) -> int:
    answered = Review.objects.filter(project=project).exclude(answer=Review.Answer.SKIP).count()
    return answered // BATCH_SIZE + 1


# --- Figures ----------------------------------------------------------------------------------------
def _counts(rows: list[tuple[bool, bool]]) -> dict[str, Any]:
    tp = sum(1 for p, a in rows if p and a)
    fp = sum(1 for p, a in rows if p and not a)
    fn = sum(1 for p, a in rows if not p and a)
    tn = len(rows) - tp - fp - fn
    n = len(rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = (tp + tn) / n if n else 0.0
    low, high = ml.binomial_ci(tp + tn, n) if n else (0.0, 0.0)
    return {
        "n": n, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "accuracy": accuracy, "accuracy_low": low,
        "accuracy_high": high, "precision": precision, "recall": recall, "f1": f1,
    }  # fmt: skip


def review_figures(project: Project) -> dict[str, Any]:
    """Honest figures: each reviewed item against the prediction the reviewer saw (made by a
    version that had not seen the item), overall, per batch and cumulatively."""
    rows = list(
        Review.objects.filter(project=project)
        .exclude(answer=Review.Answer.SKIP)
        .order_by("id")
        .values_list("batch", "predicted", "answer", "model_version__number")
    )
    all_rows: list[tuple[bool, bool]] = []
    batches: dict[int, dict] = {}
    for batch, predicted, answer, version_number in rows:
        pair = ("match" in predicted, answer == Review.Answer.MATCH)
        all_rows.append(pair)
        entry = batches.setdefault(batch, {"rows": [], "versions": set()})
        entry["rows"].append(pair)
        if version_number:
            entry["versions"].add(version_number)
    per_batch = []
    cumulative: list[tuple[bool, bool]] = []
    for number in sorted(batches):
        cumulative.extend(batches[number]["rows"])
        per_batch.append(
            {
                "batch": number,
                "versions": sorted(batches[number]["versions"]),
                "complete": len(batches[number]["rows"]) >= BATCH_SIZE,
                **_counts(batches[number]["rows"]),
                "cumulative_accuracy": _counts(cumulative)["accuracy"],
            }
        )
    return {"overall": _counts(all_rows), "batches": per_batch, "reviewed": len(all_rows)}


def publishable(figures: dict[str, Any]) -> tuple[bool, str]:
    """At least 200 reviewed items, and accuracy stable: the cumulative accuracy moved less
    than the margin over the last two complete batches."""
    reviewed = figures["reviewed"]
    need = publish_min_reviews()
    if reviewed < need:
        return False, f"Review at least {need} test items before publishing ({reviewed} so far)."
    complete = [b for b in figures["batches"] if b["complete"]]
    if len(complete) < 3:
        return False, "Accuracy needs three complete review batches to show it is stable."
    last = [b["cumulative_accuracy"] for b in complete[-3:]]
    moved = max(last) - min(last)
    margin = stability_margin()
    if moved >= margin:
        return False, (
            f"Accuracy is still moving ({moved:.1%} over the last two batches; it must move less than "
            f"{margin:.0%}): review another batch."
        )
    return True, f"{reviewed} items reviewed; accuracy moved {moved:.1%} over the last two batches."


def test_mix(project: Project) -> dict[str, int]:
    """How one-sided the test items look, by the latest version's predictions."""
    version = latest_version(project)
    if version is None:
        return {}
    threshold = version.threshold if version.threshold is not None else 0.5
    return Prediction.objects.filter(model_version=version, document__set=DocumentSet.TEST).aggregate(
        total=Count("id"), matches=Count("id", filter=Q(top_score__gte=threshold))
    )
