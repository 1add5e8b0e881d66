"""Seed-mode (trainable classifier) benchmark: positives only, then review batches.

For each category: a stratified 80/20 split (seed 0); ``--sizes`` seed positives drawn from
the training part; background = the rest of the corpus outside the test set (it still holds
unlabelled positives of the category); a balanced test set (all test positives and as many
test negatives). First model, then ``--reviews`` items reviewed in batches of ``--batch``,
each batch the background items closest to the current threshold, answered from the known
labels, with a retrain after each batch. Prints a markdown table. Figures only, no asserts.

    .venv/bin/python bench/bench_seed.py                   # bbc, spamassassin, 5 debsection sections
    .venv/bin/python bench/bench_seed.py --corpora bbc --sizes 50
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.ml import KIND_SINGLE, TrainingConfig, evaluate, stratified_split, train_seed  # noqa: E402

DATASETS = Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
DEBSECTION_CATEGORIES = ["python", "games", "sound", "math", "editors"]


def load(name: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with gzip.open(DATASETS / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def prf(model, texts: list[str], truth: list[bool]) -> dict:
    pred = model.predict(texts)
    ev = evaluate(["match" if t else "not_match" for t in truth], pred, "trainable", [])
    m = ev["per_class"]["match"]
    return {"p": m["precision"], "r": m["recall"], "f1": m["f1"]}


def run_category(texts, labels, train_idx, test_idx, cat, n_seed, args) -> dict:
    rng = np.random.default_rng(args.seed)
    train_pos = [i for i in train_idx if labels[i] == cat]
    seed_idx = set(rng.choice(train_pos, min(n_seed, len(train_pos)), replace=False).tolist())
    background_idx = [i for i in train_idx if i not in seed_idx]
    test_pos = [i for i in test_idx if labels[i] == cat]
    test_neg = [i for i in test_idx if labels[i] != cat]
    k = min(len(test_pos), len(test_neg))
    test_rows = sorted(
        rng.choice(test_pos, k, replace=False).tolist() + rng.choice(test_neg, k, replace=False).tolist()
    )
    test_texts = [texts[i] for i in test_rows]
    test_truth = [labels[i] == cat for i in test_rows]
    positives = [texts[i] for i in sorted(seed_idx)]
    background = [texts[i] for i in background_idx]
    cfg = TrainingConfig(seed=args.seed)

    t0 = time.perf_counter()
    model = train_seed(positives, background=background, config=cfg)
    first_s = time.perf_counter() - t0
    first = prf(model, test_texts, test_truth)
    first["threshold"] = model.threshold

    reviewed: list[tuple[str, bool]] = []
    reviewed_rows: set[int] = set()
    retrain_s = []
    while len(reviewed) < args.reviews:
        pool = [i for i in background_idx if i not in reviewed_rows]
        scores = model.match_scores([texts[i] for i in pool])
        take = min(args.batch, args.reviews - len(reviewed))
        closest = np.argsort(np.abs(scores - model.threshold), kind="mergesort")[:take]
        for j in closest:
            i = pool[int(j)]
            reviewed_rows.add(i)
            reviewed.append((texts[i], labels[i] == cat))
        t0 = time.perf_counter()
        model = train_seed(positives, background=background, config=cfg, reviewed=reviewed)
        retrain_s.append(time.perf_counter() - t0)
    after = prf(model, test_texts, test_truth) if args.reviews else first
    return {
        "category": cat,
        "n_seed": len(positives),
        "n_background": len(background),
        "n_test": len(test_rows),
        "first": first,
        "after": after,
        "first_s": first_s,
        "retrain_s": float(np.mean(retrain_s)) if retrain_s else 0.0,
        "reviewed_matches": sum(1 for _, m in reviewed if m),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", nargs="+", default=["bbc", "spamassassin", "debsection"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[50, 200])
    ap.add_argument("--reviews", type=int, default=100)
    ap.add_argument("--batch", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--categories", nargs="*", default=None, help="restrict to these categories")
    args = ap.parse_args()

    print(
        f"| corpus | category | seed | P | R | F1 | P after {args.reviews} | R after | F1 after | "
        "reviewed matches | first train s | retrain s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    for corpus in args.corpora:
        texts, labels = load(corpus)
        train_idx, test_idx = stratified_split(labels, KIND_SINGLE, 0.2, args.seed)
        cats = sorted(set(labels)) if corpus != "debsection" else DEBSECTION_CATEGORIES
        if args.categories:
            cats = [c for c in cats if c in args.categories]
        for n_seed in args.sizes:
            rows = []
            for cat in cats:
                r = run_category(texts, labels, train_idx, test_idx, cat, n_seed, args)
                rows.append(r)
                f, a = r["first"], r["after"]
                print(
                    f"| {corpus} | {cat} | {r['n_seed']} | {f['p']:.3f} | {f['r']:.3f} | {f['f1']:.3f} | "
                    f"{a['p']:.3f} | {a['r']:.3f} | {a['f1']:.3f} | {r['reviewed_matches']} | "
                    f"{r['first_s']:.2f} | {r['retrain_s']:.2f} |",
                    flush=True,
                )
            m_first = [np.mean([r["first"][k] for r in rows]) for k in ("p", "r", "f1")]
            m_after = [np.mean([r["after"][k] for r in rows]) for k in ("p", "r", "f1")]
            summary.append((corpus, n_seed, m_first, m_after, np.mean([r["retrain_s"] for r in rows])))
    print()
    print(
        f"| corpus | seed | mean P | mean R | mean F1 | mean F1 after {args.reviews} reviews | mean retrain s |"
    )
    print("|---|---|---|---|---|---|---|")
    for corpus, n_seed, m_first, m_after, rs in summary:
        print(
            f"| {corpus} | {n_seed} | {m_first[0]:.3f} | {m_first[1]:.3f} | {m_first[2]:.3f} | "
            f"{m_after[2]:.3f} | {rs:.2f} |"
        )


if __name__ == "__main__":
    main()
