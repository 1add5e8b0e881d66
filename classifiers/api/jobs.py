"""Asynchronous classify jobs: submitted through the API, run by a django-q2 worker.

``run_classify_job`` is idempotent under at-least-once delivery: it classifies in chunks
and stores each chunk's results with the new ``processed`` count in one short
transaction, so a re-delivered job (the worker was killed, the host restarted) continues
after the last stored chunk, and two deliveries never store the same chunk twice. It
checks for a cancel request before each chunk. When the job ends, the texts are dropped
from the stored request (results and ids stay until the job expires).

``delete_expired_jobs`` is the periodic cleanup (a django-q2 schedule): jobs past their
``expires_at`` and classification-log rows older than STUDIO_API_LOG_DAYS.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classifiers import serving
from classifiers.models import ApiCall, ApiToken, ClassifyJob, Deployment, Project
from classifiers.serving import DocumentIn

logger = logging.getLogger(__name__)

Status = ClassifyJob.Status
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
MAX_PAGE = 1000
DELETE_BATCH = 500
# A chunk takes well under a second: a job without progress this long has lost its worker
# (or its queue message) and is queued again; a second delivery is harmless.
STALLED_AFTER = timedelta(minutes=10)


def submit_job(
    token: ApiToken,
    project: Project,
    deployment: Deployment,
    documents: list[DocumentIn],
    *,
    azure_shape: bool = False,
    meta: dict[str, Any] | None = None,
) -> ClassifyJob:
    """Store the job and queue it once the row is committed. The slot's current version is
    pinned: a swap after submission does not change which model answers the job."""
    from classifiers.tasks import enqueue

    now = timezone.now()
    with transaction.atomic():
        job = ClassifyJob.objects.create(
            project=project,
            job_id=uuid.uuid4(),
            token=token,
            slot=deployment.name,
            model_version=deployment.model_version,
            request={
                **(meta or {}),
                "documents": [{"id": d.id, "text": d.text, "language": d.language} for d in documents],
            },
            total=len(documents),
            azure_shape=azure_shape,
            expires_at=now + timedelta(seconds=settings.STUDIO_API_JOB_TTL_SECONDS),
        )
        enqueue("classifiers.api.jobs.run_classify_job", job.pk)
    return job


def _without_texts(job: ClassifyJob) -> dict[str, Any]:
    request = {k: v for k, v in job.request.items() if k != "documents"}
    request["documentCount"] = job.total
    return request


def _finish(job_pk: int, status: str, error: dict | None = None) -> None:
    """End the job (unless another delivery already did) and drop the texts."""
    with transaction.atomic():
        job = ClassifyJob.objects.select_for_update().defer("results").filter(pk=job_pk).first()
        if job is None or job.status in FINISHED:
            return
        job.request = _without_texts(job)
        job.status = status
        job.error = error or {}
        job.save(update_fields=["request", "status", "error", "updated_at"])


def run_classify_job(job_pk: int) -> None:
    """The django-q2 task: classify the job's documents chunk by chunk."""
    job = ClassifyJob.objects.select_related("model_version", "project").filter(pk=job_pk).first()
    if job is None or job.status in FINISHED:
        return
    if job.cancel_requested:
        _finish(job.pk, Status.CANCELLED)
        return
    if job.expires_at <= timezone.now():
        _finish(job.pk, Status.FAILED, {"code": "JobExpired", "message": "The job expired before it ran."})
        return
    version = job.model_version
    if version is None:
        _finish(
            job.pk,
            Status.FAILED,
            {"code": "ModelVersionGone", "message": "The model version this job was pinned to was deleted."},
        )
        return
    ClassifyJob.objects.filter(pk=job.pk, status=Status.NOT_STARTED).update(
        status=Status.RUNNING, updated_at=timezone.now()
    )
    documents = [DocumentIn(d["id"], d["text"], d.get("language") or "") for d in job.request["documents"]]
    chunk = settings.STUDIO_API_JOB_CHUNK
    try:
        while True:
            state = (
                ClassifyJob.objects.filter(pk=job.pk)
                .values("status", "processed", "cancel_requested")
                .first()
            )
            if state is None or state["status"] in FINISHED:
                return  # deleted, or ended by another delivery
            if state["cancel_requested"]:
                _finish(job.pk, Status.CANCELLED)
                return
            start = state["processed"]
            if start >= len(documents):
                break
            results = serving.classify(
                version, documents[start : start + chunk], project_language=job.project.language
            )
            with transaction.atomic():
                locked = (
                    ClassifyJob.objects.select_for_update()
                    .only("processed", "status", "results")
                    .get(pk=job.pk)
                )
                if locked.processed != start or locked.status in FINISHED:
                    continue  # another delivery stored this chunk first
                locked.results = [*locked.results, *results]
                locked.processed = start + len(results)
                locked.status = Status.RUNNING
                locked.save(update_fields=["results", "processed", "status", "updated_at"])
    except serving.ModelUnavailable as exc:
        # The exception names the artifact's server path: it goes to the log, not the client.
        logger.error("classify job %s: %s", job.job_id, exc)
        message = (
            f"Model version {version.number} cannot be loaded: its model file is missing or failed "
            "its integrity check."
        )
        _finish(job.pk, Status.FAILED, {"code": "ModelUnavailable", "message": message})
        return
    except Exception as exc:
        logger.exception("classify job %s failed", job.job_id)
        _finish(
            job.pk,
            Status.FAILED,
            {"code": "InternalServerError", "message": f"The job failed: {type(exc).__name__}."},
        )
        return
    _finish(job.pk, Status.SUCCEEDED)


def request_cancel(job: ClassifyJob) -> ClassifyJob:
    """Cancel at once when not started; otherwise flag it for the worker, which stops before
    its next chunk (results so far are kept). A finished job is left as it is."""
    with transaction.atomic():
        locked = ClassifyJob.objects.select_for_update().defer("results").get(pk=job.pk)
        if locked.status not in FINISHED:
            locked.cancel_requested = True
            fields = ["cancel_requested", "updated_at"]
            if locked.status == Status.NOT_STARTED:
                locked.status = Status.CANCELLED
                locked.request = _without_texts(locked)
                fields += ["status", "request"]
            locked.save(update_fields=fields)
    return ClassifyJob.objects.get(pk=job.pk)


def requeue_stalled_jobs() -> int:
    """Queue again the unfinished jobs that have not moved for STALLED_AFTER."""
    from classifiers.tasks import enqueue

    stalled = ClassifyJob.objects.filter(
        status__in=(Status.NOT_STARTED, Status.RUNNING),
        updated_at__lt=timezone.now() - STALLED_AFTER,
        expires_at__gt=timezone.now(),
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(stalled[:DELETE_BATCH]):
        with transaction.atomic():
            # Touch it, so the next cleanup does not queue it again straight away.
            ClassifyJob.objects.filter(pk=pk).update(updated_at=timezone.now())
            enqueue("classifiers.api.jobs.run_classify_job", pk)
        count += 1
    if count:
        logger.warning("queued %d stalled classify jobs again", count)
    return count


def delete_expired_jobs() -> int:
    """The periodic cleanup (a django-q2 schedule, e.g. every 10 minutes): queues stalled
    jobs again, deletes expired jobs and log rows older than STUDIO_API_LOG_DAYS.
    Returns the number of jobs deleted. Deletes in batches to keep transactions short."""
    requeue_stalled_jobs()
    now = timezone.now()
    deleted = 0
    while True:
        ids = list(ClassifyJob.objects.filter(expires_at__lt=now).values_list("pk", flat=True)[:DELETE_BATCH])
        if not ids:
            break
        deleted += ClassifyJob.objects.filter(pk__in=ids).delete()[0]
    cutoff = now - timedelta(days=settings.STUDIO_API_LOG_DAYS)
    while True:
        ids = list(
            ApiCall.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[: DELETE_BATCH * 10]
        )
        if not ids:
            break
        ApiCall.objects.filter(pk__in=ids).delete()
    return deleted


# --- What a poll answers (our shape; Azure's is in classifiers.api.azure) -------------------------
def page_bounds(request_get: Any) -> tuple[int, int]:
    """(skip, top) from the query string; 400 on nonsense."""
    from classifiers.api.errors import bad_request

    def number(name: str, default: int, low: int, high: int) -> int:
        raw = request_get.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"'{name}' must be a whole number.", name) from None
        if not low <= value <= high:
            raise bad_request(f"'{name}' must be between {low} and {high}.", name)
        return value

    top = number("top", min(settings.STUDIO_API_PAGE_SIZE, MAX_PAGE), 1, MAX_PAGE)
    skip = number("skip", 0, 0, 10**9)
    return skip, top


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_document(
    job: ClassifyJob, *, skip: int, top: int, page_url: Callable[[int, int], str], version_number: int | None
) -> dict[str, Any]:
    """Status, progress and one page of results, in our own shape."""
    page = job.results[skip : skip + top]
    if job.status == Status.SUCCEEDED:
        percent = 100
    else:
        percent = int(100 * job.processed / job.total) if job.total else 0
    next_link = page_url(skip + top, top) if skip + top < job.processed else None
    return {
        "jobId": str(job.job_id),
        "status": job.status,
        "createdDateTime": iso(job.created_at),
        "lastUpdatedDateTime": iso(job.updated_at),
        "expirationDateTime": iso(job.expires_at),
        "deployment": job.slot,
        "modelVersion": version_number,
        "cancelRequested": job.cancel_requested,
        "progress": {
            "processed": job.processed,
            "total": job.total,
            "percent": percent,
        },
        "error": job.error or None,
        "results": {"skip": skip, "top": top, "count": len(page), "documents": page},
        "nextLink": next_link,
    }
