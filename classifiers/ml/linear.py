"""One-vs-rest linear models fitted with SGD, and the cheap calibrators put on top of them.

Why SGDClassifier(loss="modified_huber"): measured on the shared corpora (2 cores) it matched
or beat LinearSVC and lbfgs LogisticRegression on macro-F1 in a fraction of the time
(debsection 0.775 in 0.65 s of fitting vs LinearSVC 0.765 in 3.9 s and lbfgs 87 s), and
log_loss SGD lost 0.02-0.2 macro-F1 at the same alphas. Class-by-class fitting in our own
thread pool (SGD's epoch loop releases the GIL) gives progress and cancellation between
classes and one code path for single-label, multi-label and binary models.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

from .base import Run


@dataclass(frozen=True)
class SGDSettings:
    alpha: float
    loss: str = "modified_huber"
    penalty: str = "l2"
    max_iter: int = 100
    tol: float = 1e-3
    # Stop after 2 epochs without improvement (sklearn's default 5): -40% fit time, same
    # macro-F1 on debsection/healthtweets/100k (measured within +-0.001).
    n_iter_no_change: int = 2
    # Epoch cap = max(min_epochs, this / n_documents): large corpora converge in few passes
    # (100k documents: 5 epochs gave the same macro-F1 as 14, in 4.5 s instead of 10 s).
    sample_updates: int = 500_000
    min_epochs: int = 5
    class_weight: str | None = None  # None | "balanced" | "sqrt" (sqrt of the balanced ratio)

    def to_dict(self) -> dict:
        return {"estimator": "SGDClassifier (one-vs-rest)", **asdict(self)}


def _class_seed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, k]).generate_state(1)[0] % (2**31 - 1))


def _fit_one(
    x: sp.csr_matrix, y: np.ndarray, settings: SGDSettings, seed: int, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, float]:
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        # One class only (e.g. a rare class missing from a fold): a constant decision.
        return np.zeros(x.shape[1], dtype=np.float32), (1.0 if n_pos else -1.0)
    cw = None
    if settings.class_weight in ("balanced", "sqrt"):
        ratio = (len(y) - n_pos) / n_pos
        cw = {0: 1.0, 1: float(ratio if settings.class_weight == "balanced" else np.sqrt(ratio))}
    epochs = min(settings.max_iter, max(settings.min_epochs, -(-settings.sample_updates // x.shape[0])))
    clf = SGDClassifier(
        loss=settings.loss,
        penalty=settings.penalty,
        alpha=settings.alpha,
        max_iter=epochs,
        tol=settings.tol,
        n_iter_no_change=settings.n_iter_no_change,
        class_weight=cw,
        random_state=seed,
    )
    clf.fit(x, y.astype(np.int8), sample_weight=sample_weight)
    return clf.coef_.ravel().astype(np.float32), float(clf.intercept_[0])


def fit_ovr(
    x: sp.csr_matrix,
    y: np.ndarray,
    settings: SGDSettings,
    seed: int,
    n_jobs: int = 2,
    run: Run | None = None,
    stage: str = "fitting",
    span: tuple[float, float] = (0.0, 1.0),
    sample_weight: np.ndarray | None = None,
    rows: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit one binary SGD per column of the boolean matrix ``y`` (n, k).

    ``rows[j]``, if given, restricts column j's fit to those documents (e.g. one CV fold each).

    Returns (coef_t (d, k) float32 C-order, intercept (k,) float32). ``run`` is polled for
    cancellation and told the progress after each class, from this (the caller's) thread.
    """
    k = y.shape[1]
    coef_t = np.zeros((x.shape[1], k), dtype=np.float32)
    intercept = np.zeros(k, dtype=np.float32)
    stop = threading.Event()

    def task(j: int) -> tuple[int, np.ndarray | None, float]:
        if stop.is_set():
            return j, None, 0.0
        if rows is None:
            w, b = _fit_one(x, y[:, j], settings, _class_seed(seed, j), sample_weight)
        else:
            r = rows[j]
            sw = None if sample_weight is None else sample_weight[r]
            w, b = _fit_one(x[r], y[r, j], settings, _class_seed(seed, j), sw)
        return j, w, b

    done = 0
    # ConvergenceWarning (max_iter reached) is expected on noisy classes and harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
            pending = {pool.submit(task, j) for j in range(k)}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        j, w, b = fut.result()
                        if w is not None:
                            coef_t[:, j] = w
                            intercept[j] = b
                        done += 1
                    if run is not None:
                        run.check()
                        run.report(stage, span[0] + (span[1] - span[0]) * done / k)
            except BaseException:  # cancellation or a failed fit: stop queued classes
                stop.set()
                for fut in pending:
                    fut.cancel()
                raise
    return coef_t, intercept


def decision(x: sp.csr_matrix, coef_t: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return np.asarray(x @ coef_t) + intercept


# ---------------------------------------------------------------- calibrators (all cheap, 1-2 params)


def fit_temperature(scores: np.ndarray, y_index: np.ndarray) -> float:
    """Single-label: one temperature T for softmax(scores / T), by log-loss on held-out scores.

    One parameter, monotone, so it never changes the predicted class.
    """
    if len(scores) == 0:
        return 1.0
    rows = np.arange(len(scores))

    def nll(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t), axis=1)[rows, y_index].mean())

    res = minimize_scalar(nll, bounds=(-6.0, 3.0), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(res.x))


def apply_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(scores / temperature, axis=1)


def fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling sigmoid(a*s + b) with Platt's smoothed targets (no 0/1 overconfidence)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0, (4.0 if n_pos else -4.0)
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * s + ab[1]
        p = expit(z)
        # log(1+e^z) - t*z, stable
        val = np.logaddexp(0.0, z) - t * z
        g = p - t
        return float(val.sum()), np.array([float((g * s).sum()), float(g.sum())])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def apply_platt(scores: np.ndarray, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    return expit(np.asarray(scores) * a + b)


def best_f1_threshold(probs: np.ndarray, y: np.ndarray, default: float = 0.5) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of 'probs >= threshold'; midway between neighbouring scores."""
    y = np.asarray(y, dtype=bool)
    n_pos = int(y.sum())
    if n_pos == 0 or len(y) == 0:
        return default, 0.0
    order = np.argsort(-probs, kind="mergesort")
    p_sorted = probs[order]
    tp = np.cumsum(y[order])
    k = np.arange(1, len(y) + 1)
    f1 = 2.0 * tp / (k + n_pos)
    # only cut between distinct scores
    valid = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(valid, f1, -1.0)
    i = int(np.argmax(f1))
    thr = (p_sorted[i] + p_sorted[i + 1]) / 2.0 if i + 1 < len(p_sorted) else p_sorted[i] * 0.999
    return float(thr), float(f1[i])
