"""Training: single-label, multi-label and trainable (binary) classifiers.

The plan of one train() call, and why:
1. Vectorise once (hashed TF-IDF, see features.py); folds are row slices of that matrix, so
   cross-validation never re-tokenises (the IDF sees all training texts, labels unseen).
2. Candidate selection on one stratified holdout (fold 0 of ``cv_folds``): the default setting
   first, then, while the time budget allows, the other tokenisation (case kept vs lowercased:
   +0.05 macro-F1 on health tweets, -0.008 on Debian sections) and a second L2 strength on the
   winner. One holdout fit per candidate instead of full CV: the measured difference worth
   having (case/punctuation on short texts) is several points, well above the holdout's
   noise, and selection then costs about one extra pipeline, not three.
3. Calibration on the winner's held-out scores, never on training scores: one temperature for
   single-label softmax, Platt sigmoids for multi-label and trainable models. Multi-label
   also completes the other folds when the budget allows, because its per-class F1-optimal
   thresholds need out-of-fold scores of the rare classes (debtags: macro-F1 0.47 with the
   0.5 cut -> 0.60 with tuned thresholds; "balanced" class weights gave 0.565 after tuning
   and doubled the fit time, so they are an option, not the default).
4. Final fit on all documents.
The budget (``time_budget_s``) only governs optional work (extra candidates, extra folds):
vectorising, one holdout fit and the final fit always happen. Budget decisions use a
deterministic cost model (CostModel), not the clock, so results do not depend on load.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn

from .base import (
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    MATCH,
    CancelFn,
    ProgressFn,
    Run,
    TrainingConfig,
    check_kind,
    label_sets,
)
from .features import Analyzer, HashedTfidf, name_columns
from .linear import (
    SGDSettings,
    apply_platt,
    apply_temperature,
    best_f1_threshold,
    decision,
    fit_ovr,
    fit_platt,
    fit_temperature,
)
from .metrics import evaluate
from .model import TrainedModel
from .splits import fold_ids, strata, stratified_subsample

ENGINE_VERSION = "1"
DEFAULT_ALPHA = {KIND_SINGLE: 2e-5, KIND_BINARY: 2e-5, KIND_MULTI: 1e-4}
SECOND_ALPHA_FACTOR = {KIND_SINGLE: 4.0, KIND_BINARY: 4.0, KIND_MULTI: 0.25}
MIN_GAIN = 0.002  # a non-default candidate must beat the current best by this much
ALPHA_STAGE_MAX_SHARE = 0.1  # the alpha candidate runs only if its fit is under 10% of the budget


@dataclass(frozen=True)
class Candidate:
    name: str
    lowercase: bool
    alpha: float


def library_versions() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "engine": ENGINE_VERSION,
    }


def label_matrix(labels: Sequence, kind: str, classes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Boolean (n, k) matrix and the model's class list (trainable: ["match"])."""
    check_kind(kind)
    sets = label_sets(labels, kind)
    if kind == KIND_BINARY:
        return np.array([[bool(s)] for s in sets], dtype=bool).reshape(len(sets), 1), [MATCH]
    cls = list(dict.fromkeys(classes))
    if len(cls) != len(classes):
        raise ValueError("classes contain duplicates")
    index = {c: i for i, c in enumerate(cls)}
    y = np.zeros((len(sets), len(cls)), dtype=bool)
    for row, s in enumerate(sets):
        for c in s:
            if c not in index:
                raise ValueError(f"label {c!r} is not one of the classes")
            y[row, index[c]] = True
    return y, cls


def _check_trainable(y: np.ndarray, kind: str) -> None:
    if y.shape[0] < 4:
        raise ValueError("at least 4 labelled documents are needed to train")
    counts = y.sum(axis=0)
    if kind == KIND_SINGLE and int((counts > 0).sum()) < 2:
        raise ValueError("single-label training needs documents of at least 2 classes")
    if kind == KIND_BINARY and (counts[0] == 0 or counts[0] == y.shape[0]):
        raise ValueError("trainable-classifier training needs both 'match' and 'not_match' documents")
    if kind == KIND_MULTI and int(counts.sum()) == 0:
        raise ValueError("multi-label training needs at least one labelled document")


def selection_score(raw: np.ndarray, y: np.ndarray, kind: str) -> float:
    """Held-out macro-F1 (single: argmax; multi/binary: at each class's best threshold)."""
    if kind == KIND_SINGLE:
        pred = np.argmax(raw, axis=1)
        present = np.flatnonzero(y.any(axis=0) | np.isin(np.arange(y.shape[1]), pred))
        truth = np.argmax(y, axis=1)
        f1s = []
        for j in present:
            tp = int(((pred == j) & (truth == j)).sum())
            fp = int(((pred == j) & (truth != j)).sum())
            fn = int(((pred != j) & (truth == j)).sum())
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        return float(np.mean(f1s)) if f1s else 0.0
    f1s = [best_f1_threshold(raw[:, j], y[:, j])[1] for j in range(y.shape[1]) if y[:, j].any()]
    return float(np.mean(f1s)) if f1s else 0.0


class _Features:
    """Vectorised training matrices per tokenisation, built on first use and timed."""

    def __init__(self, texts: list[str], config: TrainingConfig) -> None:
        self.texts = texts
        self.config = config
        self.cache: dict[bool, tuple[HashedTfidf, sp.csr_matrix]] = {}
        self.seconds: dict[bool, float] = {}

    def get(
        self, lowercase: bool, run: Run | None = None, span: tuple[float, float] = (0.0, 0.0)
    ) -> tuple[HashedTfidf, sp.csr_matrix]:
        if lowercase not in self.cache:

            def on_chunk(done: float) -> None:
                if run is not None:
                    run.check()
                    run.report("vectorizing", span[0] + (span[1] - span[0]) * done)

            t0 = time.perf_counter()
            vec = HashedTfidf(
                Analyzer(lowercase=lowercase, ngram_max=2, max_chars=self.config.max_chars),
                n_features=self.config.hash_buckets,
                min_df=self.config.min_df,
            )
            x = vec.fit_transform(self.texts, on_chunk)
            self.cache[lowercase] = (vec, x)
            self.seconds[lowercase] = time.perf_counter() - t0
        return self.cache[lowercase]

    def drop_except(self, lowercase: bool) -> None:
        for key in [k for k in self.cache if k != lowercase]:
            del self.cache[key]


class CostModel:
    """Deterministic time estimates for the budget decisions (reference: 2 cores, this engine).

    Decisions use estimates, never the clock, so the same data, config and seed always give
    the same candidates and the same model whatever the machine's load (measured clocks went
    2-3x slower while other jobs ran). Constants fitted to CPU-time measurements on the bench
    corpora (within ~25% on all of them): tokenising and hashing ~7M characters/s plus 3 us
    per document; SGD ~2.5e-9 s per stored value, class and epoch with 2 threads, ~8 epochs
    before early stopping (fewer when the epoch cap is lower).
    """

    CHARS_PER_S = 7e6
    DOC_S = 3e-6
    FIT_S_PER_UNIT = 2.5e-9
    TYPICAL_EPOCHS = 8

    def __init__(self, texts: list[str], config: TrainingConfig, budget_s: float) -> None:
        self.config = config
        self.budget_s = budget_s
        self.spent_s = 0.0
        chars = sum(min(len(t), config.max_chars) for t in texts)
        self.vectorize_s = chars / self.CHARS_PER_S + len(texts) * self.DOC_S

    def fit_s(
        self, x: sp.csr_matrix, rows: np.ndarray | None, n_classes: int, settings: SGDSettings
    ) -> float:
        """Estimated seconds to fit ``n_classes`` binary models on ``rows`` of ``x`` (None: all)."""
        if rows is None:
            n, nnz = x.shape[0], x.nnz
        else:
            n, nnz = len(rows), int((x.indptr[rows + 1] - x.indptr[rows]).sum())
        cap = max(settings.min_epochs, -(-settings.sample_updates // max(1, n)))
        epochs = min(self.TYPICAL_EPOCHS, settings.max_iter, cap)
        threads = max(1, min(self.config.n_jobs, n_classes))
        return 2 * self.FIT_S_PER_UNIT * nnz * n_classes * epochs / threads

    def spend(self, seconds: float) -> None:
        self.spent_s += seconds

    def fits(self, seconds: float) -> bool:
        return self.spent_s + seconds <= self.budget_s


def _settings(kind: str, alpha: float, config: TrainingConfig) -> SGDSettings:
    cw = config.multi_label_class_weight if kind == KIND_MULTI else None
    return SGDSettings(alpha=alpha, class_weight=cw)


CLASS_WEIGHT_NOTE = (
    "Multi-label imbalance is handled by per-class F1-optimal thresholds on out-of-fold scores; "
    "class weights are off by default because, on top of tuned thresholds, they lowered debtags "
    "macro-F1 (none 0.599, sqrt-balanced 0.576, balanced 0.565, balanced twice as slow). "
    "Set TrainingConfig.multi_label_class_weight to 'sqrt' or 'balanced' to use them."
)


def train(
    texts: Sequence[str],
    labels: Sequence,
    kind: str,
    classes: Sequence[str],
    config: TrainingConfig | None = None,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> TrainedModel:
    """Train a classifier. Labels: str (single), list[str] (multi), "match"/"not_match" (trainable)."""
    cfg = config or TrainingConfig()
    texts = [t if isinstance(t, str) else "" for t in texts]
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    y, cls = label_matrix(labels, kind, classes)
    _check_trainable(y, kind)
    run = Run(progress, should_cancel)
    run.report("preparing", 0.0)
    run.check()

    n_folds = max(2, cfg.cv_folds)
    folds = fold_ids(strata(labels, kind), n_folds, cfg.seed)
    hold = folds == 0
    fit_rows = np.flatnonzero(~hold)
    hold_rows = np.flatnonzero(hold)
    feats = _Features(texts, cfg)
    cost = CostModel(texts, cfg, cfg.time_budget_s)

    alpha0 = cfg.alpha if cfg.alpha is not None else DEFAULT_ALPHA[kind]
    lower0 = True if cfg.lowercase is None else cfg.lowercase
    trials: list[dict] = []
    results: dict[str, tuple[Candidate, float, np.ndarray, float]] = {}

    def try_candidate(cand: Candidate, span: tuple[float, float]) -> None:
        mid = span[0] + 0.5 * (span[1] - span[0])  # vectorising is about half the work
        _vec, x = feats.get(cand.lowercase, run, (span[0], mid))
        run.check()
        t0 = time.perf_counter()
        w, b = fit_ovr(
            x[fit_rows],
            y[fit_rows],
            _settings(kind, cand.alpha, cfg),
            cfg.seed,
            cfg.n_jobs,
            run,
            "selecting",
            (mid, span[1]),
        )
        fit_s = time.perf_counter() - t0
        raw = decision(x[hold_rows], w, b)
        score = selection_score(raw, y[hold_rows], kind)
        results[cand.name] = (cand, score, raw, fit_s)
        trials.append(
            {
                "name": cand.name,
                "lowercase": cand.lowercase,
                "alpha": cand.alpha,
                "holdout_macro_f1": round(score, 4),
                "fit_s": round(fit_s, 2),
                "status": "evaluated",
            }
        )

    def skip(cand: Candidate, why: str) -> None:
        trials.append({"name": cand.name, "lowercase": cand.lowercase, "alpha": cand.alpha, "status": why})

    first = Candidate(_cand_name(lower0, alpha0), lower0, alpha0)
    run.report("vectorizing", 0.02)
    try_candidate(first, (0.02, 0.35))
    _vec0, x0 = feats.get(first.lowercase)
    base_settings = _settings(kind, alpha0, cfg)
    fold_est = cost.fit_s(x0, fit_rows, y.shape[1], base_settings)
    final_est = cost.fit_s(x0, None, y.shape[1], base_settings)
    cost.spend(cost.vectorize_s + fold_est)

    # Multi-label thresholds need out-of-fold scores of the rare classes: that work is
    # reserved before any extra candidate (full OOF: debtags 0.598 vs holdout-only 0.594).
    oof_need = (n_folds - 1) * fold_est if kind == KIND_MULTI else 0.0

    def consider(cand: Candidate, extra_s: float, span: tuple[float, float]) -> None:
        if not cfg.select_candidates:
            skip(cand, "skipped: candidate selection off")
        elif cost.fits(extra_s + oof_need + final_est):
            try_candidate(cand, span)
            cost.spend(extra_s)
        else:
            skip(
                cand,
                f"skipped: time budget (estimated {extra_s:.1f}s more, "
                f"{cost.spent_s:.1f}s of {cost.budget_s:g}s spent, final fit {final_est:.1f}s)",
            )

    # Stage 1: the other tokenisation.
    if cfg.lowercase is None:
        other = Candidate(_cand_name(not lower0, alpha0), not lower0, alpha0)
        consider(other, cost.vectorize_s + fold_est, (0.35, 0.5))
    # Stage 2: a second L2 strength on the best tokenisation so far, only when its fit is cheap:
    # on the bench corpora it never beat the default by more than the holdout's noise
    # (test macro-F1 within +-0.007), so it is not worth a large share of the budget.
    if cfg.alpha is None:
        lead = _winner(results, first.name)
        alt_alpha = alpha0 * SECOND_ALPHA_FACTOR[kind]
        cand = Candidate(_cand_name(lead.lowercase, alt_alpha), lead.lowercase, alt_alpha)
        if cfg.select_candidates and fold_est > ALPHA_STAGE_MAX_SHARE * cfg.time_budget_s:
            skip(
                cand,
                f"skipped: its fit (estimated {fold_est:.1f}s) is over "
                f"{ALPHA_STAGE_MAX_SHARE:.0%} of the time budget",
            )
        else:
            consider(cand, fold_est, (0.5, 0.62))
    chosen = _winner(results, first.name)
    chosen_score = results[chosen.name][1]
    why = _why(chosen, first, results)
    feats.drop_except(chosen.lowercase)
    vec, x = feats.get(chosen.lowercase)
    settings = _settings(kind, chosen.alpha, cfg)

    # Out-of-fold scores for calibration: the holdout, or every fold when needed and affordable.
    raw_hold = results[chosen.name][2]
    cal_rows, cal_raw = hold_rows, raw_hold
    oof_note = "holdout fold only"
    if kind == KIND_MULTI and n_folds > 1:
        if cost.fits(oof_need + final_est):
            cost.spend(oof_need)
            oof = np.zeros(y.shape, dtype=np.float64)
            oof[hold_rows] = raw_hold
            for f in range(1, n_folds):
                tr = np.flatnonzero(folds != f)
                te = np.flatnonzero(folds == f)
                span = (0.62 + 0.13 * (f - 1) / (n_folds - 1), 0.62 + 0.13 * f / (n_folds - 1))
                w, b = fit_ovr(x[tr], y[tr], settings, cfg.seed, cfg.n_jobs, run, "cross-validating", span)
                oof[te] = decision(x[te], w, b)
            cal_rows, cal_raw = np.arange(len(texts)), oof
            oof_note = f"{n_folds}-fold out-of-fold"
        else:
            oof_note = "holdout fold only (time budget)"

    run.check()
    run.report("fitting", 0.75)
    t_final = time.perf_counter()
    coef_t, intercept = fit_ovr(x, y, settings, cfg.seed, cfg.n_jobs, run, "fitting", (0.75, 0.95))
    final_fit_s = time.perf_counter() - t_final

    run.report("calibrating", 0.96)
    y_cal = y[cal_rows]
    thresholds = None
    threshold = close_lower = None
    if kind == KIND_SINGLE:
        t = fit_temperature(cal_raw, np.argmax(y_cal, axis=1))
        calibration = {"method": "temperature", "temperature": t, "fitted_on": oof_note}
    else:
        ab = [fit_platt(cal_raw[:, j], y_cal[:, j]) for j in range(y.shape[1])]
        a = np.array([v[0] for v in ab])
        b = np.array([v[1] for v in ab])
        calibration = {"method": "platt", "a": a.tolist(), "b": b.tolist(), "fitted_on": oof_note}
        probs = apply_platt(cal_raw, a, b)
        if kind == KIND_MULTI:
            thresholds = []
            for j in range(y.shape[1]):
                if int(y_cal[:, j].sum()) >= 2:
                    thresholds.append(best_f1_threshold(probs[:, j], y_cal[:, j])[0])
                else:  # too few held-out positives to tune on
                    thresholds.append(0.5)
        else:
            threshold = best_f1_threshold(probs[:, 0], y_cal[:, 0])[0]
            close_lower = close_match_lower_for(threshold, probs[y_cal[:, 0], 0])

    term_names = _name_top_columns(vec, coef_t, texts, y, cfg.seed, kind)
    params = {
        "engine_version": ENGINE_VERSION,
        "kind": kind,
        "classes": cls,
        "estimator": settings.to_dict(),
        "class_weight_note": CLASS_WEIGHT_NOTE if kind == KIND_MULTI else None,
        "vectorizer": vec.describe(),
        "n_features": vec.n_columns,
        "n_train": len(texts),
        "chosen_candidate": chosen.name,
        "choice_reason": why,
        "holdout_macro_f1": round(chosen_score, 4),
        "candidates": trials,
        "calibration": calibration,
        "thresholds": (dict(zip(cls, [float(t) for t in thresholds], strict=True)) if thresholds else None),
        "threshold": threshold,
        "close_match_lower": close_lower,
        "cv_folds": n_folds,
        "seed": cfg.seed,
        "config": cfg.to_dict(),
        "budget": {
            "time_budget_s": cfg.time_budget_s,
            "estimated_s": round(cost.spent_s + final_est, 2),
            "rule": "optional work (extra candidates, extra folds) runs when the deterministic cost "
            "estimate fits the budget, so results never depend on the machine's load",
        },
        "timings": {
            "total_s": round(run.elapsed, 3),
            "vectorize_s": round(sum(feats.seconds.values()), 3),
            "final_fit_s": round(final_fit_s, 3),
        },
        "library_versions": library_versions(),
    }
    model = TrainedModel(
        kind,
        cls,
        vec,
        coef_t,
        intercept,
        calibration,
        params,
        term_names,
        thresholds=thresholds,
        threshold=threshold,
        close_match_lower=close_lower,
    )
    run.report("done", 1.0)
    return model


def _cand_name(lowercase: bool, alpha: float) -> str:
    return f"words+punctuation {'lowercased' if lowercase else 'case kept'}, alpha={alpha:g}"


def _winner(results: dict, first_name: str) -> Candidate:
    """Highest holdout score; the default wins unless beaten by MIN_GAIN."""
    default = results[first_name]
    best = default
    for r in results.values():
        if r[0].name != first_name and r[1] > best[1] + (MIN_GAIN if best is default else 0.0):
            best = r
    return best[0]


def _why(chosen: Candidate, first: Candidate, results: dict) -> str:
    scores = ", ".join(f"{name}: {r[1]:.4f}" for name, r in results.items())
    if len(results) == 1:
        return f"only the default setting was evaluated (holdout macro-F1 {scores.split(': ')[-1]})"
    if chosen.name == first.name:
        return f"default kept: no other candidate beat it by {MIN_GAIN} holdout macro-F1 ({scores})"
    return f"highest holdout macro-F1 ({scores})"


def close_match_lower_for(threshold: float, positive_probs: np.ndarray) -> float:
    """Lower edge of the 'close match' band: where 99% of known positives score above, but at
    least half the threshold (so the band stays narrow when positives are well separated)."""
    half = threshold / 2.0
    if len(positive_probs) == 0:
        return half
    q = float(np.quantile(positive_probs, 0.01))
    return q if half <= q < threshold else half


def _name_top_columns(
    vec: HashedTfidf,
    coef_t: np.ndarray,
    texts: list[str],
    y: np.ndarray,
    seed: int,
    kind: str,
    per_class_terms: int = 60,
) -> dict[int, str]:
    """Names for the strongest columns of each class, from a per-class sample of training texts."""
    k = coef_t.shape[1]
    wanted = set()
    for j in range(k):
        col = coef_t[:, j]
        wanted.update(np.argsort(-col)[:per_class_terms].tolist())
        if kind == KIND_BINARY:
            wanted.update(np.argsort(col)[:per_class_terms].tolist())
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y[:, j]) for j in range(k)]
    if kind == KIND_BINARY:
        groups.append(np.flatnonzero(~y[:, 0]))
    # Round-robin over classes, so a capped sample still covers every class.
    shuffled = [rng.permutation(g)[:200] for g in groups]
    order: list[int] = []
    seen: set[int] = set()
    for pos in range(max((len(g) for g in shuffled), default=0)):
        for g in shuffled:
            if pos < len(g) and int(g[pos]) not in seen:
                seen.add(int(g[pos]))
                order.append(int(g[pos]))
    return name_columns(vec, (texts[i] for i in order), np.fromiter(wanted, dtype=np.int64))


# ---------------------------------------------------------------------------------- analysis helpers


def out_of_fold_scores(
    texts: Sequence[str],
    labels: Sequence,
    kind: str,
    classes: Sequence[str],
    config: TrainingConfig | None = None,
    folds: int = 5,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> np.ndarray:
    """Calibrated scores of every document from a model that did not see it, shape (n, k).

    Uses the default setting (or the one fixed in ``config``), no candidate selection. The
    calibrator is fitted on the pooled out-of-fold scores. Feed to likely_mistakes().
    """
    cfg = config or TrainingConfig()
    texts = [t if isinstance(t, str) else "" for t in texts]
    y, _cls = label_matrix(labels, kind, classes)
    _check_trainable(y, kind)
    run = Run(progress, should_cancel)
    run.report("vectorizing", 0.0)
    lowercase = True if cfg.lowercase is None else cfg.lowercase
    alpha = cfg.alpha if cfg.alpha is not None else DEFAULT_ALPHA[kind]
    _vec, x = _Features(texts, cfg).get(lowercase)
    fold = fold_ids(strata(labels, kind), max(2, folds), cfg.seed)
    raw = np.zeros(y.shape, dtype=np.float64)
    settings = _settings(kind, alpha, cfg)
    for f in range(max(2, folds)):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        span = (0.1 + 0.85 * f / folds, 0.1 + 0.85 * (f + 1) / folds)
        w, b = fit_ovr(x[tr], y[tr], settings, cfg.seed, cfg.n_jobs, run, "cross-validating", span)
        raw[te] = decision(x[te], w, b)
    if kind == KIND_SINGLE:
        out = apply_temperature(raw, fit_temperature(raw, np.argmax(y, axis=1)))
    else:
        out = np.column_stack(
            [apply_platt(raw[:, j], *fit_platt(raw[:, j], y[:, j])) for j in range(y.shape[1])]
        )
    run.report("done", 1.0)
    return out


def likely_mistakes(
    labels: Sequence,
    oof_scores: np.ndarray,
    kind: str,
    classes: Sequence[str],
    max_items: int | None = 100,
) -> list[dict]:
    """Documents whose given tags disagree confidently with out-of-fold predictions.

    Confident learning (Northcutt et al.): class j's confidence threshold is the mean
    out-of-fold probability of j over the documents tagged j. A document tagged i is suspect
    when another class j reaches its threshold and beats i. Multi-label: a missing tag j is
    suspect at or above j's positive threshold; a given tag at or below the mean probability
    of j over untagged documents. Ranked by confidence (most likely mistakes first).
    """
    y, cls = label_matrix(labels, kind, classes)
    p = np.asarray(oof_scores, dtype=float)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape != y.shape:
        raise ValueError(f"oof_scores shape {p.shape} does not match labels {y.shape}")
    out: list[dict] = []
    if kind == KIND_MULTI:
        pos_t = np.array([p[y[:, j], j].mean() if y[:, j].any() else 1.0 for j in range(len(cls))])
        neg_t = np.array([p[~y[:, j], j].mean() if (~y[:, j]).any() else 0.0 for j in range(len(cls))])
        for i in range(len(y)):
            missing = np.flatnonzero(~y[i] & (p[i] >= pos_t))
            extra = np.flatnonzero(y[i] & (p[i] <= neg_t))
            if len(missing) == 0 and len(extra) == 0:
                continue
            conf = max([p[i, j] for j in missing] + [1.0 - p[i, j] for j in extra])
            given = [cls[j] for j in np.flatnonzero(y[i])]
            suggested = [cls[j] for j in range(len(cls)) if (y[i, j] and j not in extra) or j in missing]
            out.append(
                {
                    "index": i,
                    "given": given,
                    "suggested": suggested,
                    "confidence": float(conf),
                    "add": [cls[j] for j in missing],
                    "remove": [cls[j] for j in extra],
                }
            )
        out.sort(key=lambda d: (-d["confidence"], d["index"]))
        return out[:max_items] if max_items else out

    if kind == KIND_BINARY:  # as two classes: match / not_match
        p = np.column_stack([p[:, 0], 1.0 - p[:, 0]])
        y = np.column_stack([y[:, 0], ~y[:, 0]])
        cls = [MATCH, "not_match"]
    given_idx = np.argmax(y, axis=1)
    thresholds = np.array([p[y[:, j], j].mean() if y[:, j].any() else 1.0 for j in range(len(cls))])
    for i in range(len(y)):
        g = int(given_idx[i])
        over = p[i] >= thresholds
        over[g] = False
        if not over.any():
            continue
        cand = np.flatnonzero(over)
        j = int(cand[np.argmax(p[i, cand])])
        if p[i, j] <= p[i, g]:
            continue
        out.append(
            {
                "index": i,
                "given": cls[g],
                "suggested": cls[j],
                "confidence": float(p[i, j]),
                "given_score": float(p[i, g]),
                "margin": float(p[i, j] - p[i, g]),
            }
        )
    out.sort(key=lambda d: (-d["margin"], d["index"]))
    return out[:max_items] if max_items else out


def learning_curve(
    train_texts: Sequence[str],
    train_labels: Sequence,
    test_texts: Sequence[str],
    test_labels: Sequence,
    kind: str,
    classes: Sequence[str],
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    config: TrainingConfig | None = None,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> list[dict]:
    """Test macro/micro-F1 when training on nested stratified shares of the training set."""
    cfg = config or TrainingConfig()
    keys = strata(train_labels, kind)
    run = Run(progress, should_cancel)
    out = []
    for i, frac in enumerate(fractions):
        run.check()
        run.report("learning curve", i / len(fractions))
        rows = stratified_subsample(keys, frac, cfg.seed) if frac < 1.0 else list(range(len(train_texts)))
        model = train(
            [train_texts[r] for r in rows],
            [train_labels[r] for r in rows],
            kind,
            classes,
            cfg,
            should_cancel=should_cancel,
        )
        ev = evaluate(test_labels, model.predict(test_texts), kind, classes)
        out.append(
            {
                "fraction": float(frac),
                "n_train": len(rows),
                "macro_f1": ev["macro"]["f1"],
                "micro_f1": ev["micro"]["f1"],
            }
        )
    run.report("done", 1.0)
    return out
