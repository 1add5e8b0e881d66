"""What the database benchmarks share: a throwaway SQLite file or PostgreSQL database, and a
child process (the script itself with --worker) that measures inside it and prints JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")


def postgres(sql: list[str]) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        for statement in sql:
            conn.execute(statement)


def run_worker(script: str, backend: str, bench_db: str, args: list[str]) -> dict:
    """Run ``script --worker BACKEND ARGS`` against a fresh database; return its last JSON line."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=f"{bench_db}-") as tmp:
        env["STUDIO_DATA_DIR"] = tmp
        env["MEDIA_ROOT"] = str(Path(tmp) / "media")
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            postgres([f"DROP DATABASE IF EXISTS {bench_db}", f"CREATE DATABASE {bench_db}"])
            env["DATABASE_URL"] = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{bench_db}"
        try:
            out = subprocess.run(
                [sys.executable, script, "--worker", backend, *args],
                env=env, cwd=ROOT, check=True, capture_output=True, text=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            sys.stderr.write(exc.stdout + exc.stderr)
            raise
        finally:
            if backend == "postgres":
                postgres([f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)"])
    return json.loads(out.stdout.strip().splitlines()[-1])
