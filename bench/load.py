#!/usr/bin/env python
"""Load test: gunicorn against a prepared project, N simulated users for D seconds.

A throwaway database (PostgreSQL by default, or a SQLite file) gets one single-label project
with DOCS documents (40% tagged by the Admin), a trained model deployed in ``production``,
USERS tagger accounts (each with a session and an API token of its own, so the per-token
rate limit stays on as in production) and the Admin. gunicorn then serves it as in
production (2 workers x 4 threads, gthread), and each simulated user loops, with a think
time between requests, over:

  pages        project overview, the document list with a search, a document's page
  tag-and-next the tagging studio: GET the queue once, then three htmx POSTs of
               ``op=tag`` (what the digit key sends: document, class, mode and the queue's
               hidden state) each answering the next card
  api          POST /api/v1/projects/<slug>/deployments/production/classify, one document

Prints throughput, p50/p95/max per kind and the errors (any status >= 400, a timeout, a
dropped connection, a tag answer without a next card); exits 1 when there was an error.
Everything is bounded: a timeout per request, a cap on the total requests, a deadline.

    .venv/bin/python bench/load.py                                 # 50 users, 60 s, PostgreSQL
    .venv/bin/python bench/load.py --users 10 --duration 5 --backend sqlite --json

PostgreSQL: a database ``load_<pid>`` is created and dropped through BENCH_POSTGRES
(default postgres://postgres@127.0.0.1:5432/test); ``--postgres URL`` overrides it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import POSTGRES_ADMIN_URL  # noqa: E402

KINDS = ("page", "tag", "api")
GOALS_MS = {"page": 300.0, "tag": 50.0}
WORDS = {
    "finance": "invoice payment budget bank account loan interest tax audit revenue",
    "sport": "match goal team player league coach score season stadium referee",
    "tech": "software server network laptop code database cloud security update chip",
}
FILLER = ["the", "a", "of", "and", "to", "in", "on", "for", "with", "this", "that", "is", "report", "today"]
DOC_RE = re.compile(r'name="document" value="(\d+)"')
CLASS_RE = re.compile(r'name="class" value="(\d+)"')
STATE_RE = re.compile(r'<input type="hidden" name="(scope|order|set|batch|q)" value="([^"]*)">')
DETAIL_RE = re.compile(r'href="/projects/[\w-]+/documents/(\d+)/')
CSRF_RE = re.compile(r'"x-csrftoken": "([^"]+)"')


def make_text(rng: random.Random, cls: str, n: int = 40) -> str:
    words = WORDS[cls].split()
    return " ".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(n))


# --- Preparing the database (a child process: Django reads DATABASE_URL once) ----------------------
def prepare(users: int, n_docs: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection

    from classifiers import ml
    from classifiers.actions import do_add_member, do_create_project
    from classifiers.actions.deployments import do_create_token, do_deploy
    from classifiers.models import Class, Document, ModelVersion, Tag

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    User = get_user_model()
    admin = User.objects.create_user("load-admin", password=None)
    project = do_create_project(admin, name="Load test", kind="single_label")
    classes = {name: Class.objects.create(project=project, name=name, position=i) for i, name in enumerate(WORDS)}
    rng = random.Random(0)
    docs, labels = [], []
    for i in range(n_docs):
        name = list(WORDS)[i % len(WORDS)]
        text = make_text(rng, name)
        docs.append(
            Document(
                project=project, set="test" if i % 10 == 0 else "training", text=text, text_chars=len(text),
                text_hash=f"{i:064x}", filename=f"note-{i:05d}.txt", size=len(text), content_type="text/plain",
            )
        )  # fmt: skip
        labels.append(name)
    Document.objects.bulk_create(docs, batch_size=2000)
    saved = list(Document.objects.filter(project=project).order_by("id"))
    tagged = [(d, labels[i]) for i, d in enumerate(saved) if i % 5 < 2]  # 40% tagged by the Admin
    Tag.objects.bulk_create(
        [Tag(project=project, document=d, tag_class=classes[c], tagger=admin) for d, c in tagged], batch_size=2000
    )
    config = ml.TrainingConfig(seed=0, select_candidates=False, n_jobs=1)
    model = ml.train([d.text for d, _ in tagged], [c for _, c in tagged], ml.KIND_SINGLE, list(WORDS), config)
    path = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/models/load-1.model"
    sha = ml.save_model(model, path)
    version = ModelVersion.objects.create(
        project=project, number=1, kind=project.kind, classes=list(model.classes),
        artifact=str(path.relative_to(settings.MEDIA_ROOT)), artifact_sha256=sha,
        artifact_size=path.stat().st_size, metrics={"macro": {"f1": 0.9}}, test_size=n_docs // 10,
    )  # fmt: skip
    do_deploy(admin, project, "production", version)
    accounts = []
    for i in range(users):
        user = User.objects.create_user(f"load-tagger-{i:03d}", password=None)  # sessions, no logins
        do_add_member(admin, project, user, "tagger")
        _, plain = do_create_token(admin, project, f"load client {i}", ["classify"])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        accounts.append({"session": session.session_key, "token": plain})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"slug": project.slug, "accounts": accounts, "search": list(WORDS["sport"].split()[:5])}


# --- The simulated users --------------------------------------------------------------------------
@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Budget(Exception):
    """The deadline passed or the request cap was reached."""


class User:
    def __init__(self, n: int, args: argparse.Namespace, plan: dict, results: Results, stop: threading.Event):
        self.args, self.plan, self.results, self.stop = args, plan, results, stop
        account = plan["accounts"][n]
        self.token = account["token"]
        self.cookies = {"sessionid": account["session"]}
        self.csrf = ""
        self.rng = random.Random(n)
        self.base = f"/projects/{plan['slug']}"
        self.conn: http.client.HTTPConnection | None = None

    # One request: timed, retried once on a connection the server closed while idle.
    def request(self, kind: str, method: str, path: str, body: bytes | None = None, headers=None) -> str:
        if self.stop.is_set():
            raise Budget
        with self.results.lock:
            if self.results.requests >= self.args.max_requests:
                self.stop.set()
                raise Budget
            self.results.requests += 1
        headers = dict(headers or {})
        if kind != "api":
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=self.args.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.conn.close()
                self.conn = None
                if attempt == 2 or time.perf_counter() - started > 0.5:
                    return self.fail(kind, method, path, f"{type(exc).__name__}: {exc}")
                with self.results.lock:
                    self.results.reconnects += 1
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = None
                return self.fail(kind, method, path, f"{type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        text = data.decode("utf-8", "replace")
        if response.status >= 400:
            return self.fail(kind, method, path, f"HTTP {response.status}: {text[:200]!r}")
        with self.results.lock:
            self.results.times[kind].append(elapsed)
        return text

    def fail(self, kind: str, method: str, path: str, what: str) -> str:
        with self.results.lock:
            self.results.errors.append(f"{kind} {method} {path}: {what}")
        return ""

    def think(self) -> None:
        if self.args.think > 0:
            self.stop.wait(self.rng.uniform(0.5, 1.5) * self.args.think)

    def page(self, path: str) -> str:
        text = self.request("page", "GET", path)
        match = CSRF_RE.search(text)
        if match:
            self.csrf = match.group(1)
        self.think()
        return text

    def tag_and_next(self, card: str) -> str:
        doc, classes = DOC_RE.search(card), CLASS_RE.findall(card)
        if not doc or not classes:
            return ""  # the queue is empty for this user: nothing to tag
        fields = {"op": "tag", "document": doc.group(1), "mode": "queue", "class": self.rng.choice(classes)}
        fields.update(STATE_RE.findall(card))
        body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()  # ids and short ASCII words
        headers = {
            "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true",
            "HX-Target": "card", "X-CSRFToken": self.csrf,
        }  # fmt: skip
        text = self.request("tag", "POST", f"{self.base}/tagging/act/", body, headers)
        if text and not DOC_RE.search(text) and "queue is empty" not in text.lower():
            self.fail("tag", "POST", f"{self.base}/tagging/act/", "the answer holds no next card")
        self.think()
        return text

    def classify(self) -> None:
        text = make_text(self.rng, self.rng.choice(list(WORDS)), n=30)
        body = json.dumps({"documents": [{"id": "1", "text": text}]}).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        answer = self.request("api", "POST", f"{self.base.replace('/projects', '/api/v1/projects')}"
                              "/deployments/production/classify", body, headers)  # fmt: skip
        if answer and '"modelVersion"' not in answer:
            self.fail("api", "POST", "classify", f"unexpected answer {answer[:200]!r}")
        self.think()

    def run(self) -> None:
        # Users do not all start in the same millisecond.
        self.stop.wait(self.rng.uniform(0, min(2.0, self.args.duration / 4)))
        try:
            while not self.stop.is_set():
                self.page(f"{self.base}/")
                listing = self.page(f"{self.base}/documents/?q={self.rng.choice(self.plan['search'])}")
                ids = DETAIL_RE.findall(listing)
                if ids:
                    self.page(f"{self.base}/documents/{self.rng.choice(ids)}/")
                card = self.page(f"{self.base}/tagging/queue/")
                for _ in range(3):
                    card = self.tag_and_next(card)
                self.classify()
        except Budget:
            pass
        finally:
            if self.conn is not None:
                self.conn.close()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def drive(args: argparse.Namespace, plan: dict) -> dict:
    results, stop = Results(), threading.Event()
    users = [User(i, args, plan, results, stop) for i in range(args.users)]
    threads = [threading.Thread(target=u.run, daemon=True) for u in users]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stop.wait(args.duration)
    stop.set()
    for thread in threads:
        thread.join(args.timeout + 5)
    wall = time.perf_counter() - started
    hung = sum(t.is_alive() for t in threads)
    if hung:
        results.errors.append(f"{hung} users still waiting after the deadline")
    total = sum(len(v) for v in results.times.values())
    return {
        "users": args.users, "duration_s": round(wall, 1), "think_s": args.think, "backend": args.backend,
        "requests": total, "throughput_rps": round(total / wall, 1), "reconnects": results.reconnects,
        "errors": len(results.errors), "error_samples": results.errors[:10],
        "kinds": {
            kind: {
                "count": len(results.times[kind]),
                "p50_ms": round(percentile(results.times[kind], 0.5), 1),
                "p95_ms": round(percentile(results.times[kind], 0.95), 1),
                "max_ms": round(max(results.times[kind], default=float("nan")), 1),
                "goal_p95_ms": GOALS_MS.get(kind),
            }
            for kind in KINDS
        },
    }  # fmt: skip


# --- The server and the database ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_sql(admin_url: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def warm_up(args: argparse.Namespace, plan: dict) -> None:
    """gunicorn listens before its workers have imported Django: wait until several
    concurrent requests (enough to reach every worker) have answered, then measure."""

    def one(path: str, cookie: str = "") -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            conn.getresponse().read()
        finally:
            conn.close()

    session = f"sessionid={plan['accounts'][0]['session']}"
    for path, cookie in (("/accounts/login/", ""), (f"/projects/{plan['slug']}/", session)):
        threads = [threading.Thread(target=one, args=(path, cookie)) for _ in range(args.workers * args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="studio-load-") as tmp:
        env = {
            **os.environ,
            "STUDIO_DATA_DIR": tmp, "MEDIA_ROOT": str(Path(tmp) / "media"), "DEBUG": "false",
            "STATIC_ROOT": str(Path(tmp) / "static"),
            "SECRET_KEY": "load-test-" + "k" * 60, "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STUDIO_TESTING": "false", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "studio.settings",
            "PYTHONPATH": str(ROOT),
        }  # fmt: skip
        database = f"load_{os.getpid()}"
        admin_url = args.postgres or POSTGRES_ADMIN_URL
        if args.backend == "postgres":
            _admin_sql(admin_url, [f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"])
            env["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{database}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        server = None
        try:
            prepared = subprocess.run(
                [sys.executable, __file__, "--prepare", "--users", str(args.users), "--docs", str(args.docs)],
                env={**env, "STUDIO_TESTING": "true"}, cwd=ROOT, capture_output=True, text=True,
                timeout=600,
            )  # fmt: skip
            if prepared.returncode:
                raise SystemExit(f"preparing failed:\n{prepared.stdout[-3000:]}{prepared.stderr[-3000:]}")
            plan = json.loads(prepared.stdout.strip().splitlines()[-1])
            # Production serves hashed static files from the manifest that collectstatic writes.
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                env=env, cwd=ROOT, check=True, timeout=300,
            )  # fmt: skip
            args.port = free_port()
            log = open(Path(tmp) / "gunicorn.log", "w+")  # noqa: SIM115 (read back on failure)
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{args.port}",
                 "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
                 "--keep-alive", "75", "--timeout", "60", "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", args.port), timeout=1):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise SystemExit(f"gunicorn did not start:\n{log.read()[-3000:]}") from None
                    time.sleep(0.2)
            warm_up(args, plan)
            report = drive(args, plan)
            log.seek(0)
            server_log = log.read()
            if "Traceback" in server_log or "[ERROR]" in server_log:
                report["errors"] += 1
                report["error_samples"].append("server log: " + server_log[-1500:])
            return report
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            if args.backend == "postgres":
                _admin_sql(admin_url, [f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])


def print_report(report: dict) -> None:
    print(
        f"{report['users']} users, {report['duration_s']} s, think {report['think_s']} s, {report['backend']}: "
        f"{report['requests']} requests, {report['throughput_rps']} req/s, {report['errors']} errors, "
        f"{report['reconnects']} reconnects"
    )
    print("\n| kind | requests | p50 ms | p95 ms | max ms | goal p95 |\n|---|---|---|---|---|---|")
    for kind, row in report["kinds"].items():
        goal = f"{row['goal_p95_ms']:.0f}" if row["goal_p95_ms"] else "-"
        print(f"| {kind} | {row['count']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {goal} |")
    for sample in report["error_samples"]:
        print("error:", sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's requests")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres", help="admin URL used to create the throwaway database")
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.users, args.docs)))
        return 0
    report = run(args)
    print(json.dumps(report)) if args.json else print_report(report)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
