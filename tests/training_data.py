"""Small tagged projects for training tests."""

from __future__ import annotations

import random

from classifiers.models import Class, Document, Tag

WORDS = {
    "finance": "invoice payment budget bank account loan interest tax audit revenue",
    "sport": "match goal team player league coach score season stadium referee",
    "tech": "software server network laptop code database cloud security update chip",
}
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "on",
    "for",
    "with",
    "this",
    "that",
    "is",
    "was",
    "report",
    "note",
    "today",
]


def make_text(rng: random.Random, cls: str, n: int = 12) -> str:
    words = WORDS[cls].split()
    return " ".join(rng.choice(words) if rng.random() < 0.6 else rng.choice(FILLER) for _ in range(n))


def tagged_project(project, tagger, per_class: int = 20, classes=("finance", "sport", "tech"), seed: int = 0):
    rng = random.Random(seed)
    objs = {name: Class.objects.create(project=project, name=name) for name in classes}
    docs = []
    for name in classes:
        for i in range(per_class):
            text = f"{make_text(rng, name)} #{name}{i}"
            doc = Document.objects.create(
                project=project, text=text, text_chars=len(text), text_hash=f"{name}{i}"
            )
            Tag.objects.create(project=project, document=doc, tag_class=objs[name], tagger=tagger)
            docs.append(doc)
    return objs, docs
