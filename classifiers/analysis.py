"""After a version is stored: its learning curve, likely tagging mistakes (out-of-fold
confident learning) and scores of untagged documents for active learning.

A separate job on the training queue, so a new version is readable at once and these
arrive a little later. Idempotent: one VersionAnalysis per version, predictions unique.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from classifiers import ml
from classifiers.labels import final_labels
from classifiers.models import Document, DocumentSet, ModelVersion, Prediction, Project, VersionAnalysis
from classifiers.scoring import texts_for
from classifiers.training import engine_kind

logger = logging.getLogger(__name__)

SCORE_CHUNK = 5000
MAX_MISTAKES = 200
# Out-of-fold scores take about five more fits: skipped above this size (the run would
# take minutes); the learning curve's three extra fits likewise.
OOF_MAX_DOCUMENTS = 30_000
CURVE_MAX_DOCUMENTS = 50_000


class ModelUnavailable(Exception):
    pass


def load_version_model(version: ModelVersion) -> ml.TrainedModel:
    """The version's model, after checking its artifact's SHA-256 (never an unchecked file)."""
    try:
        model = ml.load_model(default_storage.path(version.artifact), version.artifact_sha256)
    except ml.ArtifactError as exc:
        raise ModelUnavailable(f"Model version {version.number} cannot be loaded: {exc}") from None
    if version.threshold is not None:
        # A threshold change is a new version sharing the artifact: the version's own values rule.
        model.threshold = version.threshold
        model.close_match_lower = version.close_match_lower
    return model


# (path, size, mtime, ctime) -> SHA-256 of the file's bytes: a page can ask whether a
# version's artifact is intact without hashing it again until the file changes.
_digests: dict[tuple, str] = {}
_digests_lock = threading.Lock()


def artifact_problem(version: ModelVersion) -> str:
    """"" when the artifact is present and matches its recorded SHA-256; otherwise what is
    wrong (for the log). Hashes each file once per state and process: cheap for every view."""
    try:
        path = default_storage.path(version.artifact)
        st = os.stat(path)
    except (OSError, ValueError, NotImplementedError) as exc:
        return f"model artifact is missing or unreadable: {exc}"
    key = (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    with _digests_lock:
        digest = _digests.get(key)
    if digest is None:
        try:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
        except OSError as exc:
            return f"model artifact is unreadable: {exc}"
        with _digests_lock:
            _digests[key] = digest
            while len(_digests) > 256:
                _digests.pop(next(iter(_digests)))
    if not hmac.compare_digest(digest, str(version.artifact_sha256 or "").lower()):
        return f"model artifact {path} does not match its recorded sha256"
    return ""


def snapshot_ids(version: ModelVersion) -> dict:
    name = version.snapshot.get("file", "")
    with default_storage.open(name, "rb") as f:
        data = f.read()
    import hashlib

    if hashlib.sha256(data).hexdigest() != version.snapshot.get("file_sha256"):
        raise ModelUnavailable("The version's training snapshot does not match its recorded hash.")
    return json.loads(data)


def analyse(version_id: int) -> None:
    version = ModelVersion.objects.select_related("project").filter(pk=version_id).first()
    if version is None:
        return
    analysis, _ = VersionAnalysis.objects.get_or_create(model_version=version)
    if analysis.state == VersionAnalysis.State.DONE:
        return
    try:
        model = load_version_model(version)
        snapshot = snapshot_ids(version)
        project = version.project
        kind = engine_kind(project)
        labels = final_labels(project, snapshot["train_ids"] + snapshot["test_ids"])
        texts = texts_for(project, snapshot["train_ids"] + snapshot["test_ids"])

        def pairs(ids):
            kept = [i for i in ids if i in labels and i in texts]
            return kept, [texts[i] for i in kept], [as_engine_label(project, labels[i]) for i in kept]

        train_ids, train_texts, train_labels = pairs(snapshot["train_ids"])
        _test_ids, test_texts, test_labels = pairs(snapshot["test_ids"])
        config = ml.TrainingConfig(seed=project.pk, max_chars=settings.STUDIO_MODEL_PREFIX_CHARS)
        classes = version.classes if kind != ml.KIND_BINARY else ["match", "not_match"]
        started = time.monotonic()
        if test_texts and len(train_texts) <= CURVE_MAX_DOCUMENTS:
            analysis.learning_curve = ml.learning_curve(
                train_texts, train_labels, test_texts, test_labels, kind, classes, config=config
            )
        if 20 <= len(train_texts) <= OOF_MAX_DOCUMENTS:
            oof = ml.out_of_fold_scores(train_texts, train_labels, kind, classes, config=config)
            found = ml.likely_mistakes(train_labels, oof, kind, classes, max_items=MAX_MISTAKES)
            analysis.mistakes = [
                {**{k: v for k, v in item.items() if k != "index"}, "document_id": train_ids[item["index"]]}
                for item in found
            ]
        analysis.scored_untagged = score_untagged(version, model, labels)
        analysis.state = VersionAnalysis.State.DONE
        analysis.finished_at = timezone.now()
        analysis.save()
        logger.info("analysis of %s took %.1f s", version, time.monotonic() - started)
    except Exception as exc:
        logger.exception("analysis of version %s failed", version_id)
        analysis.state = VersionAnalysis.State.FAILED
        analysis.error = f"{type(exc).__name__}: {exc}"[:2000]
        analysis.finished_at = timezone.now()
        analysis.save()


def as_engine_label(project: Project, names: list[str]):
    if project.kind == Project.Kind.MULTI_LABEL:
        return names
    return names[0]


def score_untagged(version: ModelVersion, model: ml.TrainedModel, labels: dict) -> int:
    """Predictions for the untagged training and test documents: the tagging queue's
    "most uncertain first" order reads their uncertainty."""
    from classifiers.scoring import score_documents

    project = version.project
    tagged = set(final_labels(project))
    candidates = (
        Document.objects.filter(
            project=project, set__in=[DocumentSet.TRAINING, DocumentSet.TEST], has_text=True
        )
        .exclude(id__in=Prediction.objects.filter(model_version=version).values("document_id"))
        .order_by("id")
        .values_list("id", flat=True)
    )
    return score_documents(version, model, [i for i in candidates if i not in tagged])
