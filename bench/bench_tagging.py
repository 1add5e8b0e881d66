#!/usr/bin/env python
"""The tagging studio at 100,000 documents, on SQLite and PostgreSQL.

Imports N short documents (tweets from the shared healthtweets corpus, cycled) into a
throwaway database, with a few thousand documents already tagged, then times the studio's
real requests through Django's test client (server time: middleware, view, queries,
template): "tag and get the next document" (the request a tagger makes every few seconds),
skip, undo, the studio page itself, the same with double tagging (overlap 2) and with the
"most uncertain first" order over a model version's predictions. Prints a markdown table
of median and p95 milliseconds. Goal: tag-and-next p95 under 50 ms.

    .venv/bin/python bench/bench_tagging.py                  # both databases, 100,000 documents
    .venv/bin/python bench/bench_tagging.py --backend sqlite --docs 20000 --reps 100

Databases: a temporary SQLite file, and PostgreSQL database ``bench_tagging`` created and
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
import re
import statistics
import sys
import time
from pathlib import Path

from _harness import run_worker  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
DATASET = (
    Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets")) / "healthtweets.jsonl.gz"
)
BENCH_DB = "bench_tagging"
CHUNK = 5000
N_TAGGED = 4000
N_PREDICTIONS = 50_000
N_HISTORY = 20_000
N_SKIPS = 1_000
GOAL_MS = 50.0
DOC_RE = re.compile(r'name="document" value="(\d+)"')


def load_texts() -> list[str]:
    with gzip.open(DATASET, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def percentile(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(q * (len(times) - 1)))]


# --- Worker: one backend, in its own process ------------------------------------------------------
def worker(backend: str, n_docs: int, reps: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
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
    from classifiers.models import Class, Document, ModelVersion, Prediction, Project, Tag, TaggingAction

    call_command("migrate", verbosity=0)
    User = get_user_model()
    admin = User.objects.create_user("bench-admin", password="x" * 20)
    taggers = [User.objects.create_user(f"bench-tagger-{i}", password="x" * 20) for i in range(3)]
    project = do_create_project(admin, name="Bench tagging", kind="single_label")
    for t in taggers:
        do_add_member(admin, project, t, "tagger")
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
                    filename=f"tweet-{i:06d}.txt",
                    size=len(text.encode()),
                    content_type="text/plain",
                )
            )
        Document.objects.bulk_create(batch)
    import_seconds = time.perf_counter() - started

    rng = random.Random(0)
    doc_ids = list(Document.objects.filter(project=project).values_list("id", flat=True))
    tagged = rng.sample(doc_ids, min(N_TAGGED, len(doc_ids)))
    Tag.objects.bulk_create(
        [Tag(project=project, document_id=d, tag_class=rng.choice(classes), tagger=admin) for d in tagged],
        batch_size=CHUNK,
    )
    # A model version that scored the untagged documents (the "most uncertain first" order).
    version = ModelVersion.objects.create(
        project=project, number=1, kind=project.kind, artifact="none", artifact_sha256="0" * 64
    )
    untagged = sorted(set(doc_ids) - set(tagged))
    scored = rng.sample(untagged, min(N_PREDICTIONS, len(untagged)))
    Prediction.objects.bulk_create(
        [
            Prediction(
                model_version=version,
                document_id=d,
                project=project,
                labels=["cnn"],
                scores={"cnn": 0.5},
                top_score=0.5,
                uncertainty=round(rng.random(), 5),
            )
            for d in scored
        ],
        batch_size=CHUNK,
    )
    # A busy tagger: 20,000 earlier steps (undone) and 1,000 skips of their own.
    busy = taggers[0]
    TaggingAction.objects.bulk_create(
        [
            TaggingAction(
                project=project, document_id=tagged[i % len(tagged)], tagger=busy, kind="tag", undone=True
            )
            for i in range(N_HISTORY)
        ],
        batch_size=CHUNK,
    )
    TaggingAction.objects.bulk_create(
        [
            TaggingAction(project=project, document_id=d, tagger=busy, kind="skip", reason="bench")
            for d in rng.sample(untagged, min(N_SKIPS, len(untagged)))
        ],
        batch_size=CHUNK,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("document", "tag", "prediction", "lease", "taggingaction"):
                cursor.execute(f"VACUUM ANALYZE classifiers_{table}")
    # SQLite runs without ANALYZE: the app never runs it, so the plans must not need it.

    base = f"/projects/{project.slug}/tagging/"

    def card_doc(response) -> int | None:
        match = DOC_RE.search(response.content.decode())
        return int(match.group(1)) if match else None

    def timed(samples: list[tuple[float, float]], call):
        """Run one request; keep its wall-clock and CPU milliseconds (CPU time is this
        process's own work: on SQLite, the whole request without waiting for a core)."""
        wall, cpu = time.perf_counter(), time.process_time()
        response = call()
        samples.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        return response

    def session(user, queue: dict[str, str], n: int, op: str = "tag") -> list[tuple[float, float]]:
        client = Client()
        client.force_login(user)
        response = client.get(f"{base}queue/", queue)
        assert response.status_code == 200
        doc = card_doc(response)
        samples: list[tuple[float, float]] = []
        for i in range(n):
            if doc is None:
                break
            data = {"op": op, "document": doc, "mode": "queue", **queue}
            if op == "tag":
                data["class"] = classes[i % len(classes)].pk
            response = timed(samples, lambda d=data: client.post(f"{base}act/", d, HTTP_HX_REQUEST="true"))
            assert response.status_code == 200, (op, response.status_code, response.content[:500])
            doc = card_doc(response)
        return samples

    def repeat(n: int, call) -> list[tuple[float, float]]:
        samples: list[tuple[float, float]] = []
        for _ in range(n):
            response = timed(samples, call)
            assert response.status_code == 200, response.status_code
        return samples

    results = []

    def record(name: str, samples: list[tuple[float, float]], note: str = "") -> None:
        if not samples:  # a small --docs run can leave a queue empty
            samples, note = [(0.0, 0.0)], "no document in this queue"
        walls, cpus = [w for w, _c in samples], [c for _w, c in samples]
        results.append(
            {
                "case": name,
                "n": len(samples),
                "median": statistics.median(walls),
                "p95": percentile(walls, 0.95),
                "cpu_median": statistics.median(cpus),
                "cpu_p95": percentile(cpus, 0.95),
                "note": note,
            }
        )

    pool = {"scope": "pool", "order": "shuffle"}
    few = max(20, reps // 5)
    session(taggers[0], pool, 5)  # warm-up (caches, connections)
    record("Tag and next (overlap 1)", session(taggers[0], pool, reps))
    record("Skip and next", session(taggers[0], pool, few, op="skip"))

    client = Client()
    client.force_login(taggers[0])
    record(
        "Undo",
        repeat(few, lambda: client.post(f"{base}act/", {"op": "undo", **pool}, HTTP_HX_REQUEST="true")),
    )
    record("Open the studio (full page)", repeat(few, lambda: client.get(f"{base}queue/", pool)))
    record(
        "History: back",
        repeat(few, lambda: client.get(f"{base}history/", {"step": "back", **pool}, HTTP_HX_REQUEST="true")),
    )
    uncertain = {"scope": "pool", "order": "uncertain"}
    record(
        "Tag and next, most uncertain first",
        session(taggers[1], uncertain, reps),
        f"{len(scored):,} predictions",
    )
    record(
        "Tag and next, test set + search", session(taggers[1], {**pool, "set": "test", "q": "health"}, few)
    )

    # My queue: an Admin assigned 1,000 documents to a tagger.
    from classifiers.actions.tagging import do_create_assignment
    from classifiers.tagging import QueueOptions

    assignee = User.objects.create_user("bench-assignee", password="x" * 20)
    do_add_member(admin, project, assignee, "tagger")
    do_create_assignment(admin, project, [assignee], QueueOptions(), count=1000)
    mine = {"scope": "mine", "order": "shuffle"}
    record("Tag and next, my assignments", session(assignee, mine, reps), "1,000 assigned")

    Project.objects.filter(pk=project.pk).update(overlap=2)
    record("Tag and next (overlap 2)", session(taggers[2], pool, reps))

    # The read pages at this size, with 4,000 documents tagged by a second person (agreement
    # and conflicts read every double-tagged document).
    second = User.objects.create_user("bench-second", password="x" * 20)
    do_add_member(admin, project, second, "tagger")
    Tag.objects.bulk_create(
        [Tag(project=project, document_id=d, tag_class=rng.choice(classes), tagger=second) for d in tagged],
        batch_size=CHUNK,
    )
    admin_client = Client()
    admin_client.force_login(admin)
    for name, url in [
        ("Tagging overview (Admin)", base),
        ("Agreement page", f"{base}agreement/"),
        ("Conflicts page", f"{base}conflicts/"),
        ("My tags", f"{base}mine/"),
    ]:
        record(name, repeat(10, lambda u=url: admin_client.get(u)), "page, not a studio step")

    return {
        "backend": backend,
        "vendor": connection.vendor,
        "docs": len(doc_ids),
        "tags": Tag.objects.filter(project=project).count(),
        "import_seconds": import_seconds,
        "results": results,
    }


# --- Parent: databases, processes, the table ---------------------------------------------------
def run_backend(backend: str, n_docs: int, reps: int) -> dict:
    return run_worker(__file__, backend, BENCH_DB, ["--docs", str(n_docs), "--reps", str(reps)])


def print_table(runs: list[dict], reps: int) -> None:
    print(
        f"\nTagging studio, {runs[0]['docs']:,} documents, {N_TAGGED:,} tagged beforehand; the first tagger"
        f" has {N_HISTORY:,} earlier steps and {N_SKIPS:,} skips"
    )
    print(
        f"(server time through Django's test client; median / p95 ms; goal: tag and next p95 < {GOAL_MS:.0f} ms)\n"
    )
    print("(CPU: the Django process's own CPU time, median / p95: on SQLite that is the whole request")
    print("without waiting for a core, so it stays put when the machine is busy)\n")
    header = (
        "| Request | Requests | "
        + " | ".join(f"{r['vendor']} median / p95 ms | {r['vendor']} CPU ms" for r in runs)
        + " |"
    )
    print(header)
    print("|" + "---|" * (2 + 2 * len(runs)))
    for i, row in enumerate(runs[0]["results"]):
        cells = []
        for run in runs:
            res = run["results"][i]
            flag = "" if res["p95"] < GOAL_MS else " ⚠"
            cells.append(f"{res['median']:.1f} / {res['p95']:.1f}{flag}")
            cells.append(f"{res['cpu_median']:.1f} / {res['cpu_p95']:.1f}")
        note = f" ({row['note']})" if row["note"] else ""
        print(f"| {row['case']}{note} | {row['n']} | " + " | ".join(cells) + " |")
    print()
    for run in runs:
        print(f"- Import on {run['vendor']}: {run['docs']:,} documents in {run['import_seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=300, help="tag-and-next requests per case")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.docs, args.reps)))
        return
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    load_before = os.getloadavg()[0]
    runs = [run_backend(b, args.docs, args.reps) for b in backends]
    print_table(runs, args.reps)
    # Other work on the machine moves these figures a lot (2 cores): say how busy it was.
    print(f"- Load average (1 min): {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
