#!/usr/bin/env python
"""The document browser at 100,000 documents, on SQLite and PostgreSQL.

Imports N short documents (tweets from the shared healthtweets corpus, cycled) with a few
thousand tags into a throwaway database, then times the real views through Django's test
client (server time: middleware, view, queries, template) and prints a markdown table of
median and p95 milliseconds. Goal: every page under 150 ms, the last keyset page as fast
as the first.

    .venv/bin/python bench/bench_documents.py                  # both databases, 100,000 documents
    .venv/bin/python bench/bench_documents.py --backend sqlite --docs 20000 --reps 10

Databases: a temporary SQLite file, and PostgreSQL database ``bench_documents`` created and
dropped through the ``test`` database at BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432/test). Each backend runs in its own process because
Django reads DATABASE_URL once.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from _harness import run_worker  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
DATASET = (
    Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets")) / "healthtweets.jsonl.gz"
)
BENCH_DB = "bench_documents"
CHUNK = 5000
N_TAGS = 4000
GOAL_MS = 150.0


def load_texts() -> list[str]:
    with gzip.open(DATASET, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


# --- Worker: one backend, in its own process ------------------------------------------------------
def worker(backend: str, n_docs: int, reps: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    # Plain static storage and quick password hashing; never the developer's data folder.
    os.environ["STUDIO_TESTING"] = "true"
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from classifiers.actions import do_add_member, do_create_project
    from classifiers.models import Class, Document, Tag
    from classifiers.search import (
        COUNT_CAP,
        DocumentQuery,
        count_documents,
        encode_cursor,
        filtered_documents,
        parse_query,
    )

    call_command("migrate", verbosity=0)
    User = get_user_model()
    admin = User.objects.create_user("bench-admin", password="x" * 20)
    tagger = User.objects.create_user("bench-tagger", password="x" * 20)
    project = do_create_project(admin, name="Bench documents", kind="single_label")
    do_add_member(admin, project, tagger, "tagger")
    classes = [Class.objects.create(project=project, name=n, position=i) for i, n in enumerate(
        ["goodhealth", "nytimes", "cnn", "reuters", "bbc"]
    )]  # fmt: skip

    texts = load_texts()
    started = time.perf_counter()
    for start in range(0, n_docs, CHUNK):
        batch = []
        for i in range(start, min(start + CHUNK, n_docs)):
            text = texts[i % len(texts)]
            batch.append(
                Document(
                    project=project,
                    set="test" if i % 5 == 0 else "training",
                    text=text,
                    text_chars=len(text),
                    text_hash=hashlib.sha256(f"{i}:{text}".encode()).hexdigest(),
                    filename=f"tweet-{(i * 7919) % n_docs:06d}.txt",
                    size=len(text.encode()),
                    content_type="text/plain",
                )
            )
        Document.objects.bulk_create(batch)
    import_seconds = time.perf_counter() - started

    rng = random.Random(0)
    doc_ids = list(Document.objects.filter(project=project).values_list("id", flat=True))
    tagged = rng.sample(doc_ids, min(N_TAGS, len(doc_ids)))
    # Skewed on purpose: the first class gets most tags, the last few.
    weights = [50, 25, 15, 8, 2]
    Tag.objects.bulk_create(
        [
            Tag(project=project, document_id=d, tag_class=rng.choices(classes, weights)[0], tagger=admin)
            for d in tagged
        ],
        batch_size=CHUNK,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does shortly after a bulk load: statistics and the visibility map.
            cursor.execute("VACUUM ANALYZE classifiers_document")
            cursor.execute("VACUUM ANALYZE classifiers_tag")
    # SQLite runs without ANALYZE: the app never runs it, so the plans must not need it.

    client = Client()
    client.force_login(admin)
    base = f"/projects/{project.slug}/documents/"
    newest = filtered_documents(project, DocumentQuery())
    middle_doc = newest[len(doc_ids) // 2]
    by_name = filtered_documents(project, DocumentQuery(sort="filename"))
    middle_by_name = by_name[len(doc_ids) // 2]
    rare = classes[-1]

    cases: list[tuple[str, str, dict]] = [
        ("First page", base, {}),
        ("Middle keyset page (newest)", base, {"after": encode_cursor("newest", middle_doc)}),
        ("Last page", base, {"last": "1"}),
        (
            "Middle keyset page (file name)",
            base,
            {"sort": "filename", "after": encode_cursor("filename", middle_by_name)},
        ),
        ("Last page (file name)", base, {"sort": "filename", "last": "1"}),
        ('Search, common word ("the")', base, {"q": "the"}),
        ('Search, one word ("ebola")', base, {"q": "ebola"}),
        ("Search, two words + set", base, {"q": "obesity diet", "set": "training"}),
        ("Filtered count: class + set", base, {"class": str(classes[0].pk), "set": "training"}),
        ("Filtered count: rare class + set", base, {"class": str(rare.pk), "set": "test"}),
        ("Untagged, training set", base, {"untagged": "1", "set": "training"}),
        ("Document page", f"{base}{middle_doc.pk}/", {}),
        ("Dataset dashboard", f"/projects/{project.slug}/dashboard/", {}),
    ]
    results = []
    for name, url, params in cases:
        response = client.get(url, params)  # warm-up (and a check)
        assert response.status_code == 200, (name, response.status_code)
        count = capped = None
        if url == base:
            query, _form = parse_query(params, project)
            count, capped = count_documents(filtered_documents(project, query, admin), query)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        shown = None if count is None else (f"> {COUNT_CAP:,}" if capped else f"{count:,}")
        results.append({"case": name, "median": statistics.median(times), "p95": p95, "count": shown})
    return {
        "backend": backend,
        "vendor": connection.vendor,
        "docs": len(doc_ids),
        "tags": len(tagged),
        "import_seconds": import_seconds,
        "results": results,
    }


# --- Parent: databases, processes, the table ---------------------------------------------------
def run_backend(backend: str, n_docs: int, reps: int) -> dict:
    return run_worker(__file__, backend, BENCH_DB, ["--docs", str(n_docs), "--reps", str(reps)])


def print_table(runs: list[dict], reps: int) -> None:
    print(
        f"\nDocument browser, {runs[0]['docs']:,} documents, {runs[0]['tags']:,} tags, {reps} requests each"
    )
    print("(server time through Django's test client; median / p95 ms; goal < 150 ms)\n")
    header = "| Request | Result | " + " | ".join(f"{r['vendor']} median / p95 ms" for r in runs) + " |"
    print(header)
    print("|" + "---|" * (2 + len(runs)))
    for i, row in enumerate(runs[0]["results"]):
        cells = []
        for run in runs:
            res = run["results"][i]
            flag = "" if res["p95"] < GOAL_MS else " ⚠"
            cells.append(f"{res['median']:.1f} / {res['p95']:.1f}{flag}")
        print(f"| {row['case']} | {row['count'] or ''} | " + " | ".join(cells) + " |")
    print()
    for run in runs:
        print(
            f"- Import on {run['vendor']}: {run['docs']:,} documents in {run['import_seconds']:.1f} s (bulk_create, chunks of {CHUNK:,})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.docs, args.reps)))
        return
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = [run_backend(b, args.docs, args.reps) for b in backends]
    print_table(runs, args.reps)


if __name__ == "__main__":
    main()
