"""The load test's short form: bench/load.py with 10 users for 5 seconds must end without
a single error (no status >= 400, no timeout, no dropped connection, every tag answered
with the next card). No latency assertion here: the figures belong in bench/README.md.

It runs gunicorn against its own throwaway database on the suite's backend: a PostgreSQL
database next to the suite's when DATABASE_URL is PostgreSQL, a SQLite file otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_short_load_has_no_errors():
    # A short think time, so that every user goes round its loop (pages, tags, API) in 5 s.
    args = ["--users", "10", "--duration", "5", "--think", "0.2", "--docs", "600", "--timeout", "20", "--json"]
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        # The admin URL names an existing database; load.py creates and drops its own beside it.
        admin = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"
        args += ["--backend", "postgres", "--postgres", admin]
    else:
        args += ["--backend", "sqlite"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == 0, report["error_samples"]
    assert done.returncode == 0, done.stderr[-3000:]
    # Every kind of step was exercised.
    assert all(report["kinds"][kind]["count"] > 0 for kind in ("page", "tag", "api")), report
    print(f"short load: {report['requests']} requests, {report['throughput_rps']} req/s")
