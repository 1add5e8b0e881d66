"""What the fault tests share: tagged projects made in bulk, checks of stored originals, and
which cluster ran which task (from tests.faults.qprobe's log)."""

from __future__ import annotations

import hashlib
import random

from django.core.files.storage import default_storage

from classifiers.models import Class, Document, Tag
from tests.training_data import make_text


def executions_of(clusters, func: str, arg: int) -> list[dict]:
    return [e for e in clusters.executed() if e["func"].endswith(func) and e["args"] == [arg]]


def originals_whole(documents) -> int:
    """Every document has its original, whole (its SHA-256 as recorded); returns the count."""
    bad = []
    for doc in documents.only("original", "sha256"):
        try:
            with default_storage.open(doc.original.name, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != doc.sha256:
                    bad.append((doc.pk, "truncated or altered"))
        except FileNotFoundError:
            bad.append((doc.pk, "missing"))
    assert not bad, f"{len(bad)} documents without their whole original, e.g. {bad[:3]}"
    return documents.count()


def tagged_bulk(project, admin, per_class: int = 1000) -> None:
    rng = random.Random(7)
    classes = {
        name: Class.objects.create(project=project, name=name) for name in ("finance", "sport", "tech")
    }
    documents = []
    for name in classes:
        for i in range(per_class):
            text = f"{make_text(rng, name, n=60)} #{name}{i}"
            documents.append(
                Document(project=project, text=text, text_chars=len(text), text_hash=f"{name}{i}")
            )
    Document.objects.bulk_create(documents)
    Tag.objects.bulk_create(
        Tag(
            project=project, document=doc, tag_class=classes[doc.text_hash.rstrip("0123456789")], tagger=admin
        )
        for doc in Document.objects.filter(project=project)
    )
