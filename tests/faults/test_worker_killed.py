"""SIGKILL a whole qcluster mid-work, start a new one: the work finishes exactly once.

The ORM broker delivers at least once: the killed cluster's task is handed out again
``retry`` seconds after it was taken (12 s here), to the new cluster. Each case waits until
the work is visibly under way (its progress counter moved), kills the cluster's process
group (monitor, pusher and workers at once, like a power cut), starts a fresh cluster and
checks the end state: nothing lost, nothing doubled, counters that add up.
"""

from __future__ import annotations

import random
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, F

from classifiers.actions.deployments import do_deploy
from classifiers.actions.training import do_request_training
from classifiers.actions.uploads import do_create_upload_batch
from classifiers.analysis import load_version_model
from classifiers.models import (
    Classification,
    ClassificationRun,
    ClassifyJob,
    Document,
    DocumentSet,
    ModelVersion,
    TrainingRun,
    UploadBatch,
    UploadResult,
)
from classifiers.production import STALE_AFTER
from tests.conftest import make_project, make_user
from tests.faults.conftest import RETRY, START, TRAINING_RETRY
from tests.faults.helpers import executions_of, originals_whole, tagged_bulk
from tests.test_api_support import docs, make_token, make_version, post_json
from tests.training_data import make_text
from tests.uploads import zip_bytes

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FILES, UNIQUE = 3000, 2700  # the last 300 files repeat earlier texts: duplicates


def upload_files() -> list[SimpleUploadedFile]:
    """Three zips of 1,000 small text files; files 2700-2999 repeat the text of 0-299."""
    zips = []
    for z in range(3):
        members = {}
        for i in range(z * 1000, (z + 1) * 1000):
            n = i if i < UNIQUE else i - UNIQUE
            members[f"notes/{i:05d}.txt"] = (
                f"Note {n}: the quarterly budget review, item {n * 7919}.".encode()
            )
        zips.append(SimpleUploadedFile(f"part{z}.zip", zip_bytes(members), content_type="application/zip"))
    return zips


def test_upload_batch_survives_a_killed_cluster(qclusters):
    started = time.monotonic()
    admin = make_user("alice", creator=True)
    project = make_project(admin, name="Kill upload")
    batch = do_create_upload_batch(admin, project, upload_files(), DocumentSet.TRAINING)

    def progress() -> tuple[int, str]:
        return UploadBatch.objects.filter(pk=batch.pk).values_list("processed", "status").get()

    first = qclusters.start(tag="first")
    qclusters.wait("the upload to be under way", lambda: progress()[0] > 0, START, progress)
    first.kill()
    processed, status = progress()
    assert status == UploadBatch.Status.PROCESSING and 0 < processed < FILES, (processed, status)

    qclusters.start(tag="second")
    qclusters.wait("the upload to finish", lambda: progress()[1] in ("done", "failed"), RETRY + START + 60)
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.error
    assert (batch.total, batch.processed) == (FILES, FILES)
    assert (batch.imported, batch.duplicates, batch.rejected) == (UNIQUE, FILES - UNIQUE, 0)
    # One result per file, one document per distinct text, every document with its original.
    results = UploadResult.objects.filter(batch=batch)
    assert results.count() == FILES
    assert results.values("path").distinct().count() == FILES
    assert dict(results.values_list("status").annotate(n=Count("id"))) == {
        "imported": UNIQUE,
        "duplicate": FILES - UNIQUE,
    }
    documents = Document.objects.filter(project=project)
    assert documents.count() == UNIQUE == documents.values("text_hash").distinct().count()
    assert results.filter(status="imported", document__isnull=True).count() == 0
    assert results.filter(status="duplicate", duplicate_of__isnull=True).count() == 0
    assert set(results.filter(status="imported").values_list("document_id", flat=True)) == set(
        documents.values_list("id", flat=True)
    )
    assert originals_whole(documents) == UNIQUE
    # The task really was delivered twice: once to each cluster.
    runs = executions_of(qclusters, "process_upload_batch", batch.pk)
    assert [e["tag"] for e in runs] == ["first", "second"], runs
    print(f"upload killed at {processed}/{FILES}; total {time.monotonic() - started:.1f} s")


def test_training_run_survives_a_killed_cluster(qclusters):
    started = time.monotonic()
    admin = make_user("alice", creator=True)
    project = make_project(admin, name="Kill training")
    tagged_bulk(project, admin)
    run, _ = do_request_training(admin, project)

    def state() -> tuple[str, float]:
        return TrainingRun.objects.filter(pk=run.pk).values_list("state", "progress").get()

    first = qclusters.start("training", tag="first")

    # Killed at its first progress report (0.01: reading the tagged documents; the fit itself
    # can take under a second on PostgreSQL, too short a window to aim at).
    def under_way() -> bool:
        current = state()
        assert current[0] in ("queued", "running"), f"the run ended before it could be killed: {current}"
        return current[0] == "running" and current[1] > 0

    qclusters.wait("the run to be under way", under_way, START, state)
    first.kill()
    killed_at = state()
    assert killed_at[0] == "running" and not ModelVersion.objects.filter(project=project).exists(), killed_at

    qclusters.start("training", tag="second")
    qclusters.wait(
        "the run to end",
        lambda: state()[0] in ("succeeded", "failed", "cancelled"),
        TRAINING_RETRY + START + 90,
    )
    run.refresh_from_db()
    assert run.state == TrainingRun.State.SUCCEEDED, run.error
    assert run.attempts == 2 and run.progress == 1.0
    (version,) = ModelVersion.objects.filter(project=project)
    assert version.training_run_id == run.pk and version.number == 1
    assert load_version_model(version).classes == ["finance", "sport", "tech"]
    # Its test split was drawn once (a second draw would have moved more documents).
    assert Document.objects.filter(project=project, set=DocumentSet.TEST).count() == version.test_size
    runs = executions_of(qclusters, "train_project", run.pk)
    assert [e["tag"] for e in runs] == ["first", "second"], runs
    print(f"training killed at {killed_at}; total {time.monotonic() - started:.1f} s")


JOB_DOCUMENTS = 4000


def test_classify_job_survives_a_killed_cluster(qclusters, client):
    started = time.monotonic()
    admin = make_user("alice", creator=True)
    project = make_project(admin, name="Kill job")
    do_deploy(admin, project, "production", make_version(project))
    _, plain = make_token(admin, project, ("classify", "read"))
    body = {"documents": docs(JOB_DOCUMENTS)}
    response = post_json(client, f"/api/v1/projects/{project.slug}/deployments/production/jobs", body, plain)
    assert response.status_code == 202, response.content[:300]
    job = ClassifyJob.objects.get(project=project)

    def progress() -> tuple[int, str]:
        return ClassifyJob.objects.filter(pk=job.pk).values_list("processed", "status").get()

    first = qclusters.start(tag="first", STUDIO_API_JOB_CHUNK="200")
    qclusters.wait("the job to be under way", lambda: progress()[0] > 0, START, progress)
    first.kill()
    processed, status = progress()
    assert status == ClassifyJob.Status.RUNNING and 0 < processed < JOB_DOCUMENTS, (processed, status)

    qclusters.start(tag="second", STUDIO_API_JOB_CHUNK="200")
    qclusters.wait(
        "the job to end", lambda: progress()[1] in ("succeeded", "failed", "cancelled"), RETRY + START + 60
    )
    job.refresh_from_db()
    assert job.status == ClassifyJob.Status.SUCCEEDED, job.error
    assert job.processed == job.total == JOB_DOCUMENTS
    assert [r["id"] for r in job.results] == [d["id"] for d in body["documents"]]
    # What a client reads: every page, every document once.
    seen, url = [], f"/api/v1/projects/{project.slug}/jobs/{job.job_id}?top=1000"
    while url:
        page = client.get(url, HTTP_AUTHORIZATION=f"Bearer {plain}").json()
        assert page["status"] == "succeeded" and page["progress"]["processed"] == JOB_DOCUMENTS
        seen += [d["id"] for d in page["results"]["documents"]]
        url = page["nextLink"] and page["nextLink"].split("://", 1)[-1].split("/", 1)[-1]
        url = url and "/" + url
    assert len(seen) == len(set(seen)) == JOB_DOCUMENTS
    runs = executions_of(qclusters, "run_classify_job", job.pk)
    assert [e["tag"] for e in runs] == ["first", "second"], runs
    print(f"job killed at {processed}/{JOB_DOCUMENTS}; total {time.monotonic() - started:.1f} s")
    print(sorted((e["tag"], e["func"], e["args"]) for e in qclusters.executed()))


PRODUCTION_ITEMS = 8000  # four chunks of 2,000


def test_production_reclassification_survives_a_killed_cluster(qclusters):
    """Publishing re-classifies the production items (classifiers.production)."""
    started = time.monotonic()
    admin = make_user("alice", creator=True)
    project = make_project(admin, name="Kill production")
    version = make_version(project)
    rng = random.Random(3)
    Document.objects.bulk_create(
        Document(
            project=project, set=DocumentSet.PRODUCTION, text=text, text_chars=len(text), text_hash=f"p{i}"
        )
        for i in range(PRODUCTION_ITEMS)
        for text in [f"{make_text(rng, ('finance', 'sport', 'tech')[i % 3], n=25)} #{i}"]
    )
    do_deploy(admin, project, "production", version)  # publishing queues the run
    run = ClassificationRun.objects.get(project=project)

    def progress() -> tuple[int, str]:
        return ClassificationRun.objects.filter(pk=run.pk).values_list("processed", "state").get()

    first = qclusters.start(tag="first")
    qclusters.wait("the run to be under way", lambda: progress()[0] > 0, START, progress)
    first.kill()
    processed, state = progress()
    assert state == ClassificationRun.State.RUNNING and 0 < processed < PRODUCTION_ITEMS, (processed, state)
    # A delivery takes over a running run only once its heartbeat is older than STALE_AFTER
    # (30 s): the broker's redelivery comes after `retry`, 20 minutes by default, but 12 s
    # here. Age the heartbeat by the time that would have passed.
    ClassificationRun.objects.filter(pk=run.pk).update(heartbeat_at=F("heartbeat_at") - STALE_AFTER * 2)

    qclusters.start(tag="second")
    qclusters.wait(
        "the run to end", lambda: progress()[1] not in ClassificationRun.ACTIVE, RETRY + START + 60
    )
    run.refresh_from_db()
    assert run.state == ClassificationRun.State.DONE, run.error
    assert run.processed == run.total == PRODUCTION_ITEMS
    classifications = Classification.objects.filter(project=project)
    assert classifications.count() == PRODUCTION_ITEMS
    assert set(classifications.values_list("model_version", flat=True)) == {version.pk}
    assert ClassificationRun.objects.filter(project=project).count() == 1
    runs = executions_of(qclusters, "classify_production", run.pk)
    assert [e["tag"] for e in runs] == ["first", "second"], runs
    print(
        f"production run killed at {processed}/{PRODUCTION_ITEMS}; total {time.monotonic() - started:.1f} s"
    )
