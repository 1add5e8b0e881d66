"""A few short checks on the real shared corpora (skipped when absent, failing under CI=true)."""

import numpy as np

from classifiers.ml import (
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    TrainingConfig,
    evaluate,
    stratified_split,
    train,
    train_seed,
)
from tests.corpora import load_corpus


def _split(rows, kind, fraction=0.2):
    labels = [r["label"] for r in rows]
    tr, te = stratified_split(labels, kind, fraction, seed=0)
    return (
        [rows[i]["text"] for i in tr],
        [labels[i] for i in tr],
        [rows[i]["text"] for i in te],
        [labels[i] for i in te],
    )


def test_bbc_single_label_macro_f1():
    rows = load_corpus("bbc")
    xtr, ytr, xte, yte = _split(rows, KIND_SINGLE)
    classes = sorted(set(ytr))
    model = train(xtr, ytr, KIND_SINGLE, classes, TrainingConfig(seed=0))
    ev = evaluate(yte, model.predict(xte), KIND_SINGLE, classes)
    assert ev["macro"]["f1"] > 0.95
    top = model.top_terms(10)
    assert any(t in {"match", "cup", "coach", "england", "game", "win"} for t, _ in top["sports"])


def test_bbc_seed_mode_50_positives_against_background():
    rows = load_corpus("bbc")
    labels = [r["label"] for r in rows]
    tr, te = stratified_split(labels, KIND_SINGLE, 0.2, seed=0)
    rng = np.random.default_rng(0)
    target = "tech"
    seed_rows = set(rng.choice([i for i in tr if labels[i] == target], 50, replace=False).tolist())
    background = [rows[i]["text"] for i in tr if i not in seed_rows]
    model = train_seed([rows[i]["text"] for i in sorted(seed_rows)], background=background)
    test_pos = [i for i in te if labels[i] == target]
    test_neg = rng.choice([i for i in te if labels[i] != target], len(test_pos), replace=False).tolist()
    test = test_pos + test_neg
    truth = ["match" if labels[i] == target else "not_match" for i in test]
    ev = evaluate(truth, model.predict([rows[i]["text"] for i in test]), KIND_BINARY, [])
    assert ev["per_class"]["match"]["f1"] > 0.9
    assert model.params["n_background"] <= len(background)  # duplicates of positives are dropped


def test_spamassassin_as_trainable_classifier():
    rows = load_corpus("spamassassin")[::3]  # every third message: ~2,000, both groups
    xtr, ytr, xte, yte = _split(rows, KIND_SINGLE)
    to_binary = {"spam": "match", "ham": "not_match"}
    model = train(
        xtr, [to_binary[y] for y in ytr], KIND_BINARY, ["match", "not_match"], TrainingConfig(seed=0)
    )
    ev = evaluate([to_binary[y] for y in yte], model.predict(xte), KIND_BINARY, [])
    assert ev["per_class"]["match"]["f1"] > 0.93
    assert ev["accuracy"] > 0.95


def test_debtags_multi_label_subset():
    rows = load_corpus("debtags", limit=6000)
    xtr, ytr, xte, yte = _split(rows, KIND_MULTI)
    classes = sorted({c for y in ytr for c in y})
    model = train(xtr, ytr, KIND_MULTI, classes, TrainingConfig(seed=0, time_budget_s=8))
    ev = evaluate(yte, model.predict(xte), KIND_MULTI, classes)
    assert ev["micro"]["f1"] > 0.6
    assert ev["macro"]["f1"] > 0.4
    assert len(model.params["thresholds"]) == len(classes)
