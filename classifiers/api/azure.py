"""Azure AI Language's analyze-text jobs, for custom text classification.

An Azure client switches by changing its base URL (and key): the request shape
``{"analysisInput": {"documents": [...]}, "tasks": [{"kind": "CustomSingleLabelClassification",
"parameters": {"projectName", "deploymentName"}}]}`` is read here and the job is answered in
Azure's result shape (api-version 2022-05-01, unchanged in later versions for these kinds).
projectName is the project's slug, deploymentName a slot. One task per job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from classifiers.api.documents import optional_string, parse_documents
from classifiers.api.errors import ApiError, bad_request, not_found
from classifiers.api.jobs import iso
from classifiers.models import ClassifyJob, Project
from classifiers.serving import EMPTY_TEXT, DocumentIn

SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"
RESULT_KINDS = {SINGLE: f"{SINGLE}LROResults", MULTI: f"{MULTI}LROResults"}
DEFAULT_API_VERSION = "2022-05-01"


@dataclass
class AzureJobRequest:
    documents: list[DocumentIn]
    kind: str
    task_name: str
    deployment_name: str
    display_name: str


def parse_request(payload: Any, project: Project) -> AzureJobRequest:
    if not isinstance(payload, dict):
        raise bad_request("The body must be a JSON object with 'analysisInput' and 'tasks'.", "body")
    analysis = payload.get("analysisInput")
    if not isinstance(analysis, dict):
        raise bad_request("'analysisInput' must be an object with a 'documents' list.", "analysisInput")
    documents = parse_documents(
        analysis.get("documents"),
        target="analysisInput.documents",
        max_documents=settings.STUDIO_API_JOB_MAX_DOCUMENTS,
        max_chars=settings.STUDIO_API_JOB_MAX_CHARS,
        limit_names=("STUDIO_API_JOB_MAX_DOCUMENTS", "STUDIO_API_JOB_MAX_CHARS"),
    )
    tasks = payload.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise bad_request("'tasks' must be a list with one task.", "tasks")
    if len(tasks) > 1:
        raise bad_request("Only one task per job is supported here; submit one job per task.", "tasks")
    task = tasks[0]
    if not isinstance(task, dict):
        raise bad_request("A task is an object with 'kind' and 'parameters'.", "tasks[0]")
    kind = task.get("kind")
    if kind not in RESULT_KINDS:
        raise bad_request(f"Supported task kinds: {SINGLE}, {MULTI}.", "tasks[0].kind")
    parameters = task.get("parameters")
    if not isinstance(parameters, dict):
        raise bad_request(
            "'parameters' must be an object with projectName and deploymentName.", "tasks[0].parameters"
        )
    project_name = parameters.get("projectName")
    if not isinstance(project_name, str) or not project_name:
        raise bad_request("'projectName' is required.", "tasks[0].parameters.projectName")
    if project_name != project.slug:
        # The token's project only; another project's existence is not revealed.
        raise not_found("No such project.", "tasks[0].parameters.projectName")
    deployment_name = parameters.get("deploymentName")
    if not isinstance(deployment_name, str) or not deployment_name:
        raise bad_request("'deploymentName' is required.", "tasks[0].parameters.deploymentName")
    multi = project.kind == Project.Kind.MULTI_LABEL
    if (kind == MULTI) != multi:
        wanted = MULTI if multi else SINGLE
        raise bad_request(
            f"This project is {project.get_kind_display().lower()}: use the task kind {wanted}.",
            "tasks[0].kind",
        )
    task_name = task.get("taskName") if isinstance(task.get("taskName"), str) else ""
    return AzureJobRequest(
        documents=documents,
        kind=kind,
        task_name=task_name[:200],
        deployment_name=deployment_name,
        display_name=optional_string(payload, "displayName"),
    )


def _document(result: dict[str, Any], trainable: bool) -> tuple[dict | None, dict | None]:
    """(document, error) in Azure's shape for one of our results."""
    warnings = [w for w in result["warnings"] if w["code"] != EMPTY_TEXT]
    if len(warnings) != len(result["warnings"]):
        return None, {
            "id": result["id"],
            "error": {
                "code": "InvalidArgument",
                "message": "Invalid document in request.",
                "innererror": {"code": "InvalidDocument", "message": "Document text is empty."},
            },
        }
    if trainable:
        classes = [{"category": result["match"], "confidenceScore": result["confidenceScore"]}]
    else:
        classes = result["classes"]
    return {"id": result["id"], "class": classes, "warnings": warnings}, None


def job_document(
    job: ClassifyJob,
    *,
    project: Project,
    skip: int,
    top: int,
    page_url: Callable[[int, int], str],
) -> dict[str, Any]:
    meta = job.request
    kind = meta.get("kind") if meta.get("kind") in RESULT_KINDS else SINGLE
    status = job.status
    if job.cancel_requested and status == ClassifyJob.Status.RUNNING:
        status = "cancelling"
    trainable = project.kind == Project.Kind.TRAINABLE
    documents, errors = [], []
    for result in job.results[skip : skip + top]:
        document, error = _document(result, trainable)
        if document is not None:
            documents.append(document)
        else:
            errors.append(error)
    finished = job.status in (
        ClassifyJob.Status.SUCCEEDED,
        ClassifyJob.Status.FAILED,
        ClassifyJob.Status.CANCELLED,
    )
    body: dict[str, Any] = {
        "jobId": str(job.job_id),
        "createdDateTime": iso(job.created_at),
        "lastUpdatedDateTime": iso(job.updated_at),
        "expirationDateTime": iso(job.expires_at),
        "status": status,
        "errors": [job.error] if job.error else [],
        "tasks": {
            "completed": 1 if job.status == ClassifyJob.Status.SUCCEEDED else 0,
            "failed": 1 if job.status == ClassifyJob.Status.FAILED else 0,
            "inProgress": 0 if finished else 1,
            "total": 1,
            "items": [],
        },
    }
    if meta.get("displayName"):
        body["displayName"] = meta["displayName"]
    if job.results or finished:
        body["tasks"]["items"].append(
            {
                "kind": RESULT_KINDS[kind],
                "taskName": meta.get("taskName") or "",
                "lastUpdateDateTime": iso(job.updated_at),
                "status": status,
                "results": {
                    "documents": documents,
                    "errors": errors,
                    "projectName": project.slug,
                    "deploymentName": job.slot,
                },
            }
        )
    if skip + top < job.processed:
        body["nextLink"] = page_url(skip + top, top)
    return body


def check_api_version(value: str | None) -> str:
    """Any api-version is accepted (the answer has the 2022-05-01 shape, which later
    versions kept for custom classification); only its form is checked."""
    if value is None or value == "":
        return DEFAULT_API_VERSION
    if len(value) > 40:
        raise ApiError(400, "InvalidArgument", "'api-version' is not a valid version.", "api-version")
    return value
