"""The served OpenAPI description is true: real responses of every endpoint, successes and
errors, validate against it (schemathesis's validator: status documented, content type,
body schema, required headers)."""

from __future__ import annotations

import http.client
import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from schemathesis import Response

from classifiers import serving
from classifiers.actions.deployments import do_deploy
from classifiers.api import jobs
from classifiers.models import ClassifyJob
from tests.conftest import make_project
from tests.test_api_support import Api, docs, make_token, make_version, post_json
from tests.training_data import WORDS


def as_schemathesis(response, method: str, url: str) -> Response:
    return Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request(method=method, url=f"http://testserver{url}").prepare(),
        elapsed=0.0,
        verify=False,
        message=http.client.responses.get(response.status_code, ""),
    )


class Checker:
    def __init__(self, api: Api) -> None:
        self.api = api
        document = api.client.get("/api/v1/openapi.json").json()
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, template: str, method: str, response, url: str = ""):
        documented = self.document["paths"][template][method.lower()]["responses"]
        assert str(response.status_code) in documented, (
            f"status code {response.status_code} is not documented"
        )
        for name, header in documented[str(response.status_code)].get("headers", {}).items():
            assert not header.get("required") or name in response, f"required header {name} is missing"
        media_types = documented[str(response.status_code)].get("content", {})
        if media_types:
            got = response.get("Content-Type", "").split(";")[0]
            assert got in media_types, f"content type {got!r} is not documented"
        operation = self.schema[template][method.upper()]
        operation.validate_response(as_schemathesis(response, method.upper(), url or template))
        self.seen.add((template, method.lower(), response.status_code))
        return response


@pytest.fixture
def api(project, admin_user, settings):
    settings.STUDIO_API_RATE_LIMIT = 0
    return Api(project, admin_user)


def test_served_at_a_stable_url_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    assert document["openapi"].startswith("3.0") and document["servers"] == [{"url": "http://testserver"}]
    assert set(document["paths"]) == {
        "/api/v1/openapi.json",
        "/api/v1/projects/{project}/deployments",
        "/api/v1/projects/{project}/deployments/{slot}",
        "/api/v1/projects/{project}/deployments/{slot}/classify",
        "/api/v1/projects/{project}/deployments/{slot}/jobs",
        "/api/v1/projects/{project}/jobs/{jobId}",
        "/api/v1/projects/{project}/jobs/{jobId}/cancel",
        "/language/analyze-text/jobs",
        "/language/analyze-text/jobs/{jobId}",
        "/language/analyze-text/jobs/{jobId}:cancel",
    }


def test_every_endpoint_answers_as_described(api, admin_user, settings, django_capture_on_commit_callbacks):
    check = Checker(api)
    p = api.project.slug
    check("/api/v1/openapi.json", "get", api.client.get("/api/v1/openapi.json"))
    # A 405 (wrong method) is described under the operation that exists at that path.
    check("/api/v1/openapi.json", "get", api.client.post("/api/v1/openapi.json"))

    # Deployments.
    deployments = "/api/v1/projects/{project}/deployments"
    check(deployments, "get", api.get(f"/api/v1/projects/{p}/deployments"))
    check(deployments, "get", api.client.get(f"/api/v1/projects/{p}/deployments"))  # 401
    check(deployments, "get", api.get("/api/v1/projects/nope/deployments"))  # 404
    check(deployments, "get", api.post(f"/api/v1/projects/{p}/deployments", {}))  # 405
    one = "/api/v1/projects/{project}/deployments/{slot}"
    check(one, "get", api.get(f"/api/v1/projects/{p}/deployments/production"))
    check(one, "get", api.get(f"/api/v1/projects/{p}/deployments/staging"))

    # Synchronous classify: every kind, and every failure.
    classify = "/api/v1/projects/{project}/deployments/{slot}/classify"
    url = f"/api/v1/projects/{p}/deployments/production/classify"
    check(classify, "post", api.post(url, {"documents": [*docs(3), {"id": "e", "text": ""}]}))
    check(
        classify, "post", api.post(url, [{"id": 1, "text": (WORDS["sport"] + " ") * 2000, "language": "de"}])
    )
    check(classify, "post", api.post(url, "{bad json"))
    check(classify, "post", api.post(url, {"documents": [{"id": "1"}]}))
    check(
        classify,
        "post",
        api.client.post(url, "a,b", content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {api.plain}"),
    )
    check(classify, "post", api.post(url.replace("production", "staging"), {"documents": docs(1)}))
    check(classify, "post", api.get(url))
    _, reader = make_token(admin_user, api.project, scopes=("read",), name="reader")
    check(classify, "post", post_json(api.client, url, {"documents": docs(1)}, reader))  # 403
    settings.STUDIO_API_MAX_DOCUMENTS = 2
    check(classify, "post", api.post(url, {"documents": docs(3)}))  # 413
    settings.STUDIO_API_RATE_LIMIT = 1
    check(classify, "post", api.post(url, {"documents": docs(1)}))
    check(classify, "post", api.post(url, {"documents": docs(1)}))  # 429
    settings.STUDIO_API_RATE_LIMIT = 0
    for kind in ("multi_label", "trainable"):
        other = Api(make_project(admin_user, name=f"Kind {kind}", kind=kind), admin_user)
        check(
            classify, "post", other.classify({"documents": [*docs(2), {"id": "e", "text": " "}]}), "/api/v1/x"
        )
    serving.clear_cache()
    broken = make_version(api.project, seed=3)
    do_deploy(admin_user, api.project, "broken", broken)
    serving.clear_cache()
    (Path(settings.MEDIA_ROOT) / broken.artifact).unlink()
    check(classify, "post", api.post(url.replace("production", "broken"), {"documents": docs(1)}))  # 503

    # Jobs, our shape.
    submit = "/api/v1/projects/{project}/deployments/{slot}/jobs"
    job = "/api/v1/projects/{project}/jobs/{jobId}"
    cancel = "/api/v1/projects/{project}/jobs/{jobId}/cancel"
    waiting = check(
        submit, "post", api.post(f"/api/v1/projects/{p}/deployments/production/jobs", {"documents": docs(2)})
    )
    waiting_url = f"/api/v1/projects/{p}/jobs/{waiting.json()['jobId']}"
    check(job, "get", api.get(waiting_url))
    with django_capture_on_commit_callbacks(execute=True):
        done = check(
            submit,
            "post",
            api.post(f"/api/v1/projects/{p}/deployments/production/jobs", {"documents": docs(3)}),
        )
    done_url = f"/api/v1/projects/{p}/jobs/{done.json()['jobId']}"
    check(job, "get", api.get(done_url + "?top=1"))
    check(job, "get", api.get(done_url + "?top=0"))  # 400
    check(job, "get", api.get(f"/api/v1/projects/{p}/jobs/{uuid.uuid4()}"))  # 404
    _, stranger = make_token(admin_user, api.project, name="stranger")
    check(job, "get", api.get(done_url, plain=stranger))  # 403
    check(
        submit, "post", api.post(f"/api/v1/projects/{p}/deployments/production/jobs", {"documents": []})
    )  # 400
    check(cancel, "post", api.post(waiting_url + "/cancel", None))  # 202
    check(cancel, "post", api.post(done_url + "/cancel", None))  # 409
    ClassifyJob.objects.filter(job_id=waiting.json()["jobId"]).update(
        model_version=None, status="failed", error={"code": "X", "message": "y"}
    )
    check(job, "get", api.get(waiting_url))

    # Jobs, Azure's shape.
    azure_submit = "/language/analyze-text/jobs"
    azure_job = "/language/analyze-text/jobs/{jobId}"
    azure_cancel = "/language/analyze-text/jobs/{jobId}:cancel"
    body = {
        "analysisInput": {"documents": [{"id": "1", "text": WORDS["sport"]}, {"id": "2", "text": ""}]},
        "tasks": [
            {
                "kind": "CustomSingleLabelClassification",
                "parameters": {"projectName": p, "deploymentName": "production"},
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = check(
            azure_submit, "post", api.post("/language/analyze-text/jobs?api-version=2022-05-01", body)
        )
    location = response["Operation-Location"].removeprefix("http://testserver")
    check(azure_job, "get", api.get(location))
    check(azure_job, "get", api.get(location + "&top=1"))
    check(azure_cancel, "post", api.post(location.replace("?", ":cancel?"), None))  # 409
    waiting = check(azure_submit, "post", api.post("/language/analyze-text/jobs", body))
    location = waiting["Operation-Location"].removeprefix("http://testserver")
    check(azure_job, "get", api.get(location))  # notStarted
    ClassifyJob.objects.filter(status="notStarted").update(status="running", cancel_requested=True)
    check(azure_job, "get", api.get(location))  # cancelling
    ClassifyJob.objects.filter(status="running").update(status="notStarted", cancel_requested=False)
    check(azure_cancel, "post", api.post(location.replace("?", ":cancel?"), None))  # 202
    check(azure_job, "get", api.get(location))  # cancelled
    body["tasks"][0]["kind"] = "Nope"
    check(azure_submit, "post", api.post("/language/analyze-text/jobs", body))  # 400
    check(azure_job, "get", api.get(f"/language/analyze-text/jobs/{uuid.uuid4()}"))  # 404

    # Every operation was exercised, successes and failures.
    operations = {(t, m) for t, m, _ in check.seen}
    assert len(operations) == 10
    assert {s for *_, s in check.seen} >= {200, 202, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503}


def test_a_failed_job_has_an_error_and_still_validates(api, django_capture_on_commit_callbacks):
    check = Checker(api)
    api.post(f"/api/v1/projects/{api.project.slug}/deployments/production/jobs", {"documents": docs(1)})
    job = ClassifyJob.objects.get()
    ClassifyJob.objects.update(model_version=None)
    jobs.run_classify_job(job.pk)
    check(
        "/api/v1/projects/{project}/jobs/{jobId}",
        "get",
        api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}"),
    )
    check("/language/analyze-text/jobs/{jobId}", "get", api.get(f"/language/analyze-text/jobs/{job.job_id}"))


def failure_of(check, *args) -> str:
    try:
        check(*args)
    except BaseException as exc:  # schemathesis raises a (Base)ExceptionGroup of failures
        return " ".join(
            [
                type(exc).__name__,
                str(exc),
                *(f"{type(e).__name__} {e}" for e in getattr(exc, "exceptions", [])),
            ]
        )
    return ""


def test_the_checker_catches_a_lie(api):
    """Guard for the test above: a body, status or header the description does not allow fails."""
    from django.http import HttpResponse, JsonResponse

    check = Checker(api)
    template = "/api/v1/projects/{project}/deployments/{slot}/classify"
    wrong_body = JsonResponse({"project": "x", "documents": [{"id": 1}]})
    assert "violates schema" in failure_of(check, template, "post", wrong_body)
    teapot = JsonResponse({"error": {"code": "x", "message": "y"}}, status=418)
    assert "status code" in failure_of(check, template, "post", teapot).lower()
    no_retry_after = JsonResponse({"error": {"code": "TooManyRequests", "message": "y"}}, status=429)
    assert "header" in failure_of(check, template, "post", no_retry_after).lower()
    html = HttpResponse("<html>", status=404, content_type="text/html")
    assert "content" in failure_of(check, template, "post", html).lower()
