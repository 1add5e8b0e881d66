"""Two model versions on the same items: figures per set and per class, and where they
disagree. Answers are sets of class names (a trainable classifier's are {"match"} or empty,
its truth {"match"} or {"not_match"})."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import KIND_BINARY, MATCH, NOT_MATCH


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def as_binary(labels: Sequence[str]) -> frozenset[str]:
    """A trainable classifier's answer as the class it stands for: match or not_match."""
    return frozenset({MATCH}) if MATCH in labels else frozenset({NOT_MATCH})


def set_figures(
    kind: str, classes: Sequence[str], truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Accuracy (an item is right when its whole answer is), precision / recall / F1 (a
    trainable classifier's: of "match"; otherwise macro over the classes seen), per class."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    if kind == KIND_BINARY:
        classes = [MATCH, NOT_MATCH]
        truth_sets = [as_binary(t) for t in truth]
        pred_sets = [as_binary(p) for p in predicted]
    else:
        truth_sets = [frozenset(t) for t in truth]
        pred_sets = [frozenset(p) for p in predicted]
    n = len(truth_sets)
    right = sum(1 for t, p in zip(truth_sets, pred_sets, strict=True) if t == p)
    per_class: dict[str, dict[str, float]] = {}
    for name in classes:
        tp = sum(1 for t, p in zip(truth_sets, pred_sets, strict=True) if name in t and name in p)
        fp = sum(1 for t, p in zip(truth_sets, pred_sets, strict=True) if name not in t and name in p)
        fn = sum(1 for t, p in zip(truth_sets, pred_sets, strict=True) if name in t and name not in p)
        support = tp + fn
        if support == 0 and fp == 0:
            continue  # a class neither present nor predicted says nothing here
        precision, recall, f1 = _prf(tp, fp, fn)
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    if kind == KIND_BINARY:
        head = per_class.get(MATCH, {"precision": 0.0, "recall": 0.0, "f1": 0.0})
        precision, recall, f1 = head["precision"], head["recall"], head["f1"]
    elif per_class:
        precision = sum(c["precision"] for c in per_class.values()) / len(per_class)
        recall = sum(c["recall"] for c in per_class.values()) / len(per_class)
        f1 = sum(c["f1"] for c in per_class.values()) / len(per_class)
    else:
        precision = recall = f1 = 0.0
    return {
        "n": n,
        "accuracy": right / n if n else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "per_class": per_class,
    }


def disagreements(
    kind: str, ids: Sequence[Any], first: Sequence[Sequence[str]], second: Sequence[Sequence[str]]
) -> list[int]:
    """Positions where the two versions' answers differ (trainable: match or not)."""
    convert = as_binary if kind == KIND_BINARY else frozenset
    return [i for i in range(len(ids)) if convert(first[i]) != convert(second[i])]
