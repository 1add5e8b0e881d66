"""Swap under load: clients classify continuously over HTTP while another process swaps
staging and production 20 times. Every answer must be a 200 from one of the two versions.

Real processes, as in production: gunicorn (2 workers x 4 threads) serves the test's
database, a separate Python process swaps, the test's threads are the clients. (A live
server thread cannot do this on the in-memory SQLite test database: its threads share one
connection, so a transaction in one thread is everyone's transaction.) On SQLite the test
database is copied to a file first (WAL mode); on PostgreSQL both processes use the test
database itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from classifiers.actions.deployments import do_deploy
from classifiers.models import Deployment
from tests.conftest import make_project
from tests.test_api_support import docs, make_token, make_version

ROOT = Path(__file__).resolve().parent.parent
SWAPS = 20
CLIENTS = 4

SWAPPER = """
import sys, time, django
django.setup()
from django.contrib.auth import get_user_model
from classifiers.actions.deployments import do_swap
from classifiers.models import Project
actor = get_user_model().objects.get(username=sys.argv[1])
project = Project.objects.get(slug=sys.argv[2])
for _ in range(int(sys.argv[3])):
    do_swap(actor, project, "staging", "production")
    time.sleep(0.15)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """A URL to the test's data for other processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "swap.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_swap_under_load(admin_user, tmp_path):
    project = make_project(admin_user, name="Load")
    v1, v2 = make_version(project, seed=0), make_version(project, seed=1)
    do_deploy(admin_user, project, "production", v1)
    do_deploy(admin_user, project, "staging", v2)
    _, plain = make_token(admin_user, project)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(tmp_path),
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "STUDIO_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "swap-under-load-" + "x" * 50,
        "STUDIO_API_RATE_LIMIT": "0",
        "STUDIO_TESTING": "false",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "LOG_LEVEL": "WARNING",
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    answers: Counter = Counter()
    failures: list = []
    lock = threading.Lock()
    body = json.dumps({"documents": docs(5)}).encode()

    def classify(slot: str) -> None:
        url = f"{base}/api/v1/projects/{project.slug}/deployments/{slot}/classify"
        headers = {"Authorization": f"Bearer {plain}", "Content-Type": "application/json"}
        while not stop.is_set():
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    version = json.load(response)["modelVersion"]
                with lock:
                    answers[(slot, version)] += 1
            except urllib.error.HTTPError as exc:
                failures.append((slot, exc.code, exc.read()[:300]))
            except Exception as exc:  # a dropped connection is a failure too
                failures.append((slot, type(exc).__name__, str(exc)[:300]))

    threads = [
        threading.Thread(target=classify, args=(slot,)) for slot in ("production", "staging") * (CLIENTS // 2)
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        for thread in threads:
            thread.start()
        while sum(answers.values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        swapper = subprocess.run(
            [sys.executable, "-c", SWAPPER, admin_user.username, project.slug, str(SWAPS)],
            cwd=ROOT, env=env, capture_output=True, timeout=120,
        )  # fmt: skip
        assert swapper.returncode == 0, swapper.stderr.decode(errors="replace")[-3000:]
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive() or thread.ident:
                thread.join(30)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()

    assert not failures, failures[:5]
    assert {version for _, version in answers} <= {1, 2}
    assert sum(answers.values()) >= 100
    # Both slots were answered by both versions in turn.
    assert set(answers) == {("production", 1), ("production", 2), ("staging", 1), ("staging", 2)}
    # An even number of swaps leaves production where it began.
    if connection.vendor == "sqlite":  # the swaps happened in the file copy
        with sqlite3.connect(tmp_path / "swap.sqlite3") as db:
            rows = dict(db.execute("SELECT name, model_version_id FROM classifiers_deployment").fetchall())
        assert rows == {"production": v1.pk, "staging": v2.pk}
    else:
        assert Deployment.objects.get(project=project, name="production").model_version == v1
    print(f"swap under load: {sum(answers.values())} answers, {dict(answers)}")
