"""Training runs: gather the project's data, fit with the ML engine, evaluate on the test
set, and store one immutable model version. Called by the django-q2 task ``train_project``.

At-least-once delivery: the run is claimed atomically; a run that already produced its
model version is finished, never trained twice; the artifact is written to a temp file and
moved into place before the one short transaction that records the version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone

from classifiers import ml
from classifiers.labels import MATCH, final_labels
from classifiers.models import Document, DocumentSet, ModelVersion, Prediction, Project, TrainingRun
from studio.audit import log_action

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
# A running run whose heartbeat is older than this has lost its worker (killed, host gone).
STALE_AFTER = timedelta(seconds=90)
MAX_ATTEMPTS = 2
MIN_TRAINING_DOCUMENTS = 10


class TrainingProblem(Exception):
    """The data cannot train a model (said to the Admin, not a crash)."""


@dataclass
class TrainingData:
    classes: list[str]
    train_ids: list[int] = field(default_factory=list)
    train_texts: list[str] = field(default_factory=list)
    train_labels: list[Any] = field(default_factory=list)
    test_ids: list[int] = field(default_factory=list)
    test_texts: list[str] = field(default_factory=list)
    test_labels: list[Any] = field(default_factory=list)
    split: str = "manual"

    def snapshot(self) -> dict:
        """Enough to re-create the exact data: ids, and a hash of ids with their tags."""
        digest = hashlib.sha256()
        for part in ("train", "test"):
            for doc_id, label in zip(
                getattr(self, f"{part}_ids"), getattr(self, f"{part}_labels"), strict=True
            ):
                digest.update(f"{part}:{doc_id}:{json.dumps(label, sort_keys=True)}\n".encode())
        return {
            "train_ids": self.train_ids,
            "test_ids": self.test_ids,
            "tags_sha256": digest.hexdigest(),
            "split": self.split,
        }


def engine_kind(project: Project) -> str:
    return {
        Project.Kind.SINGLE_LABEL: ml.KIND_SINGLE,
        Project.Kind.MULTI_LABEL: ml.KIND_MULTI,
        Project.Kind.TRAINABLE: ml.KIND_BINARY,
    }[project.kind]


def active_class_names(project: Project) -> list[str]:
    return list(project.classes.filter(archived=False).values_list("name", flat=True))


def gather(project: Project) -> TrainingData:
    """The tagged training and test documents, by the rule in ``classifiers.labels``."""
    labels = final_labels(project)
    active = set(active_class_names(project))
    trainable = project.kind == Project.Kind.TRAINABLE
    data = TrainingData(classes=[MATCH, "not_match"] if trainable else [])
    prefix = settings.STUDIO_MODEL_PREFIX_CHARS
    sets = [DocumentSet.TRAINING, DocumentSet.TEST]
    rows = (
        Document.objects.filter(project=project, set__in=sets, has_text=True, id__in=list(labels))
        .annotate(prefix=Substr("text", 1, prefix))
        .order_by("id")
        .values_list("id", "set", "prefix")
    )
    used: set[str] = set()
    for doc_id, doc_set, text in rows.iterator(chunk_size=5000):
        names = labels[doc_id] if trainable else [n for n in labels[doc_id] if n in active]
        if project.kind == Project.Kind.SINGLE_LABEL:
            if len(names) != 1:
                continue  # tagged only with archived classes
            label: Any = names[0]
        elif project.kind == Project.Kind.MULTI_LABEL:
            label = names
        else:
            label = names[0]
        part = "test" if doc_set == DocumentSet.TEST else "train"
        getattr(data, f"{part}_ids").append(doc_id)
        getattr(data, f"{part}_texts").append(text)
        getattr(data, f"{part}_labels").append(label)
        if part == "train":
            used.update([label] if isinstance(label, str) else label)
    if not trainable:
        _add_feedback(project, data, active, used)
        data.classes = [name for name in active_class_names(project) if name in used]
    return data


def _add_feedback(project: Project, data: TrainingData, active: set[str], used: set[str]) -> None:
    """Feedback on production items joins the training part: a confirmed prediction, or the
    class a reviewer corrected it to (a bare "not a match" in a single-label project says
    what the item is not, which this engine cannot learn from, so it is left out)."""
    from classifiers.models import Feedback

    known = set(data.train_ids) | set(data.test_ids)
    answers = {
        f.document_id: f
        for f in Feedback.objects.filter(project=project, withdrawn_at__isnull=True).select_related("project")
    }
    prefix = settings.STUDIO_MODEL_PREFIX_CHARS
    rows = (
        Document.objects.filter(project=project, id__in=list(answers), has_text=True)
        .exclude(id__in=known)
        .annotate(prefix=Substr("text", 1, prefix))
        .order_by("id")
        .values_list("id", "prefix")
    )
    for doc_id, text in rows:
        names = [n for n in answers[doc_id].labels if n in active]
        if project.kind == Project.Kind.SINGLE_LABEL:
            if len(names) != 1:
                continue
            label: Any = names[0]
        else:
            label = names
        data.train_ids.append(doc_id)
        data.train_texts.append(text)
        data.train_labels.append(label)
        used.update(names)


def problems(project: Project, data: TrainingData | None = None) -> list[str]:
    """Why the project cannot train now (empty when it can)."""
    if project.kind == Project.Kind.TRAINABLE and data is None:
        from classifiers.trainable import seed_problems

        return seed_problems(project)
    data = data or gather(project)
    found = []
    if len(data.train_ids) + len(data.test_ids) < MIN_TRAINING_DOCUMENTS:
        found.append(
            f"Tag at least {MIN_TRAINING_DOCUMENTS} documents first "
            f"({len(data.train_ids) + len(data.test_ids)} tagged so far)."
        )
    if project.kind == Project.Kind.SINGLE_LABEL and len(data.classes) < 2:
        found.append("A single-label model needs tagged training documents in at least two classes.")
    if project.kind == Project.Kind.MULTI_LABEL and not data.classes:
        found.append("A multi-label model needs at least one class with tagged training documents.")
    if project.kind == Project.Kind.TRAINABLE and len(set(data.train_labels)) < 2:
        found.append("Tag both matches and non-matches in the training set.")
    return found


# --- The run ------------------------------------------------------------------------------------
class RunReporter:
    """Writes stage, progress, ETA and a heartbeat to the run row; answers 'cancelled?'.

    A background thread keeps the heartbeat fresh during long fits (the reaper relies on it)
    and samples the process's memory for the version's peak-memory figure.
    """

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.started = time.monotonic()
        self.last_write = 0.0
        self.last_cancel_check = 0.0
        self.cancelled = False
        self.peak_rss_mb = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> RunReporter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _beat(self) -> None:
        from django.db import close_old_connections

        last_beat = 0.0
        while not self._stop.wait(0.25):
            self.peak_rss_mb = max(self.peak_rss_mb, _rss_mb())
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                try:
                    TrainingRun.objects.filter(pk=self.run_id).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is not worth failing a run for
                    logger.warning("heartbeat failed for run %s", self.run_id, exc_info=True)
                finally:
                    close_old_connections()

    def progress(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_write < 0.5 and fraction < 1.0:
            return
        self.last_write = now
        fraction = max(0.0, min(1.0, fraction))
        elapsed = now - self.started
        eta = None
        if fraction > 0.05:
            eta = timezone.now() + timedelta(seconds=elapsed / fraction - elapsed)
        TrainingRun.objects.filter(pk=self.run_id).update(
            stage=stage[:64], progress=fraction, estimated_end=eta, heartbeat_at=timezone.now()
        )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self.last_cancel_check >= 0.5:
            self.last_cancel_check = now
            flag = TrainingRun.objects.filter(pk=self.run_id).values_list("cancel_requested", flat=True).first()
            # A run whose row is gone (its project was deleted) stops as if cancelled.
            self.cancelled = flag is None or flag
        return self.cancelled


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def claim(run_id: int) -> TrainingRun | None:
    """Take the run for this delivery, or None when there is nothing to do."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or not run.is_active:
            return None  # finished, failed or cancelled by an earlier delivery
        if ModelVersion.objects.filter(training_run=run).exists():
            # An earlier delivery stored the version and died before marking the run.
            _mark(run, TrainingRun.State.SUCCEEDED, stage="Done", progress=1.0)
            return None
        if run.cancel_requested:
            _mark(run, TrainingRun.State.CANCELLED, stage="Cancelled")
            log_action(None, "training.cancelled", run)
            return None
        if run.attempts >= MAX_ATTEMPTS:
            _mark(
                run,
                TrainingRun.State.FAILED,
                error="The worker stopped during training twice; not retried again.",
            )
            log_action(None, "training.fail", run, payload={"error": "too many attempts"})
            return None
        run.attempts += 1
        run.state = TrainingRun.State.RUNNING
        run.started_at = timezone.now()
        run.heartbeat_at = timezone.now()
        run.stage = "Starting"
        run.progress = 0.0
        run.save(update_fields=["attempts", "state", "started_at", "heartbeat_at", "stage", "progress"])
        return run


def _mark(run: TrainingRun, state: str, **fields: Any) -> None:
    run.state = state
    run.finished_at = timezone.now()
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=["state", "finished_at", *fields])


def wait_for_turn(run: TrainingRun, reporter: RunReporter) -> None:
    """One run at a time per project: an older active run of the project goes first."""
    while TrainingRun.objects.filter(
        project=run.project_id, state=TrainingRun.State.RUNNING, pk__lt=run.pk
    ).exists():
        TrainingRun.objects.filter(pk=run.pk).update(
            stage="Waiting for the previous run", heartbeat_at=timezone.now()
        )
        if reporter.should_cancel():
            raise ml.TrainingCancelled()
        time.sleep(1)


def execute(run_id: int) -> None:
    run = claim(run_id)
    if run is None:
        return
    project = run.project
    try:
        with RunReporter(run_id) as reporter:
            wait_for_turn(run, reporter)
            version = train_and_store(run, project, reporter)
    except ml.TrainingCancelled:
        with transaction.atomic():
            run.refresh_from_db()
            _mark(run, TrainingRun.State.CANCELLED, stage="Cancelled")
            log_action(run.requested_by, "training.cancelled", run)
        return
    except TrainingProblem as exc:
        _fail(run, str(exc), "")
        return
    except Exception as exc:
        logger.exception("training run %s failed", run_id)
        _fail(run, f"Training failed: {type(exc).__name__}: {exc}"[:2000], traceback.format_exc())
        return
    from classifiers.tasks import enqueue

    if version is not None:
        enqueue("classifiers.tasks.analyse_model_version", version.pk, training=True)
        if project.kind == Project.Kind.TRAINABLE:
            enqueue("classifiers.tasks.score_test_items", version.pk)
        # A retrain beside a published version is compared with it; it never replaces it.
        from classifiers.retraining import request_comparison

        with transaction.atomic():
            request_comparison(version)


def _fail(run: TrainingRun, message: str, tb: str) -> None:
    with transaction.atomic():
        run.refresh_from_db()
        _mark(run, TrainingRun.State.FAILED, error=message, traceback=tb, stage="Failed")
        log_action(None, "training.fail", run, payload={"error": message[:500]})


def ensure_test_set(run: TrainingRun, project: Project, data: TrainingData) -> TrainingData:
    """No tagged test documents: draw the seeded stratified split once, into the test set,
    so every later version is measured on the same documents."""
    if data.test_ids or project.kind == Project.Kind.TRAINABLE:
        return data
    from classifiers.actions.base import ActionError
    from classifiers.actions.documents import do_draw_test_split

    actor = run.requested_by
    fraction = float(run.options.get("test_fraction", 0.2))
    try:
        do_draw_test_split(actor, project, fraction=fraction, seed=project.pk)
    except ActionError as exc:
        raise TrainingProblem(f"No test set, and none could be drawn: {exc}") from None
    data = gather(project)
    data.split = f"drawn automatically ({round(fraction * 100)}%, seed {project.pk}) by run #{run.pk}"
    return data


@dataclass
class Fitted:
    model: Any
    metrics: dict
    snapshot: dict
    train_size: int
    test_size: int
    predictions: list  # unsaved Prediction rows (model_version set later)


def fit_labelled(run: TrainingRun, project: Project, reporter: RunReporter) -> Fitted:
    """Single- and multi-label: tagged training documents, measured on the test set."""
    data = gather(project)
    found = problems(project, data)
    if found:
        raise TrainingProblem(" ".join(found))
    data = ensure_test_set(run, project, data)
    kind = engine_kind(project)
    config = ml.TrainingConfig(seed=project.pk, max_chars=settings.STUDIO_MODEL_PREFIX_CHARS)

    def progress(stage: str, fraction: float) -> None:
        reporter.progress(stage, 0.05 + 0.8 * fraction)

    model = ml.train(
        data.train_texts,
        data.train_labels,
        kind,
        data.classes,
        config,
        progress=progress,
        should_cancel=reporter.should_cancel,
    )
    reporter.progress("Evaluating on the test set", 0.87)
    scores = model.predict_scores(data.test_texts) if data.test_texts else None
    predicted = model.predict_from_scores(scores) if scores is not None else []
    metrics = ml.evaluate(data.test_labels, predicted, kind, data.classes) if data.test_texts else {}
    metrics["top_terms"] = model.top_terms(15)
    support: dict[str, int] = dict.fromkeys(data.classes, 0)
    for label in data.train_labels:
        for name in [label] if isinstance(label, str) else label:
            support[name] = support.get(name, 0) + 1
    metrics["train_support"] = support
    if scores is not None and kind == ml.KIND_MULTI:
        metrics["threshold_curves"] = threshold_curves(kind, data, scores, model.classes)
    rows = test_predictions(project, data, predicted, scores, model.classes)
    return Fitted(model, metrics, data.snapshot(), len(data.train_ids), len(data.test_ids), rows)


def fit_trainable(run: TrainingRun, project: Project, reporter: RunReporter) -> Fitted:
    """Trainable classifiers: seed positives against negatives and the background
    (positive-unlabelled learning), plus every reviewed test item."""
    from classifiers.trainable import gather_seed, seed_problems

    data = gather_seed(project)
    found = seed_problems(project, data)
    if found:
        raise TrainingProblem(" ".join(found))
    config = ml.TrainingConfig(seed=project.pk, max_chars=settings.STUDIO_MODEL_PREFIX_CHARS)

    def progress(stage: str, fraction: float) -> None:
        reporter.progress(stage, 0.05 + 0.85 * fraction)

    model = ml.train_seed(
        data.positives,
        data.negatives,
        data.background,
        config,
        progress=progress,
        should_cancel=reporter.should_cancel,
        reviewed=data.reviewed,
    )
    metrics = {
        "top_terms": model.top_terms(15),
        "seed": {
            "positives": len(data.positive_ids),
            "left_out": len(data.left_out_ids),
            "negatives": len(data.negative_ids),
            "background": len(data.background_ids),
            "background_source": data.background_source,
            "reviewed": len(data.reviewed_ids),
        },
    }
    train_size = (
        len(data.positive_ids)
        + len(data.extra_positive_ids)
        + len(data.negative_ids)
        + len(data.reviewed_ids)
    )
    return Fitted(model, metrics, data.snapshot(), train_size, 0, [])


def train_and_store(run: TrainingRun, project: Project, reporter: RunReporter) -> ModelVersion | None:
    started = time.monotonic()
    reporter.progress("Reading tagged documents", 0.01)
    fit = fit_trainable if project.kind == Project.Kind.TRAINABLE else fit_labelled
    fitted = fit(run, project, reporter)
    model = fitted.model
    if reporter.should_cancel():
        raise ml.TrainingCancelled()

    reporter.progress("Saving the model", 0.93)
    folder = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/models"
    folder.mkdir(parents=True, exist_ok=True)
    artifact = folder / f"run-{run.pk}.model"
    sha = ml.save_model(model, artifact)
    sidecar = folder / f"run-{run.pk}.snapshot.json"
    _write_atomic(sidecar, json.dumps(fitted.snapshot).encode())

    with transaction.atomic():
        if Project.objects.select_for_update().filter(pk=project.pk).first() is None:
            raise ml.TrainingCancelled()  # deleted meanwhile; the task removes the files
        locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if ModelVersion.objects.filter(training_run=locked).exists() or not locked.is_active:
            return None  # another delivery got here first
        number = (ModelVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            project=project,
            number=number,
            training_run=locked,
            created_by=run.requested_by,
            kind=project.kind,
            classes=list(model.classes),
            schema_version=project.schema_version,
            artifact=str(artifact.relative_to(settings.MEDIA_ROOT)),
            artifact_sha256=sha,
            artifact_size=artifact.stat().st_size,
            snapshot={
                "tags_sha256": fitted.snapshot["tags_sha256"],
                "split": fitted.snapshot["split"],
                "train_count": fitted.train_size,
                "test_count": fitted.test_size,
                "feedback_count": len(fitted.snapshot.get("feedback_ids", [])),
                "file": str(sidecar.relative_to(settings.MEDIA_ROOT)),
                "file_sha256": hashlib.sha256(sidecar.read_bytes()).hexdigest(),
            },
            params=model.params,
            library_versions=library_versions(),
            train_size=fitted.train_size,
            test_size=fitted.test_size,
            duration_seconds=round(time.monotonic() - started, 3),
            peak_memory_mb=round(reporter.peak_rss_mb, 1),
            metrics=fitted.metrics,
            threshold=getattr(model, "threshold", None),
            close_match_lower=getattr(model, "close_match_lower", None),
        )
        for row in fitted.predictions:
            row.model_version = version
        Prediction.objects.bulk_create(fitted.predictions, batch_size=2000)
        _mark(locked, TrainingRun.State.SUCCEEDED, stage="Done", progress=1.0, estimated_end=None)
        log_action(
            run.requested_by,
            "training.succeed",
            version,
            payload={
                "run": run.pk,
                "version": number,
                "train": fitted.train_size,
                "test": fitted.test_size,
                "macro_f1": fitted.metrics.get("macro", {}).get("f1"),
                "schema_version": project.schema_version,
            },
        )
    return version


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def threshold_curves(kind: str, data: TrainingData, scores, classes: list[str]) -> dict[str, list]:
    curves = {}
    if kind == ml.KIND_BINARY:
        column = scores if scores.ndim == 1 else scores[:, -1] if scores.shape[1] > 1 else scores[:, 0]
        curves[MATCH] = ml.threshold_curve([label == MATCH for label in data.test_labels], column)
        return curves
    for j, name in enumerate(classes):
        curves[name] = ml.threshold_curve([name in labels for labels in data.test_labels], scores[:, j])
    return curves


def test_predictions(project, data, predicted, scores, classes) -> list[Prediction]:
    rows = []
    for i, doc_id in enumerate(data.test_ids):
        truth = data.test_labels[i]
        pred = predicted[i]
        pred_list = [pred] if isinstance(pred, str) else list(pred)
        truth_list = [truth] if isinstance(truth, str) else list(truth)
        if project.kind == Project.Kind.TRAINABLE:
            correct = (pred == MATCH) == (truth == MATCH)
            outcome = "correct" if correct else "wrong"
        elif set(pred_list) == set(truth_list):
            outcome = "correct"
        elif set(pred_list) & set(truth_list):
            outcome = "partial"
        else:
            outcome = "wrong"
        row_scores = score_dict(scores[i], classes)
        top = max(row_scores.values()) if row_scores else 0.0
        rows.append(
            Prediction(
                document_id=doc_id,
                project=project,
                labels=pred_list,
                scores=row_scores,
                top_score=top,
                uncertainty=uncertainty(row_scores, project.kind),
                outcome=outcome,
            )
        )
    return rows


def score_dict(row, classes: list[str]) -> dict[str, float]:
    values = [float(row)] if getattr(row, "ndim", 0) == 0 else [float(v) for v in row]
    if len(values) == 1 and len(classes) == 2:
        return {classes[0]: round(values[0], 5)}
    return {name: round(v, 5) for name, v in zip(classes, values, strict=False)}


def uncertainty(scores: dict[str, float], kind: str) -> float:
    """1 at a coin toss, 0 when sure: margin between the top two (single-label), distance
    of the most undecided class from 0.5 (multi-label and trainable)."""
    if not scores:
        return 0.0
    values = sorted(scores.values(), reverse=True)
    if kind == Project.Kind.SINGLE_LABEL and len(values) > 1:
        return round(1 - (values[0] - values[1]), 5)
    return round(1 - 2 * min(abs(v - 0.5) for v in values), 5)


def library_versions() -> dict[str, str]:
    import numpy
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def reap_stale_runs() -> int:
    """Runs whose worker died (no heartbeat): queued again once, then failed."""
    from classifiers.tasks import enqueue

    stale = TrainingRun.objects.filter(
        state=TrainingRun.State.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
    ).values_list("pk", flat=True)
    count = 0
    for run_id in list(stale):
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
            if run is None:
                continue  # deleted with its project meanwhile
            if run.state != TrainingRun.State.RUNNING or run.heartbeat_at >= timezone.now() - STALE_AFTER:
                continue
            if ModelVersion.objects.filter(training_run=run).exists():
                _mark(run, TrainingRun.State.SUCCEEDED, stage="Done", progress=1.0)
            elif run.attempts >= MAX_ATTEMPTS:
                _mark(
                    run,
                    TrainingRun.State.FAILED,
                    error="The worker stopped during training; not retried again.",
                )
                log_action(None, "training.fail", run, payload={"error": "worker lost", "reaped": True})
            else:
                run.state = TrainingRun.State.QUEUED
                run.stage = "Queued again: the worker stopped"
                run.save(update_fields=["state", "stage"])
                log_action(None, "training.requeue", run, payload={"attempts": run.attempts})
                enqueue("classifiers.tasks.train_project", run.pk, training=True)
            count += 1
    return count
