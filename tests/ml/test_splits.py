from collections import Counter

import numpy as np

from classifiers.ml import KIND_BINARY, KIND_MULTI, KIND_SINGLE, stratified_split
from classifiers.ml.splits import fold_ids, stratified_subsample


def _labels() -> list[str]:
    return ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5


def test_split_is_a_stable_partition():
    labels = _labels()
    tr, te = stratified_split(labels, KIND_SINGLE, 0.2, seed=3)
    assert sorted(tr + te) == list(range(len(labels)))
    assert not set(tr) & set(te)
    assert tr == sorted(tr) and te == sorted(te)
    assert stratified_split(labels, KIND_SINGLE, 0.2, seed=3) == (tr, te)
    assert stratified_split(labels, KIND_SINGLE, 0.2, seed=4) != (tr, te)


def test_split_is_stratified():
    labels = _labels()
    _tr, te = stratified_split(labels, KIND_SINGLE, 0.2, seed=0)
    counts = Counter(labels[i] for i in te)
    assert counts == {"a": 10, "b": 6, "c": 3, "d": 1}


def test_a_class_split_does_not_move_when_another_class_grows():
    labels = _labels()
    _tr, te = stratified_split(labels, KIND_SINGLE, 0.2, seed=0)
    more = labels + ["z"] * 40  # appended at the end: indices of a..d unchanged
    _tr2, te2 = stratified_split(more, KIND_SINGLE, 0.2, seed=0)
    assert [i for i in te2 if more[i] != "z"] == te


def test_tiny_classes_keep_one_document_on_each_side():
    labels = ["x", "x", "y", "y", "y", "z"]
    tr, te = stratified_split(labels, KIND_SINGLE, 0.2, seed=0)
    assert {labels[i] for i in te} == {"x", "y"}
    assert {labels[i] for i in tr} == {"x", "y", "z"}


def test_multi_label_split_by_rarest_label():
    rng = np.random.default_rng(0)
    labels = []
    for _ in range(500):
        doc = ["common"] if rng.random() < 0.9 else []
        if rng.random() < 0.1:
            doc.append("rare")
        labels.append(doc)
    _tr, te = stratified_split(labels, KIND_MULTI, 0.2, seed=0)
    n_rare = sum("rare" in labels[i] for i in range(500))
    rare_test = sum("rare" in labels[i] for i in te)
    assert abs(rare_test - 0.2 * n_rare) <= 1
    assert abs(len(te) - 100) <= 3


def test_binary_split():
    labels = ["match"] * 20 + ["not_match"] * 80
    _tr, te = stratified_split(labels, KIND_BINARY, 0.25, seed=0)
    assert sum(labels[i] == "match" for i in te) == 5


def test_fold_ids_balanced_and_stratified():
    keys = _labels()
    folds = fold_ids(keys, 3, seed=0)
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 1
    for k in "abc":
        per = np.bincount(folds[[i for i, x in enumerate(keys) if x == k]], minlength=3)
        assert per.max() - per.min() <= 1


def test_subsample_is_nested():
    keys = _labels()
    half = set(stratified_subsample(keys, 0.5, seed=0))
    quarter = set(stratified_subsample(keys, 0.25, seed=0))
    assert quarter <= half
