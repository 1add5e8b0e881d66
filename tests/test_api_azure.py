"""Azure AI Language's analyze-text jobs, as an Azure client sends and reads them."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from classifiers.api import jobs
from classifiers.models import ClassifyJob
from tests.conftest import make_project
from tests.test_api_support import Api, assert_error
from tests.training_data import WORDS

SUBMIT = "/language/analyze-text/jobs?api-version=2022-05-01"


def azure_body(project, kind="CustomSingleLabelClassification", deployment="production", documents=None):
    return {
        "displayName": "Classifying documents",
        "analysisInput": {
            "documents": documents
            or [
                {"id": "1", "language": "en-us", "text": WORDS["sport"]},
                {"id": "2", "language": "en-us", "text": WORDS["finance"]},
                {"id": "3", "language": "en-us", "text": ""},
            ]
        },
        "tasks": [
            {
                "kind": kind,
                "taskName": "Single Classification Label",
                "parameters": {"projectName": project.slug, "deploymentName": deployment},
            }
        ],
    }


class AzureClient:
    """Sends what an Azure client sends: the key in Ocp-Apim-Subscription-Key."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.headers = {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": api.plain}

    def submit(self, body):
        return self.api.client.post(SUBMIT, body, content_type="application/json", **self.headers)

    def get(self, url):
        parts = urlsplit(url)
        return self.api.client.get(f"{parts.path}?{parts.query}", **self.headers)

    def cancel(self, job_id):
        url = f"/language/analyze-text/jobs/{job_id}:cancel?api-version=2022-05-01"
        return self.api.client.post(url, **self.headers)


@pytest.fixture
def azure(project, admin_user):
    return AzureClient(Api(project, admin_user))


def test_single_label_job(azure, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = azure.submit(azure_body(azure.api.project))
    assert response.status_code == 202 and response.content == b""
    location = response["Operation-Location"]
    job = ClassifyJob.objects.get()
    assert location == f"http://testserver/language/analyze-text/jobs/{job.job_id}?api-version=2022-05-01"
    state = azure.get(location).json()
    assert state["jobId"] == str(job.job_id) and state["status"] == "succeeded"
    assert state["displayName"] == "Classifying documents" and state["errors"] == []
    assert state["tasks"] | {"items": None} == {
        "completed": 1,
        "failed": 0,
        "inProgress": 0,
        "total": 1,
        "items": None,
    }
    (item,) = state["tasks"]["items"]
    assert item["kind"] == "CustomSingleLabelClassificationLROResults" and item["status"] == "succeeded"
    assert item["taskName"] == "Single Classification Label"
    results = item["results"]
    assert results["projectName"] == azure.api.project.slug and results["deploymentName"] == "production"
    assert [(d["id"], d["class"][0]["category"]) for d in results["documents"]] == [
        ("1", "sport"),
        ("2", "finance"),
    ]
    assert all(
        len(d["class"]) == 1 and 0 < d["class"][0]["confidenceScore"] <= 1 for d in results["documents"]
    )
    (error,) = results["errors"]  # Azure refuses an empty document per document
    assert error["id"] == "3" and error["error"]["innererror"]["code"] == "InvalidDocument"
    assert "nextLink" not in state


def test_multi_label_and_trainable_projects(admin_user, django_capture_on_commit_callbacks):
    multi = AzureClient(Api(make_project(admin_user, name="Multi", kind="multi_label"), admin_user))
    docs = [{"id": "1", "text": WORDS["sport"] + " " + WORDS["tech"]}]
    assert_error(
        multi.submit(azure_body(multi.api.project, documents=docs)), 400, "InvalidArgument", "tasks[0].kind"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = multi.submit(
            azure_body(multi.api.project, "CustomMultiLabelClassification", documents=docs)
        )
    (item,) = multi.get(response["Operation-Location"]).json()["tasks"]["items"]
    assert item["kind"] == "CustomMultiLabelClassificationLROResults"
    assert {"sport", "tech"} <= {c["category"] for c in item["results"]["documents"][0]["class"]}

    trainable = AzureClient(Api(make_project(admin_user, name="Finance docs", kind="trainable"), admin_user))
    with django_capture_on_commit_callbacks(execute=True):
        response = trainable.submit(
            azure_body(trainable.api.project, documents=[{"id": "1", "text": WORDS["finance"]}])
        )
    (item,) = trainable.get(response["Operation-Location"]).json()["tasks"]["items"]
    assert item["results"]["documents"][0]["class"][0]["category"] == "match"


def test_paging_and_cancel(azure, settings):
    settings.STUDIO_API_JOB_CHUNK = 3
    documents = [{"id": str(i), "text": WORDS["tech"]} for i in range(7)]
    response = azure.submit(azure_body(azure.api.project, documents=documents))
    job = ClassifyJob.objects.get()
    state = azure.get(response["Operation-Location"]).json()
    assert (
        state["status"] == "notStarted"
        and state["tasks"]["items"] == []
        and state["tasks"]["inProgress"] == 1
    )
    jobs.run_classify_job(job.pk)
    first = azure.get(response["Operation-Location"] + "&top=5").json()
    assert len(first["tasks"]["items"][0]["results"]["documents"]) == 5
    second = azure.get(first["nextLink"]).json()
    assert [d["id"] for d in second["tasks"]["items"][0]["results"]["documents"]] == ["5", "6"]
    assert "api-version=2022-05-01" in first["nextLink"]
    assert_error(azure.cancel(job.job_id), 409, "Conflict")


def test_cancel_a_waiting_job(azure):
    azure.submit(azure_body(azure.api.project))
    job = ClassifyJob.objects.get()
    response = azure.cancel(job.job_id)
    assert response.status_code == 202 and response["Operation-Location"].endswith(
        f"{job.job_id}?api-version=2022-05-01"
    )
    assert azure.get(response["Operation-Location"]).json()["status"] == "cancelled"


def test_cancelling_shows_while_the_worker_has_not_stopped(azure):
    azure.submit(azure_body(azure.api.project))
    job = ClassifyJob.objects.get()
    ClassifyJob.objects.update(status="running", cancel_requested=True)
    state = azure.get(f"/language/analyze-text/jobs/{job.job_id}?api-version=2023-04-01").json()
    assert state["status"] == "cancelling"


@pytest.mark.parametrize(
    ("mutate", "status", "target"),
    [
        (lambda b: b.pop("analysisInput"), 400, "analysisInput"),
        (lambda b: b["analysisInput"].update(documents=[]), 400, "analysisInput.documents"),
        (lambda b: b["analysisInput"]["documents"][0].pop("text"), 400, "analysisInput.documents[0].text"),
        (lambda b: b.update(tasks=[]), 400, "tasks"),
        (lambda b: b.update(tasks=b["tasks"] * 2), 400, "tasks"),
        (lambda b: b["tasks"][0].update(kind="SentimentAnalysis"), 400, "tasks[0].kind"),
        (lambda b: b["tasks"][0].pop("parameters"), 400, "tasks[0].parameters"),
        (
            lambda b: b["tasks"][0]["parameters"].pop("deploymentName"),
            400,
            "tasks[0].parameters.deploymentName",
        ),
        (
            lambda b: b["tasks"][0]["parameters"].update(projectName="someone-else"),
            404,
            "tasks[0].parameters.projectName",
        ),
        (lambda b: b["tasks"][0]["parameters"].update(deploymentName="staging"), 404, "deployment"),
    ],
)
def test_refusals(azure, mutate, status, target):
    body = azure_body(azure.api.project)
    mutate(body)
    assert_error(azure.submit(body), status, target=target)
    assert not ClassifyJob.objects.exists()


def test_bearer_works_too_and_other_projects_jobs_are_hidden(azure, other_project, outsider_user):
    azure.submit(azure_body(azure.api.project))
    job = ClassifyJob.objects.get()
    own = azure.api.get(f"/language/analyze-text/jobs/{job.job_id}")
    assert own.status_code == 200
    stranger = Api(other_project, outsider_user)
    assert_error(stranger.get(f"/language/analyze-text/jobs/{job.job_id}"), 404, "NotFound")
    assert_error(azure.api.client.get(f"/language/analyze-text/jobs/{job.job_id}"), 401, "Unauthorized")
