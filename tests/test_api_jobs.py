"""Asynchronous jobs: submit, poll, page through results, cancel, expire, re-delivery."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from classifiers import serving
from classifiers.actions.deployments import do_deploy
from classifiers.api import jobs
from classifiers.models import ApiCall, ClassifyJob
from tests.test_api_support import Api, assert_error, docs, make_token, make_version, post_json


@pytest.fixture
def api(project, admin_user):
    return Api(project, admin_user)


def submit_url(api, slot="production"):
    return f"/api/v1/projects/{api.project.slug}/deployments/{slot}/jobs"


def submit(api, n=5, capture=None, **body):
    if capture is None:
        return api.post(submit_url(api), {"documents": docs(n), **body})
    with capture(execute=True):
        return api.post(submit_url(api), {"documents": docs(n), **body})


def path_of(url: str) -> str:
    """The path and query of an absolute URL the API gave (Location, nextLink)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_lifecycle(api, django_capture_on_commit_callbacks):
    response = submit(api, 7, django_capture_on_commit_callbacks, displayName="nightly")
    assert response.status_code == 202
    body = response.json()
    location = response["Location"]
    assert location == f"http://testserver/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"
    polled = api.get(path_of(location)).json()
    assert polled["status"] == "succeeded" and polled["modelVersion"] == 1
    assert polled["progress"] == {"processed": 7, "total": 7, "percent": 100}
    assert [d["id"] for d in polled["results"]["documents"]] == [str(i) for i in range(7)]
    assert all(d["classes"][0]["category"] == "sport" for d in polled["results"]["documents"])
    assert polled["nextLink"] is None and polled["error"] is None
    job = ClassifyJob.objects.get()
    assert "documents" not in job.request and job.request["documentCount"] == 7  # texts dropped
    assert job.request["displayName"] == "nightly"
    endpoints = list(ApiCall.objects.order_by("id").values_list("endpoint", "documents", "status_code"))
    assert endpoints == [("job.submit", 7, 202), ("job.status", 0, 200)]


def test_not_started_then_cancelled(api):
    body = submit(api).json()
    assert body["status"] == "notStarted" and body["progress"]["percent"] == 0
    url = f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"
    cancelled = api.post(url + "/cancel", None)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    job = ClassifyJob.objects.get()
    jobs.run_classify_job(job.pk)  # a late delivery does nothing
    job.refresh_from_db()
    assert job.status == "cancelled" and job.results == [] and "documents" not in job.request
    assert_error(api.post(url + "/cancel", None), 409, "Conflict")


def test_chunks_and_redelivery_continue_where_it_stopped(api, settings, monkeypatch):
    settings.STUDIO_API_JOB_CHUNK = 4
    submit(api, 10)
    job = ClassifyJob.objects.get()
    real = serving.classify
    calls = []

    def dies_on_third_chunk(version, documents, **kwargs):
        calls.append([d.id for d in documents])
        if len(calls) == 3:
            raise SystemExit("worker killed")  # BaseException: escapes like a dying process
        return real(version, documents, **kwargs)

    monkeypatch.setattr(serving, "classify", dies_on_third_chunk)
    with pytest.raises(SystemExit):
        jobs.run_classify_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed, len(job.results)) == ("running", 8, 8)
    assert (
        api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}").json()["progress"]["percent"] == 80
    )
    monkeypatch.setattr(serving, "classify", real)
    jobs.run_classify_job(job.pk)  # the broker delivers it again
    job.refresh_from_db()
    assert job.status == "succeeded" and job.processed == 10
    assert [r["id"] for r in job.results] == [str(i) for i in range(10)]  # each exactly once
    jobs.run_classify_job(job.pk)  # and once more: nothing changes
    job.refresh_from_db()
    assert len(job.results) == 10


def test_cancel_while_running_keeps_results_so_far(api, settings, monkeypatch):
    settings.STUDIO_API_JOB_CHUNK = 2
    body = submit(api, 6).json()
    job = ClassifyJob.objects.get()
    real = serving.classify

    def cancel_after_first_chunk(version, documents, **kwargs):
        result = real(version, documents, **kwargs)
        response = api.post(f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}/cancel", None)
        assert response.status_code == 202
        return result

    monkeypatch.setattr(serving, "classify", cancel_after_first_chunk)
    jobs.run_classify_job(job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.processed == 2 and job.cancel_requested
    polled = api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}").json()
    assert polled["status"] == "cancelled" and polled["results"]["count"] == 2


def test_pagination(api, django_capture_on_commit_callbacks):
    body = submit(api, 25, django_capture_on_commit_callbacks).json()
    url = f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"
    seen = []
    page = api.get(url, data={"top": 10}).json()
    while True:
        seen += [d["id"] for d in page["results"]["documents"]]
        if not page["nextLink"]:
            break
        assert "top=10" in page["nextLink"]
        page = api.get(path_of(page["nextLink"])).json()
    assert seen == [str(i) for i in range(25)]
    for bad in ({"top": 0}, {"top": 1001}, {"skip": -1}, {"top": "ten"}):
        target = next(iter(bad))
        assert_error(api.get(url, data=bad), 400, "InvalidArgument", target)


def test_the_version_is_pinned_at_submission(api, admin_user):
    submit(api, 3)
    do_deploy(admin_user, api.project, "production", make_version(api.project, seed=1))
    job = ClassifyJob.objects.get()
    jobs.run_classify_job(job.pk)
    polled = api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}").json()
    assert polled["status"] == "succeeded" and polled["modelVersion"] == 1


def test_other_tokens_need_the_read_scope(api, django_capture_on_commit_callbacks):
    body = submit(api, 2, django_capture_on_commit_callbacks).json()
    url = f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"
    _, classifier = make_token(api.admin, api.project, name="other app")
    _, reader = make_token(api.admin, api.project, scopes=("read",), name="dashboard")
    assert_error(api.get(url, plain=classifier), 403, "Forbidden", "scope")
    assert api.get(url, plain=reader).status_code == 200
    assert_error(post_json(api.client, url + "/cancel", None, reader), 403, "Forbidden")


def test_jobs_of_another_project_are_not_found(api, other_project, outsider_user):
    body = submit(api).json()
    other = Api(other_project, outsider_user)
    assert_error(
        other.get(f"/api/v1/projects/{other_project.slug}/jobs/{body['jobId']}"), 404, "NotFound", "jobId"
    )
    assert_error(
        other.get(f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"), 404, "NotFound", "project"
    )


def test_expiry_and_cleanup(api, settings):
    body = submit(api).json()
    url = f"/api/v1/projects/{api.project.slug}/jobs/{body['jobId']}"
    assert api.get(url).status_code == 200
    ClassifyJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(api.get(url), 404, "NotFound")
    submit(api)  # a fresh one stays
    old_call = ApiCall.objects.first()
    ApiCall.objects.filter(pk=old_call.pk).update(
        created_at=timezone.now() - timedelta(days=settings.STUDIO_API_LOG_DAYS + 1)
    )
    assert jobs.delete_expired_jobs() == 1
    assert ClassifyJob.objects.count() == 1 and not ApiCall.objects.filter(pk=old_call.pk).exists()


def test_expired_before_it_ran_fails(api):
    submit(api)
    job = ClassifyJob.objects.get()
    ClassifyJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    jobs.run_classify_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error["code"] == "JobExpired"


def test_a_job_whose_version_was_deleted_fails(api):
    submit(api)
    job = ClassifyJob.objects.get()
    ClassifyJob.objects.update(model_version=None)
    jobs.run_classify_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error["code"] == "ModelVersionGone"
    polled = api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}").json()
    assert polled["status"] == "failed" and polled["modelVersion"] is None
    assert polled["error"]["code"] == "ModelVersionGone"


def test_unexpected_failure_marks_the_job_failed(api, monkeypatch):
    submit(api)
    job = ClassifyJob.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(serving, "classify", broken)
    jobs.run_classify_job(job.pk)
    job.refresh_from_db()
    assert (
        job.status == "failed" and job.error["code"] == "InternalServerError" and "boom" not in str(job.error)
    )


def test_job_limits(api, settings):
    settings.STUDIO_API_JOB_MAX_DOCUMENTS = 4
    error = assert_error(submit(api, 5), 413, "TooManyDocuments", "documents")
    assert "STUDIO_API_JOB_MAX_DOCUMENTS" in error["message"]
    settings.STUDIO_API_JOB_MAX_CHARS = 1000
    big = [{"id": str(i), "text": "x" * 400} for i in range(3)]
    assert_error(api.post(submit_url(api), {"documents": big}), 413, "TooManyCharacters")
    assert not ClassifyJob.objects.exists()


def test_jobs_allow_more_than_a_synchronous_call(api, settings, django_capture_on_commit_callbacks):
    settings.STUDIO_API_MAX_DOCUMENTS = 5
    assert_error(api.classify({"documents": docs(6)}), 413)
    response = submit(api, 60, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert ClassifyJob.objects.get().processed == 60


def test_unknown_slot_and_bad_display_name(api):
    assert_error(api.post(submit_url(api, "nope"), {"documents": docs(1)}), 404, "NotFound", "deployment")
    assert_error(
        api.post(submit_url(api), {"documents": docs(1), "displayName": 5}),
        400,
        "InvalidArgument",
        "displayName",
    )


def test_the_cleanup_queues_stalled_jobs_again(api, django_capture_on_commit_callbacks):
    submit(api, 4)  # queued, but its message was lost (the callback never ran)
    job = ClassifyJob.objects.get()
    assert jobs.requeue_stalled_jobs() == 0  # too recent to call stalled
    ClassifyJob.objects.update(updated_at=timezone.now() - jobs.STALLED_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.delete_expired_jobs() == 0
    job.refresh_from_db()
    assert job.status == "succeeded" and job.processed == 4
