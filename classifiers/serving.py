"""Serving: classify texts with a model version.

``classify(version, documents)`` is the one function the API, the try-a-deployment page and
re-classification use, so they give the same answer for the same text. Models are loaded
once per process and kept in a small LRU keyed by (version id, artifact SHA-256): the
artifact's hash is checked when it is loaded (``load_version_model``), and a request then
costs one vectorise and one matrix product.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from classifiers import ml
from classifiers.analysis import ModelUnavailable, load_version_model
from classifiers.ml.base import CLOSE_MATCH, MATCH, NO_MATCH
from classifiers.models import ModelVersion

__all__ = [
    "DocumentIn",
    "ModelUnavailable",
    "classify",
    "classify_response",
    "clear_cache",
    "get_model",
]

# Warning codes (Azure's name for a truncated document, ours for the rest).
EMPTY_TEXT = "EmptyText"
TRUNCATED = "DocumentTruncated"
LANGUAGE_MISMATCH = "LanguageMismatch"
DECIMALS = 4


@dataclass(frozen=True)
class DocumentIn:
    id: str
    text: str
    language: str = ""


class ModelCache:
    """A process-wide LRU of loaded models. Thread-safe; one load per key at a time, so
    eight threads asking for a cold model read the artifact once, not eight times."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[int, str], ml.TrainedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[int, str], threading.Lock] = {}

    def get(self, version: ModelVersion) -> ml.TrainedModel:
        key = (version.pk, version.artifact_sha256)
        with self._lock:
            model = self._items.get(key)
            if model is not None:
                self._items.move_to_end(key)
                return model
            load_lock = self._loading.setdefault(key, threading.Lock())
        with load_lock:
            with self._lock:
                model = self._items.get(key)
                if model is not None:
                    return model
            try:
                model = load_version_model(version)  # verifies the SHA-256; ModelUnavailable
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            with self._lock:
                self._items[key] = model
                self._items.move_to_end(key)
                while len(self._items) > max(1, settings.STUDIO_API_MODEL_CACHE_SIZE):
                    self._items.popitem(last=False)
        return model

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __contains__(self, version: ModelVersion) -> bool:
        return (version.pk, version.artifact_sha256) in self._items

    def __len__(self) -> int:
        return len(self._items)


_cache = ModelCache()


def get_model(version: ModelVersion) -> ml.TrainedModel:
    """The version's model from the process cache (loaded and hash-checked on a miss).
    Raises ModelUnavailable when the artifact is missing or does not match its hash."""
    return _cache.get(version)


def clear_cache() -> None:
    _cache.clear()


def is_cached(version: ModelVersion) -> bool:
    return version in _cache


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def _language_base(code: str) -> str:
    return code.split("-", 1)[0].split("_", 1)[0].strip().lower()


def classify(
    version: ModelVersion, documents: Sequence[DocumentIn], *, project_language: str = ""
) -> list[dict[str, Any]]:
    """One result dict per document, in order:

    ``{"id", "classes": [{"category", "confidenceScore"}], "scores": {class: p}, "warnings": [...]}``
    - single-label: ``classes`` is the top class; ``scores`` is a softmax over all classes;
    - multi-label: ``classes`` are those at or above their class threshold, best first;
    - trainable: also ``match`` ("match" / "close_match" / "no_match", by the version's
      threshold and close-match bound) and ``confidenceScore`` (P(match)); ``classes`` holds
      "match" only when it is one.
    A document with no text gets no prediction and an ``EmptyText`` warning; one longer than
    the model reads gets ``DocumentTruncated``. Raises ModelUnavailable.
    """
    model = get_model(version)
    kind = model.kind
    max_chars = getattr(getattr(model.vectorizer, "analyzer", None), "max_chars", 0) or (
        settings.STUDIO_MODEL_PREFIX_CHARS
    )
    base_language = _language_base(project_language) if project_language else ""
    results: list[dict[str, Any]] = []
    to_score: list[int] = []
    for i, doc in enumerate(documents):
        warnings: list[dict[str, str]] = []
        if not doc.text.strip():
            warnings.append(
                {"code": EMPTY_TEXT, "message": "The document has no text; nothing was predicted."}
            )
        else:
            to_score.append(i)
            if len(doc.text) > max_chars:
                warnings.append(
                    {
                        "code": TRUNCATED,
                        "message": f"The document has {len(doc.text):,} characters; the model read "
                        f"the first {max_chars:,}.",
                    }
                )
        if doc.language and base_language and _language_base(doc.language) != base_language:
            warnings.append(
                {
                    "code": LANGUAGE_MISMATCH,
                    "message": f"The model was trained on '{project_language}' documents; this one "
                    f"says '{doc.language}'.",
                }
            )
        result: dict[str, Any] = {"id": doc.id, "classes": [], "scores": {}, "warnings": warnings}
        if kind == ml.KIND_BINARY:
            result["match"] = None
            result["confidenceScore"] = None
        results.append(result)
    if not to_score:
        return results

    probs = np.asarray(model.predict_scores([documents[i].text for i in to_score]), dtype=float)
    classes = list(model.classes)
    rows = np.round(probs, DECIMALS).tolist()
    if kind == ml.KIND_SINGLE:
        tops = np.argmax(probs, axis=1).tolist()
        for i, row, top in zip(to_score, rows, tops, strict=True):
            result = results[i]
            result["classes"] = [{"category": classes[top], "confidenceScore": row[top]}]
            result["scores"] = dict(zip(classes, row, strict=True))
    elif kind == ml.KIND_MULTI:
        thresholds = model.thresholds if model.thresholds is not None else np.full(len(classes), 0.5)
        hits = (probs >= thresholds).tolist()
        for i, row, hit in zip(to_score, rows, hits, strict=True):
            result = results[i]
            chosen = sorted((j for j, h in enumerate(hit) if h), key=lambda j: -row[j])
            result["classes"] = [{"category": classes[j], "confidenceScore": row[j]} for j in chosen]
            result["scores"] = dict(zip(classes, row, strict=True))
    else:
        threshold = version.threshold if version.threshold is not None else model.threshold
        lower = version.close_match_lower if version.threshold is not None else model.close_match_lower
        threshold = 0.5 if threshold is None else float(threshold)
        # The label is decided on the unrounded probability, as TrainedModel.predict does.
        raw_scores = probs[:, 0].tolist()
        for i, row, raw in zip(to_score, rows, raw_scores, strict=True):
            p = row[0]
            if raw >= threshold:
                label = MATCH
            elif lower is not None and raw >= lower:
                label = CLOSE_MATCH
            else:
                label = NO_MATCH
            result = results[i]
            result["match"] = label
            result["confidenceScore"] = p
            result["scores"] = {MATCH: p}
            result["classes"] = [{"category": MATCH, "confidenceScore": p}] if label == MATCH else []
    return results


def classify_response(
    version: ModelVersion,
    documents: Sequence[DocumentIn],
    *,
    project_slug: str,
    deployment: str,
    project_language: str = "",
) -> dict[str, Any]:
    """The synchronous API's answer (also shown by the try-a-deployment page)."""
    return {
        "project": project_slug,
        "deployment": deployment,
        "modelVersion": version.number,
        "kind": version.kind,
        "documents": classify(version, documents, project_language=project_language),
    }
