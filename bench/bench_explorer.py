#!/usr/bin/env python
"""The content explorer and re-classification at 1,000,000 production items (PostgreSQL).

In a throwaway PostgreSQL database: a trainable classifier ("sport" from the shared BBC
corpus: 200 seeds, 1,000 background articles) is trained through the real training task
(django-q2 in sync mode), published, and given a label policy. Then N production items
(1-2 KB BBC texts, cycled, each with a unique suffix) are bulk-loaded with PostgreSQL COPY
together with their ``Classification`` rows (about 20% match, 10% close match, 70% no
match; scores consistent with the version's threshold; arrivals spread over 90 days) and
the policy's ``AppliedLabel`` rows on the matches; then VACUUM ANALYZE (what autovacuum
does shortly after a bulk load).

Measured in-process (server time):

- the explorer view (``content_explorer`` through Django's test client: middleware, view,
  every query, template): first page, a deep keyset page, outcome, score + date, label and
  full-text filters; and ``explorer.page()`` alone for each;
- ``explorer.count()`` for the filters and ``explorer.counts_per_classifier()``;
- re-classification: a second version (the same artifact, a new threshold, as
  ``do_set_threshold`` makes) is published and ``classify_run`` re-classifies the newest
  ``--reclassify`` items, with the time split between ``serving.classify``, the
  Classification upsert, the applied labels and the rest (reading chunks, bookkeeping).

Goals: every explorer figure under 150 ms; re-classification at least 2,000 items/s on
2 cores. Cases over 150 ms print EXPLAIN (ANALYZE, BUFFERS) of their slow queries.

    .venv/bin/python bench/bench_explorer.py                               # 1,000,000 items
    .venv/bin/python bench/bench_explorer.py --items 50000 --reclassify 10000 --reps 5

Database ``bench_explorer``, created and dropped through BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432/test). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import POSTGRES_ADMIN_URL, postgres  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
DATASET = Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets")) / "bbc.jsonl.gz"
BENCH_DB = "bench_explorer"
GOAL_MS = 150.0
GOAL_ITEMS_PER_S = 2000.0
COPY_CHUNK = 20_000
SEEDS = 200
BACKGROUND = 1000
T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def load_corpus() -> list[tuple[str, str]]:
    with gzip.open(DATASET, "rt", encoding="utf-8") as f:
        return [(row["text"], row["label"]) for row in map(json.loads, f)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- Worker: everything inside Django, in its own process -------------------------------------------
def worker(n_items: int, n_reclassify: int, reps: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ["STUDIO_TESTING"] = "true"  # django-q2 sync, plain static storage, quick hashing
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from unittest import mock

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    import classifiers.production as production
    from classifiers import explorer, serving
    from classifiers.actions.deployments import do_deploy
    from classifiers.actions.production import do_create_label, do_create_policy
    from classifiers.actions.projects import do_create_project
    from classifiers.actions.trainable import do_set_threshold
    from classifiers.actions.training import do_request_training
    from classifiers.models import (
        AppliedLabel,
        Classification,
        ClassificationRun,
        Document,
        ModelVersion,
        TrainingRun,
    )

    assert connection.vendor == "postgresql", "this benchmark needs PostgreSQL"
    out: dict = {"items": n_items}

    # --- A trained, published trainable classifier with a label policy ----------------------------
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the explorer caches its counts
    user = get_user_model().objects.create_user("bench-admin", password="x" * 20)
    project = do_create_project(user, name="Sport finder", kind="trainable")
    corpus = load_corpus()
    rng = random.Random(0)
    sport = [t for t, label in corpus if label == "sports"]
    rng.shuffle(sport)
    seeds = set(sport[:SEEDS])
    others = [t for t, _ in corpus if t not in seeds]
    background = rng.sample(others, BACKGROUND)

    def add(texts: list[str], doc_set: str, prefix: str) -> None:
        Document.objects.bulk_create(
            [
                Document(project=project, set=doc_set, text=t, text_chars=len(t), size=len(t.encode()),
                         text_hash=hashlib.sha256(f"{prefix}{i}:{t}".encode()).hexdigest(),
                         filename=f"{prefix}-{i}.txt", content_type="text/plain")
                for i, t in enumerate(texts)
            ]
        )  # fmt: skip

    add(sport[:SEEDS], "seed", "seed")
    add(background, "background", "bg")
    started = time.perf_counter()
    run, _ = do_request_training(user, project)  # the task runs on commit (sync mode)
    run.refresh_from_db()
    assert run.state == TrainingRun.State.SUCCEEDED, run.error
    out["train_seconds"] = time.perf_counter() - started
    v1 = ModelVersion.objects.get(training_run=run)
    do_deploy(user, project, "production", v1)  # no production items yet: an empty run
    label = do_create_label(user, "Retain 7 years")
    policy = do_create_policy(user, project, label)
    threshold = v1.threshold if v1.threshold is not None else 0.5
    lower = v1.close_match_lower if v1.close_match_lower is not None else threshold * 0.6
    out["threshold"], out["close_match_lower"] = threshold, lower
    log(f"trained v1 in {out['train_seconds']:.1f} s (threshold {threshold:.3f}, close from {lower:.3f})")

    # --- Bulk load with COPY ---------------------------------------------------------------------
    base_texts = [" ".join(t.split()) for t, _ in corpus]
    tables = ["classifiers_document", "classifiers_classification", "classifiers_appliedlabel"]
    now = datetime.now(UTC)
    start_at = now - timedelta(days=90)
    span = 90 * 86400.0
    with connection.cursor() as c:
        c.execute("SELECT coalesce(max(id), 0) + 1 FROM classifiers_document")
        first_id = c.fetchone()[0]
        # Indexes are built once after the load (equivalent end state, far quicker than
        # maintaining a GIN index row by row); keys backing constraints stay.
        c.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = ANY(%s::regclass[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
            [tables],
        )
        indexes = c.fetchall()
        for name, _ in indexes:
            c.execute(f'DROP INDEX "{name}"')
        # Consistent by construction: skip the per-row foreign-key triggers of the load.
        c.execute("SET session_replication_role = replica")
    doc_cols = [f.column for f in Document._meta.concrete_fields]  # not search_vector (generated)
    cls_cols = [f.column for f in Classification._meta.concrete_fields]
    lab_cols = [f.column for f in AppliedLabel._meta.concrete_fields]
    out_rng = random.Random(7)
    load = {"documents": 0.0, "classifications": 0.0, "labels": 0.0}
    matches = 0
    started = time.perf_counter()
    with connection.cursor() as c:
        raw = c.cursor
        for chunk_start in range(0, n_items, COPY_CHUNK):
            docs, cls, labs = [], [], []
            for i in range(chunk_start, min(chunk_start + COPY_CHUNK, n_items)):
                doc_id = first_id + i
                base = base_texts[i % len(base_texts)]
                length = 1000 + (i * 7919) % 1000
                while len(base) < length:
                    base = base + " " + base
                cut = base[:length]
                text = f"{cut[: cut.rfind(' ')]} [item {i}]"
                at = (start_at + timedelta(seconds=span * i / n_items + out_rng.random())).isoformat()
                f = {
                    "id": doc_id, "project_id": project.pk, "set": "production", "text": copy_escape(text),
                    "text_chars": len(text), "has_text": "t", "text_hash": hashlib.sha256(text.encode()).hexdigest(),
                    "filename": f"item-{i:07d}.txt", "external_id": f"ext-{i}", "content_type": "text/plain",
                    "size": len(text.encode()), "sha256": "", "original": "", "thumbnail": "",
                    "file_created": "\\N", "file_modified": "\\N", "metadata": "{}", "batch_id": "\\N",
                    "created_by_id": "\\N", "created_at": at,
                }  # fmt: skip
                docs.append("\t".join(str(f[col]) for col in doc_cols))
                r, u = out_rng.random(), out_rng.random()
                if r < 0.2:
                    outcome, score = "match", threshold + (1 - threshold) * u
                elif r < 0.3:
                    outcome, score = "close_match", lower + (threshold - lower) * u
                else:
                    outcome, score = "no_match", lower * u
                score = round(score, 4)
                g = {
                    "id": i + 1, "document_id": doc_id, "project_id": project.pk, "model_version_id": v1.pk,
                    "outcome": outcome, "labels": '["match"]' if outcome == "match" else "[]",
                    "classes_key": "|match|" if outcome == "match" else "", "score": score,
                    "scores": json.dumps({"match": score}), "received_at": at, "classified_at": at,
                }  # fmt: skip
                cls.append("\t".join(str(g[col]) for col in cls_cols))
                if outcome == "match":
                    matches += 1
                    h = {
                        "id": matches, "document_id": doc_id, "project_id": project.pk, "label_id": label.pk,
                        "policy_id": policy.pk, "model_version_id": v1.pk, "score": score, "applied_at": at,
                    }  # fmt: skip
                    labs.append("\t".join(str(h[col]) for col in lab_cols))
            for key, table, cols, lines in (
                ("documents", "classifiers_document", doc_cols, docs),
                ("classifications", "classifiers_classification", cls_cols, cls),
                ("labels", "classifiers_appliedlabel", lab_cols, labs),
            ):
                t = time.perf_counter()
                with raw.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    copy.write(("\n".join(lines) + "\n").encode())
                load[key] += time.perf_counter() - t
            if (chunk_start // COPY_CHUNK) % 10 == 9:
                done = chunk_start + COPY_CHUNK
                log(f"copied {done:,} items ({done / (time.perf_counter() - started):,.0f}/s)")
        c.execute("SET session_replication_role = DEFAULT")
        out["copy_seconds"] = time.perf_counter() - started
        out["copy_split"] = load
        log(f"COPY done in {out['copy_seconds']:.0f} s {load}")
        for table in tables:
            c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        t = time.perf_counter()
        c.execute("SET maintenance_work_mem = '1GB'")
        out["index_seconds"] = {}
        for name, definition in indexes:
            t1 = time.perf_counter()
            c.execute(definition)
            out["index_seconds"][name] = time.perf_counter() - t1
            log(f"index {name}: {out['index_seconds'][name]:.1f} s")
        c.execute("RESET maintenance_work_mem")
        out["indexes_total_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        for table in tables:
            c.execute(f"VACUUM ANALYZE {table}")
        out["vacuum_seconds"] = time.perf_counter() - t
        c.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)", [tables]
        )
        out["sizes_mb"] = {name: size / 2**20 for name, size in c.fetchall()}
    out["load_seconds"] = time.perf_counter() - started
    out["matches"] = matches
    log(f"loaded and indexed in {out['load_seconds']:.0f} s; sizes {out['sizes_mb']}")

    # --- The explorer --------------------------------------------------------------------------------
    client = Client()
    client.force_login(user)
    url = reverse("content_explorer")
    ids = list(Classification.objects.filter(project=project).order_by("document_id").values_list("document_id", flat=True))
    middle = ids[len(ids) // 2]
    day = now.date()
    score_date = {"score_min": "0.6", "score_max": "0.9",
                  "date_from": str(day - timedelta(days=60)), "date_to": str(day - timedelta(days=30))}  # fmt: skip
    slug = {"classifier": project.slug}
    list_cases = [
        ("First page", {}),
        ("Deep keyset page (after = middle id)", {"after": str(middle)}),
        ("outcome=close_match", {"outcome": "close_match"}),
        ("Score 0.6-0.9 + 30-day window", score_date),
        ("Label filter", {"label": str(label.pk)}),
        ('Search "government"', {"q": "government"}),
        ('Search "chelsea" + outcome=match', {"q": "chelsea", "outcome": "match"}),
    ]
    count_cases = [
        ("count: no filter", {}),
        ("count: outcome=match", {"outcome": "match"}),
        ("count: score 0.6-0.9", {"score_min": "0.6", "score_max": "0.9"}),
        ("count: score 0.6-0.9 + 30-day window", score_date),
        ("count: label", {"label": str(label.pk)}),
        ('count: search "government"', {"q": "government"}),
    ]

    def measure(fn) -> dict:
        t = time.perf_counter()
        result = fn()
        warm = time.perf_counter() - t
        n = reps if warm < 1.0 else max(3, reps // 4)  # keep very slow cases bounded
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return {"p50": statistics.median(times), "p95": pct(times, 0.95), "n": n, "result": result}

    def slow_queries(fn) -> list[dict]:
        """The queries of one call over 10 ms, slowest first, with EXPLAIN (ANALYZE, BUFFERS)."""
        with CaptureQueriesContext(connection) as ctx:
            fn()
        slow = sorted((q for q in ctx.captured_queries if float(q["time"]) > 0.010), key=lambda q: -float(q["time"]))
        found = []
        for q in slow[:3]:
            with connection.cursor() as c:
                c.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan = "\n".join(row[0] for row in c.fetchall())
            found.append({"ms": float(q["time"]) * 1000, "sql": q["sql"], "plan": plan})
        return found

    results = []
    for name, params in list_cases:
        query, errors = explorer.parse(params)
        assert not errors, errors

        def view(params=params) -> int:
            response = client.get(url, {**slug, **params})
            assert response.status_code == 200, response.status_code
            return len(response.content)

        row = {"case": f"View: {name}", "kind": "view", **measure(view)}
        row["page"] = measure(lambda query=query: len(explorer.page(project, query)[0]))
        row["rows"] = row["page"]["result"]
        if row["p95"] > GOAL_MS:
            row["explain"] = slow_queries(view)
        results.append(row)
        log(f"{row['case']}: {row['p50']:.1f} / {row['p95']:.1f} ms (page() {row['page']['p50']:.1f})")
    for name, params in count_cases:
        query, errors = explorer.parse(params)
        assert not errors, errors
        # count() answers (items, capped): past COUNT_CAP a filter shows "more than 10,000".
        row = {"case": name, "kind": "count", **measure(lambda query=query: explorer.count(project, query)[0])}
        row["rows"] = row["result"]
        if row["p95"] > GOAL_MS:
            row["explain"] = slow_queries(lambda query=query: explorer.count(project, query))
        results.append(row)
        log(f"{name}: {row['p50']:.1f} / {row['p95']:.1f} ms = {row['result']:,}")
    def cold_counts():
        from django.core.cache import cache

        cache.delete(explorer._counts_key(project.pk))  # what the first view after a write pays
        return explorer.counts_per_classifier([project])

    cold = {"case": "counts_per_classifier, uncached", "kind": "count", **measure(cold_counts)}
    cold["rows"] = cold["result"][project.pk]["total"]
    cold["result"] = cold["rows"]
    results.append(cold)
    log(f"counts_per_classifier, uncached: {cold['p50']:.1f} / {cold['p95']:.1f} ms")
    row = {"case": "counts_per_classifier (cached, as views see it)", "kind": "count",
           **measure(lambda: explorer.counts_per_classifier([project]))}  # fmt: skip
    row["rows"] = row["result"][project.pk]["total"]
    row["result"] = row["result"][project.pk]
    if row["p95"] > GOAL_MS:
        row["explain"] = slow_queries(lambda: explorer.counts_per_classifier([project]))
    results.append(row)
    log(f"counts_per_classifier: {row['p50']:.1f} / {row['p95']:.1f} ms")
    out["explorer"] = results

    # --- Re-classification -----------------------------------------------------------------------------
    v2 = do_set_threshold(user, v1, threshold=min(0.95, threshold + 0.05), close_match_lower=lower)
    # Publish without the on-commit run over every item (sync mode would run it right here);
    # the run below covers the newest items only.
    with mock.patch.object(production, "request_classification"):
        do_deploy(user, project, "production", v2)
    n_reclassify = min(n_reclassify, len(ids))
    cursor = ids[len(ids) - n_reclassify - 1] if n_reclassify < len(ids) else 0
    run = ClassificationRun.objects.create(project=project, model_version=v2, reason="publish", cursor=cursor)
    split = {"classify": 0.0, "write": 0.0, "labels": 0.0, "chunks": 0}
    real_classify, real_write, real_apply = serving.classify, production.write_classifications, production.apply_labels

    def timed_classify(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real_classify(*args, **kwargs)
        finally:
            split["classify"] += time.perf_counter() - t

    def timed_write(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real_write(*args, **kwargs)
        finally:
            split["write"] += time.perf_counter() - t
            split["chunks"] += 1

    def timed_apply(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real_apply(*args, **kwargs)
        finally:
            split["labels"] += time.perf_counter() - t

    log(f"re-classifying {n_reclassify:,} items")
    with (
        mock.patch.object(serving, "classify", timed_classify),
        mock.patch.object(production, "write_classifications", timed_write),
        mock.patch.object(production, "apply_labels", timed_apply),
    ):
        t = time.perf_counter()
        done = production.classify_run(run.pk)
        wall = time.perf_counter() - t
    run.refresh_from_db()
    assert run.state == ClassificationRun.State.DONE and done == n_reclassify, (run.state, done)
    changed = Classification.objects.filter(project=project, model_version=v2).count()
    out["reclassify"] = {
        "items": done, "seconds": wall, "items_per_s": done / wall, "classify": split["classify"],
        "upsert": split["write"] - split["classify"] - split["labels"], "labels": split["labels"],
        "read_and_bookkeeping": wall - split["write"], "chunks": split["chunks"], "rows_v2": changed,
        "chunk_size": production.CHUNK,
    }  # fmt: skip
    log(f"re-classified {done:,} in {wall:.1f} s = {done / wall:,.0f} items/s; split {split}")
    out["load_average"] = os.getloadavg()
    return out


# --- Parent: the database, the worker process, the tables -----------------------------------------------
def run(n_items: int, n_reclassify: int, reps: int) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=f"{BENCH_DB}-") as tmp:
        env["STUDIO_DATA_DIR"] = tmp
        env["MEDIA_ROOT"] = str(Path(tmp) / "media")
        postgres([f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}"])
        env["DATABASE_URL"] = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{BENCH_DB}"
        args = ["--items", str(n_items), "--reclassify", str(n_reclassify), "--reps", str(reps)]
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", *args],
                env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip  (stderr, the progress, goes straight through)
        finally:
            postgres([f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"])
    return json.loads(out.stdout.strip().splitlines()[-1])


def flag(ms: float) -> str:
    return "" if ms < GOAL_MS else " ⚠"


def print_report(r: dict, reps: int) -> None:
    load = r["load_average"]
    print(
        f"\nContent explorer, PostgreSQL, {r['items']:,} production items (1-2 KB BBC texts), "
        f"{r['matches']:,} matches with an applied label; {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end (a shared machine)."
    )
    print(f"Server time in-process, median / p95 ms over up to {reps} calls; goal < {GOAL_MS:.0f} ms.\n")
    print("| Request | Result | median / p95 ms | explorer.page() median ms |")
    print("| --- | ---: | ---: | ---: |")
    for row in r["explorer"]:
        result = f"{row['rows']:,} rows" if row["kind"] == "view" else f"{row['rows']:,}"
        page = f"{row['page']['p50']:.1f}" if "page" in row else ""
        reps_note = "" if row["n"] == reps else f" ({row['n']} calls)"
        print(f"| {row['case']}{reps_note} | {result} | {row['p50']:.1f} / {row['p95']:.1f}{flag(row['p95'])} | {page} |")
    rc = r["reclassify"]
    print(
        f"\nRe-classification (classify_run, chunks of {rc['chunk_size']:,}): {rc['items']:,} items in "
        f"{rc['seconds']:.1f} s = **{rc['items_per_s']:,.0f} items/s** "
        f"({'met' if rc['items_per_s'] >= GOAL_ITEMS_PER_S else 'NOT met'}, goal >= {GOAL_ITEMS_PER_S:,.0f}).\n"
    )
    print("| part | seconds | share |")
    print("| --- | ---: | ---: |")
    for key, name in (
        ("classify", "serving.classify (model)"),
        ("upsert", "Classification upsert (bulk_create ... ON CONFLICT)"),
        ("labels", "applied labels (delete + insert)"),
        ("read_and_bookkeeping", "reading chunks, run row, commits"),
    ):
        print(f"| {name} | {rc[key]:.1f} | {100 * rc[key] / rc['seconds']:.0f}% |")
    split = r["copy_split"]
    print(
        f"\n- Load: COPY {r['copy_seconds']:.0f} s (documents {split['documents']:.0f} s incl. the generated "
        f"tsvector, classifications {split['classifications']:.0f} s, labels {split['labels']:.0f} s), "
        f"indexes built after the load {r['indexes_total_seconds']:.0f} s, VACUUM ANALYZE {r['vacuum_seconds']:.0f} s; "
        f"sizes (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in r["sizes_mb"].items()) + "."
    )
    print(f"- Model: trained in {r['train_seconds']:.1f} s (200 sport seeds, 1,000 background articles); "
          f"threshold {r['threshold']:.3f}, close match from {r['close_match_lower']:.3f}.")  # fmt: skip
    slow = [row for row in r["explorer"] if row.get("explain")]
    if slow:
        print(f"\n### Over {GOAL_MS:.0f} ms: the slow queries (EXPLAIN (ANALYZE, BUFFERS))")
        for row in slow:
            print(f"\n#### {row['case']} ({row['p50']:.1f} ms median)")
            for q in row["explain"]:
                print(f"\n{q['ms']:.1f} ms:\n```sql\n{q['sql']}\n```\n```\n{q['plan']}\n```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--reclassify", type=int, default=100_000, help="items re-classified (the newest)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.items, args.reclassify, args.reps)))
        return
    result = run(args.items, args.reclassify, args.reps)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    print_report(result, args.reps)


if __name__ == "__main__":
    main()
