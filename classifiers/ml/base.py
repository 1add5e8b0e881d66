"""Shared vocabulary of the engine: project kinds, errors, configuration, progress/cancel plumbing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

KIND_SINGLE = "single_label"
KIND_MULTI = "multi_label"
KIND_BINARY = "trainable"  # Purview-style trainable classifier: one category, match / not a match
KINDS = (KIND_SINGLE, KIND_MULTI, KIND_BINARY)

MATCH = "match"
NOT_MATCH = "not_match"
CLOSE_MATCH = "close_match"
NO_MATCH = "no_match"
# Values accepted as "not a match" in labels given to train()/evaluate() for trainable projects.
NEGATIVE_VALUES = frozenset({NOT_MATCH, NO_MATCH, CLOSE_MATCH, "not_a_match", "no"})

ProgressFn = Callable[[str, float], None]
CancelFn = Callable[[], bool]


class TrainingCancelled(Exception):
    """The caller's ``should_cancel`` returned True; nothing was produced."""


class ArtifactError(Exception):
    """A model artifact is missing, unreadable, or does not match its recorded sha256."""


@dataclass(frozen=True)
class TrainingConfig:
    seed: int = 0
    max_chars: int = 20000  # the model reads only this prefix of each text
    time_budget_s: float = 20.0  # estimated s (engine.CostModel) for the call incl. optional work
    select_candidates: bool = True
    cv_folds: int = 3  # fold 0 is the selection/calibration holdout
    hash_buckets: int = 2**20
    min_df: int = 2  # hash buckets seen in fewer training documents are dropped
    n_jobs: int = 2  # threads for the one-vs-rest fits (SGD releases the GIL)
    alpha: float | None = None  # fix the L2 strength (skips the alpha candidate)
    lowercase: bool | None = None  # fix the tokenisation case (skips the case candidate)
    multi_label_class_weight: str | None = None  # None | "sqrt" | "balanced" (see engine notes)
    max_background: int = 20000  # seed mode: background documents used at most (seeded sample)
    seed_recall_target: float = 0.95  # seed mode: threshold keeps this share of held-out seed positives

    def to_dict(self) -> dict:
        return asdict(self)


class Run:
    """Progress, cancellation and the clock (for reporting only) of one training call.

    Callbacks are only ever invoked from the caller's thread (a Django DB connection is
    per thread), never from the fitting worker threads.
    """

    def __init__(self, progress: ProgressFn | None, should_cancel: CancelFn | None) -> None:
        self._progress = progress
        self._should_cancel = should_cancel
        self.t0 = time.perf_counter()
        self._last = 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def report(self, stage: str, fraction: float) -> None:
        fraction = max(self._last, min(1.0, float(fraction)))  # never goes backwards
        self._last = fraction
        if self._progress is not None:
            self._progress(stage, fraction)

    def check(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            raise TrainingCancelled("training cancelled by the caller")


def label_sets(labels: Sequence, kind: str) -> list[set[str]]:
    """Labels of any kind as one set per document (single: one element; binary: {match} or {})."""
    out: list[set[str]] = []
    for y in labels:
        if kind == KIND_MULTI:
            if isinstance(y, str):
                raise ValueError("multi-label labels must be lists of class names, got a string")
            out.append(set(y))
        elif kind == KIND_BINARY:
            out.append({MATCH} if is_match(y) else set())
        else:
            if not isinstance(y, str):
                raise ValueError(f"single-label labels must be strings, got {type(y).__name__}")
            out.append({y})
    return out


def is_match(value: object) -> bool:
    """Normalise a trainable-classifier label: True/'match' -> True, False/'not_match'/... -> False."""
    if isinstance(value, bool | int | np.bool_ | np.integer):
        return bool(value)
    if value == MATCH:
        return True
    if value in NEGATIVE_VALUES:
        return False
    raise ValueError(f"trainable-classifier label must be 'match' or 'not_match', got {value!r}")


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
