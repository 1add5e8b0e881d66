"""Seeded, stratified train/test splits and cross-validation folds.

Stratum of a document: its class (single-label), match / not match (trainable), or its rarest
label in the corpus (multi-label; "" when it has none). Stratifying by the rarest label keeps
every label's share of the test set close to the target fraction, because the rare labels are
the ones a plain shuffle gets wrong. Each stratum is shuffled with its own random generator
derived from (seed, stratum name): the split of one class does not change when documents of
another class are added, and the result never depends on Python's salted hash().
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from .base import KIND_MULTI, check_kind, label_sets


def strata(labels: Sequence, kind: str) -> list[str]:
    check_kind(kind)
    sets = label_sets(labels, kind)
    if kind != KIND_MULTI:
        return [next(iter(s)) if s else "" for s in sets]
    freq = Counter(c for s in sets for c in s)
    return [min(s, key=lambda c: (freq[c], c)) if s else "" for s in sets]


def _groups(keys: Sequence[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    return groups


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def stratified_split(
    labels: Sequence, kind: str, test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[int], list[int]]:
    """(train indices, test indices), both sorted. Strata of 2+ documents keep 1+ on each side."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    test: list[int] = []
    for key, idx in sorted(_groups(strata(labels, kind)).items()):
        n = len(idx)
        k = min(max(round(n * test_fraction), 1), n - 1) if n >= 2 else 0
        perm = _rng(seed, key).permutation(n)
        test.extend(idx[j] for j in perm[:k])
    test_set = set(test)
    return [i for i in range(len(labels)) if i not in test_set], sorted(test)


def fold_ids(keys: Sequence[str], n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold number of each document, stratified by ``keys`` and balanced in size."""
    folds = np.zeros(len(keys), dtype=np.int32)
    offset = 0
    for key, idx in sorted(_groups(keys).items()):
        perm = _rng(seed, key).permutation(len(idx))
        for pos, j in enumerate(perm):
            folds[idx[j]] = (pos + offset) % n_folds
        offset += len(idx)  # rotate the start so small strata do not all land in fold 0
    return folds


def stratified_subsample(keys: Sequence[str], fraction: float, seed: int = 0) -> list[int]:
    """A stratified share of the documents; nested (a smaller fraction is a subset of a larger)."""
    chosen: list[int] = []
    for key, idx in sorted(_groups(keys).items()):
        perm = _rng(seed + 7919, key).permutation(len(idx))
        k = max(1, round(len(idx) * fraction)) if fraction > 0 else 0
        chosen.extend(idx[j] for j in perm[:k])
    return sorted(chosen)
