"""Scale-out on PostgreSQL: two clusters per queue share the work, each task runs once.

Two default-queue clusters (2 workers each) and two ``training`` clusters (1 worker each),
as on two worker hosts, on one PostgreSQL broker. Six small projects train and thirty
classify jobs run. Every run makes one model version, every job one complete result set,
every task is executed exactly once, and on each queue both clusters did some of it
(tests.faults.qprobe notes which cluster began each task).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connection

from classifiers.actions.deployments import do_deploy
from classifiers.actions.training import do_request_training
from classifiers.models import ClassifyJob, ModelVersion, TrainingRun
from tests.conftest import make_project, make_user
from tests.faults.conftest import START
from tests.faults.helpers import tagged_bulk
from tests.test_api_support import docs, make_token, make_version, post_json

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PROJECTS = 6
JOBS, JOB_DOCUMENTS = 30, 40


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("scale-out needs PostgreSQL (DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)")


def test_two_clusters_per_queue_share_the_work_exactly_once(postgres_only, qclusters, client):
    started = time.monotonic()
    alice = make_user("alice", creator=True)
    projects = [make_project(alice, name=f"Scale {i}") for i in range(PROJECTS)]
    for i, project in enumerate(projects):
        tagged_bulk(project, alice, per_class=40 + 10 * i)
    api_project = make_project(alice, name="Scale API")
    do_deploy(alice, api_project, "production", make_version(api_project))
    _, plain = make_token(alice, api_project, ("classify", "read"))

    clusters = [
        qclusters.start(tag="default-a"),
        qclusters.start(tag="default-b"),
        qclusters.start("training", tag="training-a"),
        qclusters.start("training", tag="training-b"),
    ]
    qclusters.wait_ready(*clusters, timeout=START + 30)

    runs = [do_request_training(alice, project)[0] for project in projects]
    url = f"/api/v1/projects/{api_project.slug}/deployments/production/jobs"
    bodies = {}
    for j in range(JOBS):
        body = {"documents": docs(JOB_DOCUMENTS, seed=j)}
        response = post_json(client, url, body, plain)
        assert response.status_code == 202, response.content[:300]
        bodies[response["Location"].rstrip("/").rsplit("/", 1)[-1]] = body

    def finished() -> bool:
        runs_done = not TrainingRun.objects.filter(
            pk__in=[r.pk for r in runs], finished_at__isnull=True
        ).exists()
        jobs_done = not ClassifyJob.objects.filter(status__in=("notStarted", "running")).exists()
        return runs_done and jobs_done

    qclusters.wait("every run and job to end", finished, 90)

    for run in runs:
        run.refresh_from_db()
        assert run.state == TrainingRun.State.SUCCEEDED and run.attempts == 1, (run.pk, run.state, run.error)
        (version,) = ModelVersion.objects.filter(project=run.project)
        assert version.training_run_id == run.pk and version.number == 1
    jobs = list(ClassifyJob.objects.filter(project=api_project))
    assert len(jobs) == JOBS
    for job in jobs:
        assert job.status == "succeeded" and job.processed == job.total == JOB_DOCUMENTS, job.error
        assert [r["id"] for r in job.results] == [d["id"] for d in bodies[str(job.job_id)]["documents"]]

    executed = qclusters.executed()
    begun = Counter((e["func"].rsplit(".", 1)[-1], tuple(e["args"])) for e in executed)
    twice = {task: n for task, n in begun.items() if n > 1}
    assert not twice, f"tasks executed more than once: {twice}"
    assert {args[0] for (func, args) in begun if func == "train_project"} == {r.pk for r in runs}
    assert {args[0] for (func, args) in begun if func == "run_classify_job"} == {j.pk for j in jobs}
    by_cluster = Counter((e["tag"], e["func"].rsplit(".", 1)[-1]) for e in executed)
    assert by_cluster[("default-a", "run_classify_job")] and by_cluster[("default-b", "run_classify_job")], (
        by_cluster
    )
    assert by_cluster[("training-a", "train_project")] and by_cluster[("training-b", "train_project")], (
        by_cluster
    )
    # The queues stay apart: training clusters never ran a job, default clusters never trained.
    assert not any(tag.startswith("training") and func == "run_classify_job" for tag, func in by_cluster)
    assert not any(tag.startswith("default") and func == "train_project" for tag, func in by_cluster)
    pids = {e["tag"]: set() for e in executed}
    for e in executed:
        pids[e["tag"]].add(e["pid"])
    assert not pids["default-a"] & pids["default-b"]
    print(f"scale-out: {dict(by_cluster)}; {time.monotonic() - started:.1f} s")
