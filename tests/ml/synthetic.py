"""Small deterministic synthetic corpora for fast engine tests."""

from __future__ import annotations

import numpy as np

NOISE = [f"filler{i}" for i in range(300)]


def topic_words(name: str, n: int = 12) -> list[str]:
    return [f"{name}word{i}" for i in range(n)]


def make_doc(rng: np.random.Generator, topics: list[str], length: int = 40, signal: float = 0.35) -> str:
    words = []
    for _ in range(length):
        if topics and rng.random() < signal:
            words.append(str(rng.choice(topic_words(str(rng.choice(topics))))))
        else:
            words.append(str(rng.choice(NOISE)))
    return " ".join(words).capitalize() + "."


def single_label(
    n_per_class: int = 60, classes: tuple[str, ...] = ("sport", "money", "music"), seed: int = 0
):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_per_class):
        for c in classes:
            texts.append(make_doc(rng, [c]))
            labels.append(c)
    return texts, labels, list(classes)


def multi_label(n: int = 300, classes: tuple[str, ...] = ("red", "green", "blue", "rare"), seed: int = 0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        tags = [c for c in classes[:3] if rng.random() < 0.35]
        if rng.random() < 0.08:
            tags.append("rare")
        texts.append(make_doc(rng, tags))
        labels.append(tags)
    return texts, labels, list(classes)
