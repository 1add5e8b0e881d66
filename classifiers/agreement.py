"""Agreement between taggers: Cohen's kappa (two taggers), Fleiss' kappa and Krippendorff's
alpha (any number of taggers, nominal data), per class and overall, with a pairwise table.

Pure Python and numpy, no Django: ``classifiers.tagging`` collects who said what and calls
``agreement_report``. Undefined figures (every answer the same class, so chance agreement is
already 1) are ``None``, never NaN, so pages can print "not defined yet".

Per class, every document is a binary item: did the tagger give this class or not (one
vs. rest). Overall, single-label and trainable projects compare the class (or match / not a
match) directly; multi-label projects pool the per-class binary items (Krippendorff's
recommendation for multi-valued data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

Answers = Mapping[int, Mapping[int, frozenset[str]]]  # document -> tagger -> labels


# --- The statistics ---------------------------------------------------------------------------
def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two taggers' answers on the same items (what
    ``sklearn.metrics.cohen_kappa_score`` computes). None when undefined."""
    if len(a) != len(b):
        raise ValueError("Both taggers need an answer for every item.")
    n = len(a)
    if n == 0:
        return None
    labels = {label: i for i, label in enumerate(sorted(set(a) | set(b), key=repr))}
    confusion = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b, strict=True):
        confusion[labels[x], labels[y]] += 1
    observed = np.trace(confusion) / n
    expected = float(np.dot(confusion.sum(axis=1), confusion.sum(axis=0))) / (n * n)
    if np.isclose(expected, 1.0):
        return None
    return float((observed - expected) / (1 - expected))


def fleiss_kappa(items: Iterable[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa; each item is the list of its taggers' answers (items with fewer than
    two answers are left out). Items may have different numbers of taggers (the usual
    generalisation: per-item agreement over its own pairs)."""
    per_item: list[float] = []
    totals: Counter[Hashable] = Counter()
    answers = 0
    for values in items:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        per_item.append(sum(c * (c - 1) for c in counts.values()) / (m * (m - 1)))
        totals.update(counts)
        answers += m
    if not per_item:
        return None
    p_bar = sum(per_item) / len(per_item)
    p_e = sum((c / answers) ** 2 for c in totals.values())
    if np.isclose(p_e, 1.0):
        return None
    return float((p_bar - p_e) / (1 - p_e))


def krippendorff_alpha(units: Iterable[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha for nominal data; each unit is the list of the answers it got
    (missing answers simply absent; units with one answer cannot be paired and are left out).

    alpha = 1 - D_o / D_e from the coincidence matrix: observed disagreement
    sum_u (m_u^2 - sum_c n_uc^2) / (m_u - 1), expected (n^2 - sum_c n_c^2) / (n - 1)."""
    disagreement = 0.0
    totals: Counter[Hashable] = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        disagreement += (m * m - sum(c * c for c in counts.values())) / (m - 1)
        totals.update(counts)
    n = sum(totals.values())
    if n < 2:
        return None
    expected = (n * n - sum(c * c for c in totals.values())) / (n - 1)
    if expected == 0:
        return None
    return float(1 - disagreement / expected)


# --- The report -----------------------------------------------------------------------------
@dataclass
class ClassAgreement:
    name: str
    value: float | None  # the main method's figure for this class (binary, one vs. rest)
    positives: int  # answers that gave the class


@dataclass
class PairAgreement:
    a: int  # tagger ids
    b: int
    documents: int  # documents both tagged
    observed: float | None  # share of those with identical answers
    kappa: float | None  # Cohen's kappa on those documents (overall answers)


@dataclass
class AgreementReport:
    documents: int  # documents with answers from at least two taggers
    taggers: list[int]
    method: str  # "Cohen's kappa" or "Krippendorff's alpha"
    overall: float | None
    alpha: float | None  # Krippendorff's alpha (always computed: handles any design)
    fleiss: float | None
    observed: float | None  # share of documents where every tagger gave the same answer
    per_class: list[ClassAgreement] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.documents > 0


def _overall_value(labels: frozenset[str]) -> str:
    """Single-label and trainable: one answer per tagger (a stray second tag makes a
    combined answer, which disagrees with everything else, as it should)."""
    return "|".join(sorted(labels))


def agreement_report(answers: Answers, classes: Sequence[str], *, multi_label: bool) -> AgreementReport:
    """``answers``: document -> tagger -> the labels that tagger gave. Documents with fewer
    than two taggers are ignored. ``classes``: the class names to report on, in order."""
    shared = {doc: by_tagger for doc, by_tagger in answers.items() if len(by_tagger) >= 2}
    taggers = sorted({t for by_tagger in shared.values() for t in by_tagger})
    two = len(taggers) == 2

    def binary_units(name: str) -> list[list[bool]]:
        return [[name in labels for labels in by_tagger.values()] for by_tagger in shared.values()]

    def binary_pairs(name: str) -> tuple[list[bool], list[bool]]:
        a, b = taggers
        return (
            [name in shared[d][a] for d in shared],
            [name in shared[d][b] for d in shared],
        )

    per_class = []
    for name in classes:
        value = cohen_kappa(*binary_pairs(name)) if two else krippendorff_alpha(binary_units(name))
        positives = sum(name in labels for by_tagger in shared.values() for labels in by_tagger.values())
        per_class.append(ClassAgreement(name, value, positives))

    if multi_label:
        units = [u for name in classes for u in binary_units(name)]
        pair_lists = [binary_pairs(name) for name in classes] if two else []
        pooled_a = [x for a, _b in pair_lists for x in a]
        pooled_b = [y for _a, b in pair_lists for y in b]
    else:
        units = [[_overall_value(labels) for labels in by_tagger.values()] for by_tagger in shared.values()]
        if two:
            a, b = taggers
            pooled_a = [_overall_value(shared[d][a]) for d in shared]
            pooled_b = [_overall_value(shared[d][b]) for d in shared]
    alpha = krippendorff_alpha(units)
    overall = cohen_kappa(pooled_a, pooled_b) if two else alpha
    unanimous = sum(len(set(by_tagger.values())) == 1 for by_tagger in shared.values())

    pairs = []
    for a, b in combinations(taggers, 2):
        docs = [d for d, by_tagger in shared.items() if a in by_tagger and b in by_tagger]
        if not docs:
            continue
        if multi_label:
            xs = [name in shared[d][a] for d in docs for name in classes]
            ys = [name in shared[d][b] for d in docs for name in classes]
        else:
            xs = [_overall_value(shared[d][a]) for d in docs]
            ys = [_overall_value(shared[d][b]) for d in docs]
        same = sum(shared[d][a] == shared[d][b] for d in docs)
        pairs.append(PairAgreement(a, b, len(docs), same / len(docs), cohen_kappa(xs, ys)))

    return AgreementReport(
        documents=len(shared),
        taggers=taggers,
        method="Cohen's kappa" if two else "Krippendorff's alpha",
        overall=overall,
        alpha=alpha,
        fleiss=fleiss_kappa(units),
        observed=unanimous / len(shared) if shared else None,
        per_class=per_class,
        pairs=pairs,
    )


def interpret(value: float | None) -> str:
    """Landis and Koch's words for a kappa (also used for alpha, as a rough guide)."""
    if value is None:
        return "not defined yet"
    if value < 0:
        return "worse than chance"
    for limit, word in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if value <= limit:
            return word
    return "almost perfect"
