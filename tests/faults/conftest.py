"""Fault tests: real ``qcluster`` processes working on a database the test also reads.

``worker_db`` gives the test a database other processes can open: on PostgreSQL the test
database itself (``transactional_db``: every write is committed at once); on SQLite a file
copy of the migrated in-memory test database, which the test's own connection is switched
to for the test's duration (the in-memory database is invisible to other processes).

``qclusters`` starts clusters (``python -m tests.faults.qprobe``: ``manage.py qcluster`` that
also notes which process ran which task) in their own process group, so a test can SIGKILL
a whole cluster like a power cut, and kills whatever is left when the test ends.

The clusters run with short ``timeout``/``retry`` (Q_TIMEOUT, Q_RETRY, ...) so a task whose
worker died is delivered again after a few seconds, not after 20 minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]

# Redelivery after a worker died: the broker hands a task out again `retry` seconds after it
# was taken. Short here, so each kill costs seconds; still above `timeout` as it must be.
TIMEOUT = 10
RETRY = 12
TRAINING_TIMEOUT = 20
TRAINING_RETRY = 22
START = 60  # seconds for a cluster to start and take a task (generous: 2 shared cores)


def is_postgres() -> bool:
    return connections["default"].vendor == "postgresql"


@pytest.fixture
def worker_db(request, django_db_setup, django_db_blocker, tmp_path) -> Iterator[str]:
    """A DATABASE_URL other processes can use, holding what the test writes.

    Tests using it are marked ``django_db(transaction=True)`` (the mark is what makes
    pytest-django create the test database; transactional, so no transaction is left open)."""
    marker = request.node.get_closest_marker("django_db")
    assert marker is not None and marker.kwargs.get("transaction"), (
        "mark the test django_db(transaction=True)"
    )
    if is_postgres():
        db = connections["default"].settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        yield f"postgres://{db['USER']}{password}@{host}/{db['NAME']}"
        return
    with django_db_blocker.unblock():
        memory = connections["default"]
        assert memory.is_in_memory_db(), memory.settings_dict["NAME"]  # never a developer's database
        memory.ensure_connection()
        path = tmp_path / "faults.sqlite3"
        target = sqlite3.connect(path)
        memory.connection.backup(target)
        target.close()
        # The test's own ORM calls go to the file for the rest of the test.
        wrapper = memory.__class__({**memory.settings_dict, "NAME": str(path)}, alias="default")
        connections["default"] = wrapper
        try:
            yield f"sqlite:///{path}"
        finally:
            wrapper.close()
            connections["default"] = memory


class Cluster:
    def __init__(self, proc: subprocess.Popen, log: Path, label: str) -> None:
        self.proc = proc
        self.log = log
        self.label = label

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (monitor, pusher, workers): a power cut."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be refused
            self.proc.wait(10)

    def tail(self, chars: int = 3000) -> str:
        try:
            return f"--- {self.label} ---\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return f"--- {self.label}: no log ---"


class Clusters:
    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.started: list[Cluster] = []
        self.executions = tmp_path / "executions.jsonl"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("Q_", "STUDIO_", "PYTEST"))}
        env.update(
            DJANGO_SETTINGS_MODULE="studio.settings",
            DATABASE_URL=self.db_url,
            MEDIA_ROOT=str(django_settings.MEDIA_ROOT),
            STUDIO_DATA_DIR=str(self.tmp_path / "data"),
            SECRET_KEY=django_settings.SECRET_KEY,  # payloads are signed with it
            STUDIO_TESTING="false",
            STUDIO_API_RATE_LIMIT="0",
            STUDIO_FAULTS_LOG=str(self.executions),
            Q_TIMEOUT=str(TIMEOUT),
            Q_RETRY=str(RETRY),
            Q_TRAINING_TIMEOUT=str(TRAINING_TIMEOUT),
            Q_TRAINING_RETRY=str(TRAINING_RETRY),
            Q_WORKERS="2",
            Q_TRAINING_WORKERS="1",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start(self, queue: str = "default", tag: str = "", **env: str) -> Cluster:
        label = f"{queue}-{tag or len(self.started)}"
        extra = {"STUDIO_FAULTS_TAG": tag or label, **env}
        if queue != "default":
            extra["Q_CLUSTER_NAME"] = queue
        log = self.tmp_path / f"cluster-{label}-{len(self.started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.qprobe"],
                cwd=ROOT, env=self.env(**extra), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one killpg takes all of it
            )  # fmt: skip
        cluster = Cluster(proc, log, label)
        self.started.append(cluster)
        return cluster

    def logs(self) -> str:
        return "\n".join(c.tail() for c in self.started)

    def executed(self) -> list[dict[str, Any]]:
        """Every task execution the clusters began (one JSON line each)."""
        if not self.executions.exists():
            return []
        return [json.loads(line) for line in self.executions.read_text().splitlines() if line.strip()]

    def wait(
        self, what: str, predicate: Callable[[], Any], timeout: float, state: Callable[[], Any] | None = None
    ) -> Any:
        """Poll until predicate() is truthy; fail with ``state()`` and the clusters' logs after
        timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                seen = f" (last state: {state()!r})" if state else ""
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{seen}\n{self.logs()}")
            for cluster in self.started:
                if cluster.proc.poll() not in (None, -signal.SIGKILL):
                    pytest.fail(f"cluster {cluster.label} exited ({cluster.proc.returncode})\n{self.logs()}")
            time.sleep(0.03)

    def wait_ready(self, *clusters: Cluster, timeout: float = START) -> None:
        """Until each cluster says it is running (its pusher then polls the queue)."""

        def ready() -> bool:
            return all(" running." in c.log.read_text(errors="replace") for c in clusters)

        self.wait("the clusters to start", ready, timeout)

    def kill_all(self) -> None:
        for cluster in self.started:
            cluster.kill()


@pytest.fixture
def qclusters(worker_db, tmp_path, monkeypatch) -> Iterator[Clusters]:
    """Start clusters with ``qclusters.start()``; all are killed when the test ends."""
    from django_q.conf import Conf

    # The test process queues tasks for the clusters instead of running them itself.
    monkeypatch.setattr(Conf, "SYNC", False)
    clusters = Clusters(worker_db, tmp_path)
    try:
        yield clusters
    finally:
        clusters.kill_all()
