#!/usr/bin/env python
"""The classify API under gunicorn on loopback: latency and throughput. Prints markdown.

For each database backend: a throwaway database is migrated, a single-label model is
trained on the shared BBC corpus (2,225 news articles, 5 classes) with the engine, recorded
as a model version and deployed to ``production``, and a token is made (all in a child
process, through Django). Then gunicorn serves the studio on 127.0.0.1 (a free port,
``--workers 2 --threads 4``, as in production) and this process measures, with http.client
keep-alive connections (one per client thread) and a bounded number of requests:

- latency of one 1 KB document per request, one client (p50, p95);
- throughput in documents/s for batches of 25 and of the maximum size
  (STUDIO_API_MAX_DOCUMENTS), with 1 and 8 concurrent clients;
- the same single-document latency with the rate limiter off, to show what its counter
  in the DatabaseCache costs.

Every document is a 1 KB prefix of a BBC article. Latencies are measured by the client
(request sent to response read); server-side latency comes from the classification log.
Goals: p50 under 15 ms for one document; at least 2,000 documents/s on 2 cores.

    .venv/bin/python bench/bench_api.py                       # SQLite
    .venv/bin/python bench/bench_api.py --backend sqlite postgres
    .venv/bin/python bench/bench_api.py --scale 0.5           # fewer requests

PostgreSQL: database ``bench_api`` created and dropped through BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASET = Path(os.environ.get("STUDIO_DATASETS_DIR", ROOT.parent / "shared" / "datasets")) / "bbc.jsonl.gz"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "bench_api"
SECRET = "bench-api-secret-key-" + "k" * 40
DOC_CHARS = 1024


def load_corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with gzip.open(DATASET, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def one_kb(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DOC_CHARS:
        return ((text + " ") * (DOC_CHARS // max(1, len(text)) + 1))[:DOC_CHARS]
    cut = text[:DOC_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut else cut


# --- Child: database, model, token (through Django) --------------------------------------------------
def setup_child() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from classifiers import ml
    from classifiers.actions.deployments import do_create_token, do_deploy
    from classifiers.actions.projects import do_create_project
    from classifiers.models import ModelVersion

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    project = do_create_project(user, name="BBC news", kind="single_label")
    texts, labels = load_corpus()
    classes = sorted(set(labels))
    started = time.perf_counter()
    model = ml.train(texts, labels, ml.KIND_SINGLE, classes, ml.TrainingConfig(seed=0))
    train_s = time.perf_counter() - started
    folder = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/models"
    path = folder / "bench.model"
    sha = ml.save_model(model, path)
    version = ModelVersion.objects.create(
        project=project,
        number=1,
        kind=project.kind,
        classes=list(model.classes),
        artifact=str(path.relative_to(settings.MEDIA_ROOT)),
        artifact_sha256=sha,
        artifact_size=path.stat().st_size,
        train_size=len(texts),
    )
    do_deploy(user, project, "production", version)
    _, plain = do_create_token(user, project, "bench", ["classify"])
    print(
        json.dumps(
            {
                "slug": project.slug,
                "token": plain,
                "train_seconds": round(train_s, 1),
                "max_documents": settings.STUDIO_API_MAX_DOCUMENTS,
            }
        )
    )


def server_latency_child(since_id: int) -> None:
    """p50/p95 of server-side latency (the classification log) of single-document calls."""
    import django

    django.setup()
    from classifiers.models import ApiCall

    values = sorted(
        ApiCall.objects.filter(pk__gt=since_id, documents=1, status_code=200).values_list(
            "latency_ms", flat=True
        )
    )
    last = ApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(json.dumps({"p50": pct(values, 0.5), "p95": pct(values, 0.95), "n": len(values), "last_id": last}))


# --- Parent: gunicorn and the clients ------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, workers included
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Client:
    def __init__(self, port: int, path: str, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path = path
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, body: bytes) -> float:
        started = time.perf_counter()
        try:
            self.conn.request("POST", self.path, body=body, headers=self.headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # gunicorn closes a keep-alive connection idle for 2 s; reconnect as clients do.
            self.conn.close()
            started = time.perf_counter()
            self.conn.request("POST", self.path, body=body, headers=self.headers)
            response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return elapsed


def bodies(texts: list[str], batch: int, count: int, offset: int = 0) -> list[bytes]:
    out = []
    for r in range(count):
        start = (offset + r * batch) % len(texts)
        docs = [{"id": str(i), "text": texts[(start + i) % len(texts)]} for i in range(batch)]
        out.append(json.dumps({"documents": docs}).encode())
    return out


def run_clients(
    port: int, path: str, token: str, texts: list[str], batch: int, clients: int, per_client: int
) -> dict:
    prepared = [bodies(texts, batch, per_client, offset=c * 997) for c in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def work(c: int) -> None:
        client = Client(port, path, token)
        client.post(prepared[c][0])  # connect and warm this worker's thread
        barrier.wait()
        mine = []
        try:
            for body in prepared[c]:
                mine.append(client.post(body))
        except Exception as exc:
            errors.append(str(exc))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    n_requests = len(latencies)
    return {
        "batch": batch,
        "clients": clients,
        "requests": n_requests,
        "documents": n_requests * batch,
        "seconds": wall,
        "docs_per_s": n_requests * batch / wall,
        "req_per_s": n_requests / wall,
        "p50_ms": 1000 * pct(latencies, 0.5),
        "p95_ms": 1000 * pct(latencies, 0.95),
    }


def child(mode: str, env: dict[str, str], *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _postgres(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def measure(label: str, env: dict[str, str], path: str, made: dict, texts: list[str], scale: float) -> dict:
    token = made["token"]
    out: dict = {"label": label, "rows": []}
    server = Server(env)
    try:
        run_clients(server.port, path, token, texts, 1, 8, 5)  # each worker loads the model once
        before = child("server-latency", env, "0")["last_id"]
        out["single"] = run_clients(server.port, path, token, texts, 1, 1, int(400 * scale))
        out["server"] = child("server-latency", env, str(before))
        plan = [(25, 1, 160), (25, 8, 60), (made["max_documents"], 1, 40), (made["max_documents"], 8, 16)]
        for batch, clients, per_client in plan:
            count = max(2, int(per_client * scale))
            out["rows"].append(run_clients(server.port, path, token, texts, batch, clients, count))
    finally:
        server.stop()
    # The same single-document latency without the rate limiter's DatabaseCache counter.
    server = Server({**env, "STUDIO_API_RATE_LIMIT": "0"})
    try:
        run_clients(server.port, path, token, texts, 1, 8, 5)
        out["single_no_limit"] = run_clients(server.port, path, token, texts, 1, 1, int(400 * scale))
    finally:
        server.stop()
    return out


def run_backend(backend: str, scale: float, texts: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        env = {
            **os.environ,
            "STUDIO_DATA_DIR": tmp,
            "MEDIA_ROOT": str(Path(tmp) / "media"),
            "SECRET_KEY": SECRET,
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_TESTING": "false",
            "LOG_LEVEL": "WARNING",
            # The limiter stays on (its cost is part of every call) but never refuses.
            "STUDIO_API_RATE_LIMIT": "1000000000",
        }
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            _postgres([f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}"])
            env["DATABASE_URL"] = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{BENCH_DB}"
        try:
            made = child("setup", env)
            path = f"/api/v1/projects/{made['slug']}/deployments/production/classify"
            results: dict = {"backend": backend, "train_seconds": made["train_seconds"], "configs": []}
            configs = [("as shipped", {})]
            if backend == "sqlite":
                # The shipped settings close the SQLite connection after every request
                # (CONN_MAX_AGE=0); measured the same with persistent connections.
                Path(tmp, "bench_settings.py").write_text(
                    "from studio.settings import *  # noqa: F403\n"
                    "DATABASES['default']['CONN_MAX_AGE'] = 60  # noqa: F405\n"
                )
                persistent = {"DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": tmp}
                configs.append(("CONN_MAX_AGE=60", persistent))
            for label, extra in configs:
                results["configs"].append(measure(label, {**env, **extra}, path, made, texts, scale))
            return results
        finally:
            if backend == "postgres":
                _postgres([f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"])


def print_tables(runs: list[dict]) -> None:
    load = os.getloadavg()
    print(
        f"\nClassify API under gunicorn (2 workers x 4 threads, gthread) on 127.0.0.1, {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (a shared machine); "
        "1 KB documents (BBC article prefixes); model trained on 2,225 BBC articles; "
        "latency measured by the client."
    )
    print("\n| backend | settings | what | clients | requests | docs/s | p50 ms | p95 ms |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        for config in run["configs"]:
            head = f"| {run['backend']} | {config['label']} |"
            for what, r in (
                ("1 document", config["single"]),
                ("1 document, rate limiter off", config["single_no_limit"]),
            ):
                print(
                    f"{head} {what} | 1 | {r['requests']} | {r['docs_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |"
                )
            for r in config["rows"]:
                print(
                    f"{head} batches of {r['batch']} | {r['clients']} | {r['requests']} | {r['docs_per_s']:,.0f} | "
                    f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} |"
                )
    print()
    for run in runs:
        for config in run["configs"]:
            srv = config["server"]
            print(
                f"- {run['backend']}, {config['label']}: server-side latency of the single-document calls "
                f"(classification log): p50 {srv['p50']:.1f} ms, p95 {srv['p95']:.1f} ms over {srv['n']} calls."
            )
    trained = ", ".join(f"{run['backend']} {run['train_seconds']} s" for run in runs)
    print(f"- Training the model (engine, 2,225 documents): {trained}.")
    for run in runs:
        for config in run["configs"]:
            best = max(r["docs_per_s"] for r in config["rows"])
            p50 = config["single"]["p50_ms"]
            print(
                f"- Goals, {run['backend']} {config['label']}: one document p50 {p50:.1f} ms "
                f"({'met' if p50 < 15 else 'NOT met'}, goal < 15); best {best:,.0f} documents/s "
                f"({'met' if best >= 2000 else 'NOT met'}, goal >= 2,000)."
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        if args.child[0] == "setup":
            setup_child()
        else:
            server_latency_child(int(args.child[1]))
        return
    if not DATASET.exists():
        sys.exit(f"{DATASET} not found: set STUDIO_DATASETS_DIR")
    texts = [one_kb(t) for t in load_corpus()[0]]
    runs = []
    for backend in args.backend:
        print(f"running {backend} …", file=sys.stderr, flush=True)
        runs.append(run_backend(backend, args.scale, texts))
    print_tables(runs)


if __name__ == "__main__":
    main()
