"""Engine vs plain scikit-learn baselines on the shared corpora. Prints markdown tables.

Each corpus: one stratified 80/20 split (stratified_split, seed 0). Every configuration runs
in its own subprocess, so "peak RSS" is that process's whole high-water mark (Python, the
corpus, the features and the model), and configurations cannot warm each other up.
Train seconds = vectoriser fit + model fit (for the engine: the whole train() call, candidate
selection and calibration included), as wall time and as CPU time of all threads (the CPU
figure stays honest when other work shares the machine); predict docs/s = vectorise +
predict the test set.
Baselines: TF-IDF word 1-2 grams, sublinear tf, then LogisticRegression (lbfgs),
LinearSVC, SGDClassifier (defaults) or ComplementNB; multi-label via OneVsRestClassifier.
SGD and one-vs-rest baselines get 2 threads like the engine; lbfgs and liblinear multi-class
use one core.
Also: 100,000 documents / 27 classes (debsection training texts repeated with light
perturbation), scored on the untouched debsection test split.

    .venv/bin/python bench/bench_engine.py            # everything (lbfgs baselines take minutes)
    .venv/bin/python bench/bench_engine.py --fast     # skip the lbfgs baselines
    .venv/bin/python bench/bench_engine.py --corpora bbc --skip-big
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.ml import (  # noqa: E402
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    TrainingConfig,
    evaluate,
    stratified_split,
    train,
)

DATASETS = Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
CORPORA = ["bbc", "spamassassin", "debsection", "debtags", "healthtweets"]
ENGINE_CONFIGS = ["engine", "engine (no selection)"]
BASELINES = ["LogisticRegression lbfgs", "LinearSVC", "SGDClassifier", "ComplementNB"]
SLOW = {"LogisticRegression lbfgs"}


def cpu_s() -> float:
    """CPU seconds of this process, all threads: shows the work even when the machine is busy."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load(name: str) -> tuple[list[str], list]:
    texts, labels = [], []
    with gzip.open(DATASETS / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def perturbed_copies(texts: list[str], labels: list, n: int, seed: int = 0) -> tuple[list[str], list]:
    """``n`` documents cycling through ``texts``: ~10% of words dropped, two neighbour swaps."""
    rng = np.random.default_rng(seed)
    out_t, out_l = [], []
    order = np.concatenate([rng.permutation(len(texts)) for _ in range(n // len(texts) + 1)])[:n]
    for i in order:
        words = texts[i].split()
        keep = rng.random(len(words)) > 0.1
        words = [w for w, k in zip(words, keep, strict=True) if k] or words[:1]
        for _ in range(2):
            if len(words) > 2:
                j = int(rng.integers(len(words) - 1))
                words[j], words[j + 1] = words[j + 1], words[j]
        out_t.append(" ".join(words))
        out_l.append(labels[i])
    return out_t, out_l


def expected_calibration_error(model, texts: list[str], labels: list, kind: str, bins: int = 10) -> float:
    """ECE of the calibrated scores: top-class confidence (single-label) or every (doc, class) cell."""
    scores = model.predict_scores(texts)
    if kind == KIND_SINGLE:
        conf = scores.max(axis=1)
        hit = np.array([model.classes[j] == y for j, y in zip(scores.argmax(axis=1), labels, strict=True)])
    elif kind == KIND_MULTI:
        conf = scores.ravel()
        hit = np.array([[c in y for c in model.classes] for y in labels]).ravel()
    else:
        conf = scores[:, 0]
        hit = np.array([y == "match" for y in labels])
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    return float(
        sum(
            abs(conf[edges == b].mean() - hit[edges == b].mean()) * (edges == b).mean()
            for b in range(bins)
            if (edges == b).any()
        )
    )


def kind_of(corpus: str) -> str:
    return KIND_MULTI if corpus == "debtags" else KIND_SINGLE


def classes_of(labels: list, kind: str) -> list[str]:
    if kind == KIND_MULTI:
        return sorted({c for y in labels for c in y})
    return sorted(set(labels))


def baseline_model(name: str, kind: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    est = {
        "LogisticRegression lbfgs": lambda: LogisticRegression(max_iter=1000),
        "LinearSVC": lambda: LinearSVC(),
        "SGDClassifier": lambda: SGDClassifier(random_state=0, n_jobs=None if kind == KIND_MULTI else 2),
        "ComplementNB": lambda: ComplementNB(),
    }[name]()
    if kind == KIND_MULTI:
        est = OneVsRestClassifier(est, n_jobs=2)
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), est)


def run_one(corpus: str, method: str) -> dict:
    """Runs in a child process: load, split, train, predict, evaluate; returns figures."""
    warnings.filterwarnings("ignore")
    big = corpus == "debsection-100k"
    texts, labels = load("debsection" if big else corpus)
    kind = kind_of("debsection" if big else corpus)
    if method.startswith("engine (trainable"):
        kind = KIND_BINARY
    classes = classes_of(labels, kind_of("debsection" if big else corpus))
    tr, te = stratified_split(labels, kind_of("debsection" if big else corpus), 0.2, 0)
    train_t, train_l = [texts[i] for i in tr], [labels[i] for i in tr]
    test_t, test_l = [texts[i] for i in te], [labels[i] for i in te]
    if big:
        train_t, train_l = perturbed_copies(train_t, train_l, 100_000)
    if kind == KIND_BINARY:  # spamassassin as a trainable classifier: spam = match
        train_l = ["match" if y == "spam" else "not_match" for y in train_l]
        test_l = ["match" if y == "spam" else "not_match" for y in test_l]
    del texts, labels
    rss_loaded = rss_mb()
    extra: dict = {}

    if method.startswith("engine"):
        cfg = TrainingConfig(seed=0, select_candidates=method != "engine (no selection)")
        t0, c0 = time.perf_counter(), cpu_s()
        model = train(train_t, train_l, kind, classes, cfg)
        train_s, train_cpu = time.perf_counter() - t0, cpu_s() - c0
        t0 = time.perf_counter()
        pred = model.predict(test_t)
        predict_s = time.perf_counter() - t0
        extra = {
            "chosen": model.params["chosen_candidate"],
            "features": model.params["n_features"],
            "ece": expected_calibration_error(model, test_t, test_l, kind),
        }
    else:
        model = baseline_model(method, kind)
        if kind == KIND_MULTI:
            from sklearn.preprocessing import MultiLabelBinarizer

            mlb = MultiLabelBinarizer(classes=classes)
            y_fit = mlb.fit_transform(train_l)
        else:
            y_fit = train_l
        from joblib import parallel_backend

        t0, c0 = time.perf_counter(), cpu_s()
        # Threads, not worker processes, so that the CPU figure counts the one-vs-rest fits.
        with parallel_backend("threading", n_jobs=2):
            model.fit(train_t, y_fit)
        train_s, train_cpu = time.perf_counter() - t0, cpu_s() - c0
        t0 = time.perf_counter()
        raw = model.predict(test_t)
        predict_s = time.perf_counter() - t0
        pred = (
            [list(mlb.inverse_transform(raw[i : i + 1])[0]) for i in range(len(raw))]
            if kind == KIND_MULTI
            else list(raw)
        )
    ev = evaluate(test_l, pred, kind, classes)
    return {
        "corpus": corpus,
        "method": method,
        "kind": kind,
        "n_train": len(train_t),
        "n_test": len(test_t),
        "macro_f1": ev["macro"]["f1"],
        "micro_f1": ev["micro"]["f1"],
        "train_s": train_s,
        "train_cpu_s": train_cpu,
        "predict_docs_s": len(test_t) / predict_s if predict_s else float("inf"),
        "peak_rss_mb": rss_mb(),
        "rss_after_load_mb": rss_loaded,
        **extra,
    }


def in_subprocess(corpus: str, method: str) -> dict:
    cmd = [sys.executable, __file__, "--one", corpus, method]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"corpus": corpus, "method": method, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(r: dict) -> str:
    if "error" in r:
        return f"| {r['corpus']} | {r['method']} | error: {r['error']} | | | | | | |"
    note = f" ({r['chosen']})" if r.get("chosen") else ""
    ece = f"{r['ece']:.3f}" if "ece" in r else "-"
    return (
        f"| {r['corpus']} | {r['method']}{note} | {r['macro_f1']:.3f} | {r['micro_f1']:.3f} | "
        f"{r['train_s']:.1f} | {r['train_cpu_s']:.1f} | {r['predict_docs_s']:,.0f} | {r['peak_rss_mb']:.0f} | "
        f"{ece} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", nargs="+", default=CORPORA)
    ap.add_argument("--fast", action="store_true", help="skip the slow lbfgs LogisticRegression baselines")
    ap.add_argument("--skip-big", action="store_true", help="skip the 100k-document run")
    ap.add_argument("--big-only", action="store_true", help="only the 100k-document run")
    ap.add_argument("--one", nargs=2, metavar=("CORPUS", "METHOD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return

    results: list[dict] = []
    print(
        "| corpus | method | macro-F1 | micro-F1 | train s | train CPU s | predict docs/s | peak RSS MB | ECE |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    corpora = [] if args.big_only else args.corpora
    for corpus in corpora:
        methods = list(ENGINE_CONFIGS) + [b for b in BASELINES if not (args.fast and b in SLOW)]
        if corpus == "spamassassin":
            methods.insert(2, "engine (trainable: spam = match)")
        for method in methods:
            r = in_subprocess(corpus, method)
            results.append(r)
            print(row(r), flush=True)
    if not args.skip_big:
        for method in ["engine", "SGDClassifier"]:
            r = in_subprocess("debsection-100k", method)
            results.append(r)
            print(row(r), flush=True)

    if not corpora:
        return
    print()
    print(
        "| corpus | best baseline macro-F1 | goal (best - 0.01) | engine macro-F1 | fastest baseline at goal "
        "| engine train s (x that) | engine, no selection s (x that) |"
    )
    print("|---|---|---|---|---|---|---|")
    for corpus in corpora:
        rs = [r for r in results if r["corpus"] == corpus and "error" not in r]
        base = [r for r in rs if not r["method"].startswith("engine")]
        eng = {r["method"]: r for r in rs if r["method"].startswith("engine")}
        if not base or "engine" not in eng:
            continue
        best = max(base, key=lambda r: r["macro_f1"])
        goal = best["macro_f1"] - 0.01
        at_goal = [r for r in base if r["macro_f1"] >= goal]
        fastest = min(at_goal, key=lambda r: r["train_s"])
        e, e0 = eng["engine"], eng.get("engine (no selection)")
        ok = "yes" if e["macro_f1"] >= goal else "NO"
        ratio = e["train_s"] / fastest["train_s"]
        ratio0 = f"{e0['train_s']:.1f} ({e0['train_s'] / fastest['train_s']:.2f}x)" if e0 else "-"
        print(
            f"| {corpus} | {best['macro_f1']:.3f} ({best['method']}) | {goal:.3f} | {e['macro_f1']:.3f} ({ok}) | "
            f"{fastest['method']} {fastest['train_s']:.1f}s | {e['train_s']:.1f} ({ratio:.2f}x) | {ratio0} |"
        )


if __name__ == "__main__":
    main()
