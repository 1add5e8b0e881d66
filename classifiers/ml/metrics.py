"""Evaluation figures the studio shows and stores (all JSON-serialisable).

Conventions:
- Per-class counts tp/fp/fn/tn come from one-vs-rest views of the predictions, for every kind.
- Micro averages are computed from the SUMMED per-class counts (sum tp / (sum tp + sum fp) ...).
  For single-label data that equals accuracy; for multi-label data it does not, and documents
  without any prediction add false negatives only. Azure's documentation example gets this wrong
  (see tests/ml/test_metrics.py).
- Macro averages are unweighted means over the classes that occur in y_true or y_pred; a class
  absent from both would otherwise count as F1 = 0 and drag the figure down for no reason.
- A ratio with a zero denominator is 0.0 (scikit-learn's zero_division=0).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import norm

from .base import KIND_BINARY, KIND_SINGLE, MATCH, NOT_MATCH, check_kind, is_match

BINARY_CLASSES = [MATCH, NOT_MATCH]


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = _ratio(tp, tp + fp)
    r = _ratio(tp, tp + fn)
    f = _ratio(2 * tp, 2 * tp + fp + fn)  # = 2PR/(P+R), without the rounding of P and R
    return p, r, f


def _as_sets(values: Sequence, kind: str, classes: Sequence[str], what: str) -> list[set[str]]:
    known = set(classes)
    out = []
    for v in values:
        if kind == KIND_BINARY:
            out.append({MATCH} if is_match(v) else {NOT_MATCH})
            continue
        s = {v} if kind == KIND_SINGLE else set(v)
        if kind == KIND_SINGLE and not isinstance(v, str):
            raise ValueError(f"single-label {what} must be strings")
        unknown = s - known
        if unknown:
            raise ValueError(f"{what} contain classes not in the schema: {sorted(unknown)[:5]}")
        out.append(s)
    return out


def evaluate(y_true: Sequence, y_pred: Sequence, kind: str, classes: Sequence[str]) -> dict:
    """Per-class and averaged precision/recall/F1 with counts, plus confusions.

    Single-label: y are class names. Multi-label: y are lists of class names (may be empty).
    Trainable: y are "match" / "not_match" (also "no_match", "close_match", or booleans);
    ``classes`` is ignored and the table has the two rows match / not_match.
    """
    check_kind(kind)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items, y_pred {len(y_pred)}")
    cls = list(BINARY_CLASSES) if kind == KIND_BINARY else list(classes)
    true_sets = _as_sets(y_true, kind, cls, "y_true")
    pred_sets = _as_sets(y_pred, kind, cls, "y_pred")
    n = len(true_sets)

    index = {c: i for i, c in enumerate(cls)}
    t_ind = np.zeros((n, len(cls)), dtype=bool)
    p_ind = np.zeros((n, len(cls)), dtype=bool)
    for row, (t, p) in enumerate(zip(true_sets, pred_sets, strict=True)):
        t_ind[row, [index[c] for c in t]] = True
        p_ind[row, [index[c] for c in p]] = True
    tps = (t_ind & p_ind).sum(axis=0)
    fps = (~t_ind & p_ind).sum(axis=0)
    fns = (t_ind & ~p_ind).sum(axis=0)

    per_class: dict[str, dict] = {}
    totals = Counter()
    macro_members = []
    for j, c in enumerate(cls):
        tp, fp, fn = int(tps[j]), int(fps[j]), int(fns[j])
        tn = n - tp - fp - fn
        p, r, f = _prf(tp, fp, fn)
        per_class[c] = {
            "precision": p,
            "recall": r,
            "f1": f,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "support": tp + fn,
        }
        totals.update({"tp": tp, "fp": fp, "fn": fn, "tn": tn})
        if tp + fp + fn > 0:
            macro_members.append(c)

    mp, mr, mf = _prf(totals["tp"], totals["fp"], totals["fn"])
    result: dict = {
        "kind": kind,
        "n_documents": n,
        "classes": cls,
        "per_class": per_class,
        "micro": {
            "precision": mp,
            "recall": mr,
            "f1": mf,
            "tp": totals["tp"],
            "fp": totals["fp"],
            "fn": totals["fn"],
            "tn": totals["tn"],
        },
        "macro": {
            k: (float(np.mean([per_class[c][k] for c in macro_members])) if macro_members else 0.0)
            for k in ("precision", "recall", "f1")
        },
    }
    result["macro"]["n_classes"] = len(macro_members)

    if kind in (KIND_SINGLE, KIND_BINARY):
        matrix = [[0] * len(cls) for _ in cls]
        for t, p in zip(true_sets, pred_sets, strict=True):
            matrix[index[next(iter(t))]][index[next(iter(p))]] += 1
        correct = sum(matrix[i][i] for i in range(len(cls)))
        result["accuracy"] = _ratio(correct, n)
        result["n_correct"] = correct
        result["confusion_matrix"] = {
            "labels": cls,
            "rows": "actual",
            "columns": "predicted",
            "matrix": matrix,
        }
        pairs = Counter()
        for i, a in enumerate(cls):
            for j, p in enumerate(cls):
                if i != j and matrix[i][j]:
                    pairs[(a, p)] = matrix[i][j]
    else:
        exact = sum(1 for t, p in zip(true_sets, pred_sets, strict=True) if t == p)
        result["exact_match_ratio"] = _ratio(exact, n)
        result["n_exact_match"] = exact
        result["n_without_prediction"] = sum(1 for p in pred_sets if not p)
        # A confusion is (a class the document has but did not get, a class it got wrongly).
        pairs = Counter()
        for t, p in zip(true_sets, pred_sets, strict=True):
            if t == p:
                continue
            for a in t - p:
                for w in p - t:
                    pairs[(a, w)] += 1
    result["top_confusions"] = [
        {"actual": a, "predicted": p, "count": c}
        for (a, p), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    ]
    return result


def threshold_curve(y_true_binary: Sequence, scores: Sequence[float], max_points: int = 200) -> list[dict]:
    """Precision/recall/F1 when predicting positive for score >= threshold, threshold ascending.

    One point per distinct score (the only thresholds where anything changes), thinned to at
    most ``max_points`` points spread by rank when there are more.
    """
    y = np.asarray([bool(v) for v in y_true_binary], dtype=bool)
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError("y_true_binary and scores differ in length")
    if len(s) == 0:
        return []
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    tp_cum = np.cumsum(y[order])
    n_pos = int(y.sum())
    # Last position of each distinct score in descending order = everything >= that score.
    last = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    if max_points and len(last) > max_points:
        pick = np.unique(np.linspace(0, len(last) - 1, max_points).round().astype(int))
        last = last[pick]
    out = []
    for i in last[::-1]:  # ascending thresholds
        k = int(i) + 1
        tp = int(tp_cum[i])
        p, r, f = _prf(tp, k - tp, n_pos - tp)
        out.append(
            {"threshold": float(s_sorted[i]), "precision": p, "recall": r, "f1": f, "n_positive_predicted": k}
        )
    return out


def binomial_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (good at small n and near 0 or 1)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    phat = successes / n
    den = 1.0 + z * z / n
    center = (phat + z * z / (2 * n)) / den
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    low = 0.0 if successes == 0 else max(0.0, center - half)  # exact at the edges (no float dust)
    high = 1.0 if successes == n else min(1.0, center + half)
    return (low, high)


# Microsoft Purview's retraining rule allows F1 to drop by at most this much when accuracy rises.
F1_DROP_ALLOWED = 0.005
_EPS = 1e-9  # float noise: 0.895 - 0.900 is -0.005000000000000004, which must count as -0.005


def _accuracy_f1(metrics: Mapping) -> tuple[float, float]:
    """Accept {"accuracy", "f1"} or an evaluate() result (F1 of 'match' if binary, else macro)."""
    if "per_class" in metrics:
        acc = metrics.get("accuracy", metrics.get("exact_match_ratio"))
        if metrics.get("kind") == KIND_BINARY:
            f1 = metrics["per_class"][MATCH]["f1"]
        else:
            f1 = metrics["macro"]["f1"]
        return float(acc), float(f1)
    return float(metrics["accuracy"]), float(metrics["f1"])


def recommend_republish(published: Mapping, retrained: Mapping) -> dict:
    """Re-publish when accuracy rose and F1 fell by at most 0.005, or accuracy held and F1 rose."""
    acc0, f10 = _accuracy_f1(published)
    acc1, f11 = _accuracy_f1(retrained)
    d_acc = acc1 - acc0
    d_f1 = f11 - f10
    acc_rose = d_acc > _EPS
    acc_held = abs(d_acc) <= _EPS
    if acc_rose and d_f1 >= -F1_DROP_ALLOWED - _EPS:
        action = "republish"
        if d_f1 >= -_EPS:
            reason = "Accuracy rose and F1 did not fall."
        else:
            reason = f"Accuracy rose and F1 fell by {-d_f1:.4f}, within the allowed {F1_DROP_ALLOWED}."
    elif acc_held and d_f1 > _EPS:
        action = "republish"
        reason = "Accuracy held and F1 rose."
    else:
        action = "more_feedback"
        if acc_rose:
            reason = f"Accuracy rose but F1 fell by {-d_f1:.4f}, more than the allowed {F1_DROP_ALLOWED}."
        elif acc_held:
            reason = "Accuracy held and F1 did not rise."
        else:
            reason = "Accuracy fell."
        reason += " Keep the published version and give more feedback."
    return {
        "action": action,
        "reason": reason,
        "accuracy_published": acc0,
        "accuracy_retrained": acc1,
        "accuracy_change": round(d_acc, 9),
        "f1_published": f10,
        "f1_retrained": f11,
        "f1_change": round(d_f1, 9),
    }
