"""classifiers.agreement: the statistics against scikit-learn and published examples."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import cohen_kappa_score

from classifiers.agreement import (
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    interpret,
    krippendorff_alpha,
)


@pytest.mark.parametrize("seed", range(6))
def test_cohen_kappa_matches_sklearn(seed):
    rng = random.Random(seed)
    labels = ["a", "b", "c", "d"][: 2 + seed % 3]
    a = [rng.choice(labels) for _ in range(200)]
    # The second tagger agrees most of the time, so kappa is well away from 0.
    b = [x if rng.random() < 0.7 else rng.choice(labels) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_edge_cases():
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is 1: undefined
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(cohen_kappa_score(["a", "b"], ["b", "a"]))
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_fleiss_kappa_wikipedia_example():
    # https://en.wikipedia.org/wiki/Fleiss%27_kappa: 10 items, 14 raters, 5 categories: 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    items = [[j for j, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.2099, abs=1e-4)


def test_krippendorff_alpha_published_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data with
    # missing values: 4 coders, 12 units, alpha = 0.743.
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[c[u] for c in coders if c[u] is not None] for u in range(12)]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=1e-3)


def test_alpha_and_kappa_undefined_when_everyone_says_the_same():
    assert krippendorff_alpha([["a", "a"], ["a", "a", "a"]]) is None
    assert fleiss_kappa([["a", "a"]]) is None
    assert krippendorff_alpha([["a"]]) is None  # a lone answer cannot be paired


def test_report_two_taggers_single_label_matches_sklearn():
    rng = random.Random(1)
    names = ["billing", "legal", "hr"]
    answers, xs, ys = {}, [], []
    for doc in range(60):
        x = rng.choice(names)
        y = x if rng.random() < 0.75 else rng.choice(names)
        answers[doc] = {1: frozenset([x]), 2: frozenset([y])}
        xs.append(x)
        ys.append(y)
    answers[99] = {1: frozenset(["hr"])}  # one tagger only: left out
    report = agreement_report(answers, names, multi_label=False)
    assert report.method == "Cohen's kappa" and report.documents == 60
    assert report.overall == pytest.approx(cohen_kappa_score(xs, ys))
    for row in report.per_class:
        expected = cohen_kappa_score([x == row.name for x in xs], [y == row.name for y in ys])
        assert row.value == pytest.approx(expected)
    (pair,) = report.pairs
    assert pair.kappa == pytest.approx(cohen_kappa_score(xs, ys))
    assert pair.observed == pytest.approx(sum(x == y for x, y in zip(xs, ys, strict=True)) / 60)


def test_report_multi_label_pools_binary_items():
    answers = {
        1: {1: frozenset({"a", "b"}), 2: frozenset({"a"})},
        2: {1: frozenset({"b"}), 2: frozenset({"b"})},
        3: {1: frozenset({"a"}), 2: frozenset({"a", "b"})},
        4: {1: frozenset(), 2: frozenset({"b"})},
    }
    report = agreement_report(answers, ["a", "b"], multi_label=True)
    xs = [n in answers[d][1] for n in ["a", "b"] for d in answers]
    ys = [n in answers[d][2] for n in ["a", "b"] for d in answers]
    assert report.overall == pytest.approx(cohen_kappa_score(xs, ys))
    assert report.observed == pytest.approx(1 / 4)


def test_report_three_taggers_uses_alpha_with_pairs():
    answers = {
        1: {1: frozenset("a"), 2: frozenset("a"), 3: frozenset("b")},
        2: {1: frozenset("b"), 2: frozenset("b")},
        3: {2: frozenset("a"), 3: frozenset("a")},
        4: {1: frozenset("a"), 3: frozenset("b")},
    }
    report = agreement_report(answers, ["a", "b"], multi_label=False)
    assert report.method == "Krippendorff's alpha"
    assert report.overall == report.alpha
    units = [[next(iter(v)) for v in by.values()] for by in answers.values()]
    assert report.alpha == pytest.approx(krippendorff_alpha(units))
    assert [(p.a, p.b, p.documents) for p in report.pairs] == [(1, 2, 2), (1, 3, 2), (2, 3, 2)]


def test_interpretation():
    assert interpret(None) == "not defined yet"
    assert interpret(-0.1) == "worse than chance"
    assert interpret(0.5) == "moderate"
    assert interpret(0.95) == "almost perfect"
