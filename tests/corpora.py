"""Where the shared labelled corpora live, for tests that use them.

One env var, ``STUDIO_DATASETS_DIR`` (default ``../shared/datasets`` beside the project),
finds them. A missing corpus skips the test with a reason, except under ``CI=true``,
where it fails: CI must never pass by skipping the real-data tests.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    return Path(os.environ.get("STUDIO_DATASETS_DIR", PROJECT_ROOT.parent / "shared" / "datasets"))


def corpus_path(name: str) -> Path:
    """Path of ``name`` (e.g. ``"bbc"``), or skip (fail under CI) when it is absent."""
    path = datasets_dir() / f"{name}.jsonl.gz"
    if not path.exists():
        message = f"corpus {path} is absent (set STUDIO_DATASETS_DIR to the shared datasets folder)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def iter_corpus(name: str) -> Iterator[dict]:
    with gzip.open(corpus_path(name), "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def load_corpus(name: str, limit: int | None = None) -> list[dict]:
    rows = []
    for row in iter_corpus(name):
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return rows
