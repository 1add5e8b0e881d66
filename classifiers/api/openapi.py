"""The API's OpenAPI 3.0 description, written by hand, served at /api/v1/openapi.json.

tests/test_api_openapi.py validates real responses of every endpoint against it, and
tests/test_api_schemathesis.py fuzzes every operation from it; change both with the code.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

API_VERSION = "1.0.0"
ERROR_STATUSES = {
    400: "Bad JSON or a bad field; `target` is the field's path, e.g. `documents[3].text`.",
    401: "Missing, unknown or revoked token.",
    403: "The token lacks the scope this needs.",
    404: "No such project (for this token), deployment, job or path.",
    405: "Method not allowed (the `Allow` header lists the allowed ones).",
    409: "The job has already ended.",
    413: "Over a size limit; the message names the limit and its setting.",
    415: "The body is not JSON.",
    429: "Over the token's rate limit; retry after `Retry-After` seconds.",
    500: "Unexpected server error (logged).",
    503: "The deployment's model cannot be loaded.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": ERROR_STATUSES[status], "content": _json(_ref("Error"))}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}},
            }
        if status == 405:
            response["headers"] = {"Allow": {"required": True, "schema": {"type": "string"}}}
        out[str(status)] = response
    return out


AUTH_ERRORS = (401, 404, 405, 429, 500)
PROJECT = {
    "name": "project",
    "in": "path",
    "required": True,
    "description": "The project's slug (as in the studio's URLs).",
    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
}
SLOT = {
    "name": "slot",
    "in": "path",
    "required": True,
    "description": "A deployment (slot) name, e.g. production or staging.",
    "schema": {"type": "string"},
}
JOB_ID = {"name": "jobId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
PAGE = [
    {"name": "skip", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
    {
        "name": "top",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
]
API_VERSION_PARAM = {
    "name": "api-version",
    "in": "query",
    "required": False,
    "description": "Accepted and echoed; the answer has the 2022-05-01 shape.",
    "schema": {"type": "string", "maxLength": 40},
}
TIME = {"type": "string", "format": "date-time"}
KINDS = ["single_label", "multi_label", "trainable"]


def schemas() -> dict[str, Any]:
    document_input = {
        "type": "object",
        "required": ["id", "text"],
        "properties": {
            "id": {
                "description": "Unique in the request; 1 to 64 characters (an integer is taken as a string).",
                "oneOf": [{"type": "string", "minLength": 1, "maxLength": 64}, {"type": "integer"}],
            },
            "text": {"type": "string"},
            "language": {"type": "string", "maxLength": 20, "nullable": True, "example": "en"},
        },
    }
    class_score = {
        "type": "object",
        "required": ["category", "confidenceScore"],
        "properties": {"category": {"type": "string"}, "confidenceScore": {"type": "number"}},
    }
    warning = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": ["EmptyText", "DocumentTruncated", "LanguageMismatch"]},
            "message": {"type": "string"},
        },
    }
    document_result = {
        "type": "object",
        "required": ["id", "classes", "scores", "warnings"],
        "properties": {
            "id": {"type": "string"},
            "classes": {
                "type": "array",
                "items": _ref("ClassScore"),
                "description": "Single-label: the top class. Multi-label: every class at or above its "
                "threshold, best first. Trainable: 'match' when it is one.",
            },
            "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            "warnings": {"type": "array", "items": _ref("Warning")},
            "match": {
                "type": "string",
                "enum": ["match", "close_match", "no_match"],
                "nullable": True,
                "description": "Trainable classifiers only (null for an empty text).",
            },
            "confidenceScore": {
                "type": "number",
                "nullable": True,
                "description": "Trainable classifiers only: P(match).",
            },
        },
    }
    documents_list = {
        "type": "array",
        "minItems": 1,
        "items": _ref("DocumentInput"),
    }
    job_status = ["notStarted", "running", "succeeded", "failed", "cancelled"]
    azure_document_result = {
        "type": "object",
        "required": ["id", "class", "warnings"],
        "properties": {
            "id": {"type": "string"},
            "class": {"type": "array", "items": _ref("ClassScore")},
            "warnings": {"type": "array", "items": _ref("Warning")},
        },
    }
    azure_document_error = {
        "type": "object",
        "required": ["id", "error"],
        "properties": {
            "id": {"type": "string"},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "innererror": {"type": "object"},
                },
            },
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "example": "TooManyDocuments"},
                        "message": {"type": "string"},
                        "target": {"type": "string", "example": "documents[3].text"},
                    },
                }
            },
        },
        "DocumentInput": document_input,
        "ClassScore": class_score,
        "Warning": warning,
        "DocumentResult": document_result,
        "ClassifyRequest": {
            "description": "An object with a 'documents' list, or the bare list.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["documents"],
                    "properties": {"documents": documents_list},
                },
                documents_list,
            ],
        },
        "JobRequest": {
            "type": "object",
            "required": ["documents"],
            "properties": {
                "displayName": {"type": "string", "maxLength": 200},
                "documents": documents_list,
            },
        },
        "ClassifyResponse": {
            "type": "object",
            "required": ["project", "deployment", "modelVersion", "kind", "documents"],
            "properties": {
                "project": {"type": "string"},
                "deployment": {"type": "string"},
                "modelVersion": {
                    "type": "integer",
                    "description": "The number of the version that answered.",
                },
                "kind": {"type": "string", "enum": KINDS},
                "documents": {"type": "array", "items": _ref("DocumentResult")},
            },
        },
        "Deployment": {
            "type": "object",
            "required": ["name", "modelVersion", "deployedDateTime", "classes"],
            "properties": {
                "name": {"type": "string"},
                "modelVersion": {"type": "integer"},
                "deployedDateTime": TIME,
                "classes": {"type": "array", "items": {"type": "string"}},
            },
        },
        "DeploymentList": {
            "type": "object",
            "required": ["project", "kind", "deployments"],
            "properties": {
                "project": {"type": "string"},
                "kind": {"type": "string", "enum": KINDS},
                "deployments": {"type": "array", "items": _ref("Deployment")},
            },
        },
        "DeploymentDetail": {
            "type": "object",
            "required": ["project", "kind", "name", "modelVersion", "deployedDateTime", "classes"],
            "properties": {
                "project": {"type": "string"},
                "kind": {"type": "string", "enum": KINDS},
                "name": {"type": "string"},
                "modelVersion": {"type": "integer"},
                "deployedDateTime": TIME,
                "classes": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Job": {
            "type": "object",
            "required": [
                "jobId",
                "status",
                "createdDateTime",
                "lastUpdatedDateTime",
                "expirationDateTime",
                "deployment",
                "modelVersion",
                "cancelRequested",
                "progress",
                "error",
                "results",
                "nextLink",
            ],
            "properties": {
                "jobId": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": job_status},
                "createdDateTime": TIME,
                "lastUpdatedDateTime": TIME,
                "expirationDateTime": TIME,
                "deployment": {"type": "string"},
                "modelVersion": {"type": "integer", "nullable": True},
                "cancelRequested": {"type": "boolean"},
                "progress": {
                    "type": "object",
                    "required": ["processed", "total", "percent"],
                    "properties": {
                        "processed": {"type": "integer", "minimum": 0},
                        "total": {"type": "integer", "minimum": 0},
                        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                    },
                },
                "error": {
                    "type": "object",
                    "nullable": True,
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
                "results": {
                    "type": "object",
                    "required": ["skip", "top", "count", "documents"],
                    "description": "The documents classified so far, one page of them.",
                    "properties": {
                        "skip": {"type": "integer"},
                        "top": {"type": "integer"},
                        "count": {"type": "integer"},
                        "documents": {"type": "array", "items": _ref("DocumentResult")},
                    },
                },
                "nextLink": {"type": "string", "nullable": True},
            },
        },
        "AzureJobRequest": {
            "type": "object",
            "required": ["analysisInput", "tasks"],
            "properties": {
                "displayName": {"type": "string", "maxLength": 200},
                "analysisInput": {
                    "type": "object",
                    "required": ["documents"],
                    "properties": {"documents": documents_list},
                },
                "tasks": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["kind", "parameters"],
                        "properties": {
                            "kind": {
                                "type": "string",
                                "enum": ["CustomSingleLabelClassification", "CustomMultiLabelClassification"],
                            },
                            "taskName": {"type": "string"},
                            "parameters": {
                                "type": "object",
                                "required": ["projectName", "deploymentName"],
                                "properties": {
                                    "projectName": {"type": "string"},
                                    "deploymentName": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
        "AzureJobState": {
            "type": "object",
            "required": [
                "jobId",
                "createdDateTime",
                "lastUpdatedDateTime",
                "expirationDateTime",
                "status",
                "errors",
                "tasks",
            ],
            "properties": {
                "jobId": {"type": "string", "format": "uuid"},
                "createdDateTime": TIME,
                "lastUpdatedDateTime": TIME,
                "expirationDateTime": TIME,
                "status": {"type": "string", "enum": [*job_status, "cancelling"]},
                "displayName": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}},
                "nextLink": {"type": "string"},
                "tasks": {
                    "type": "object",
                    "required": ["completed", "failed", "inProgress", "total", "items"],
                    "properties": {
                        "completed": {"type": "integer"},
                        "failed": {"type": "integer"},
                        "inProgress": {"type": "integer"},
                        "total": {"type": "integer"},
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["kind", "taskName", "lastUpdateDateTime", "status", "results"],
                                "properties": {
                                    "kind": {
                                        "type": "string",
                                        "enum": [
                                            "CustomSingleLabelClassificationLROResults",
                                            "CustomMultiLabelClassificationLROResults",
                                        ],
                                    },
                                    "taskName": {"type": "string"},
                                    "lastUpdateDateTime": TIME,
                                    "status": {"type": "string"},
                                    "results": {
                                        "type": "object",
                                        "required": ["documents", "errors", "projectName", "deploymentName"],
                                        "properties": {
                                            "documents": {"type": "array", "items": azure_document_result},
                                            "errors": {"type": "array", "items": azure_document_error},
                                            "projectName": {"type": "string"},
                                            "deploymentName": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    }


def paths() -> dict[str, Any]:
    job_headers = {"Location": {"required": True, "schema": {"type": "string"}, "description": "Poll here."}}
    operation_location = {
        "Operation-Location": {"required": True, "schema": {"type": "string"}, "description": "Poll here."}
    }
    return {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "security": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.0 document", "content": _json({"type": "object"})},
                    **_errors(405, 500),
                },
            }
        },
        "/api/v1/projects/{project}/deployments": {
            "get": {
                "operationId": "listDeployments",
                "summary": "The project's deployments and the versions they serve",
                "parameters": [PROJECT],
                "responses": {
                    "200": {"description": "Deployments", "content": _json(_ref("DeploymentList"))},
                    **_errors(*AUTH_ERRORS),
                },
            }
        },
        "/api/v1/projects/{project}/deployments/{slot}": {
            "get": {
                "operationId": "getDeployment",
                "summary": "One deployment",
                "parameters": [PROJECT, SLOT],
                "responses": {
                    "200": {"description": "The deployment", "content": _json(_ref("DeploymentDetail"))},
                    **_errors(*AUTH_ERRORS),
                },
            }
        },
        "/api/v1/projects/{project}/deployments/{slot}/classify": {
            "post": {
                "operationId": "classify",
                "summary": "Classify documents now (synchronous)",
                "description": f"At most {settings.STUDIO_API_MAX_DOCUMENTS} documents and "
                f"{settings.STUDIO_API_MAX_CHARS:,} characters per request (this server's settings). "
                "Needs the 'classify' scope.",
                "parameters": [PROJECT, SLOT],
                "requestBody": {"required": True, "content": _json(_ref("ClassifyRequest"))},
                "responses": {
                    "200": {
                        "description": "One result per document, in order",
                        "content": _json(_ref("ClassifyResponse")),
                    },
                    **_errors(400, 403, 413, 415, 503, *AUTH_ERRORS),
                },
            }
        },
        "/api/v1/projects/{project}/deployments/{slot}/jobs": {
            "post": {
                "operationId": "submitJob",
                "summary": "Submit an asynchronous classify job",
                "description": f"At most {settings.STUDIO_API_JOB_MAX_DOCUMENTS:,} documents and "
                f"{settings.STUDIO_API_JOB_MAX_CHARS:,} characters. The slot's current version is pinned "
                "to the job. Poll the Location.",
                "parameters": [PROJECT, SLOT],
                "requestBody": {"required": True, "content": _json(_ref("JobRequest"))},
                "responses": {
                    "202": {"description": "Accepted", "headers": job_headers, "content": _json(_ref("Job"))},
                    **_errors(400, 403, 413, 415, *AUTH_ERRORS),
                },
            }
        },
        "/api/v1/projects/{project}/jobs/{jobId}": {
            "get": {
                "operationId": "getJob",
                "summary": "A job's status, progress and one page of results",
                "parameters": [PROJECT, JOB_ID, *PAGE],
                "responses": {
                    "200": {"description": "The job", "content": _json(_ref("Job"))},
                    **_errors(400, 403, *AUTH_ERRORS),
                },
            }
        },
        "/api/v1/projects/{project}/jobs/{jobId}/cancel": {
            "post": {
                "operationId": "cancelJob",
                "summary": "Cancel a job (it stops before its next chunk; results so far are kept)",
                "parameters": [PROJECT, JOB_ID],
                "responses": {
                    "202": {
                        "description": "Cancelling",
                        "headers": job_headers,
                        "content": _json(_ref("Job")),
                    },
                    **_errors(403, 409, *AUTH_ERRORS),
                },
            }
        },
        "/language/analyze-text/jobs": {
            "post": {
                "operationId": "azureSubmitJob",
                "summary": "Azure AI Language compatible: submit a custom classification job",
                "parameters": [API_VERSION_PARAM],
                "requestBody": {"required": True, "content": _json(_ref("AzureJobRequest"))},
                "responses": {
                    "202": {
                        "description": "Accepted; poll Operation-Location",
                        "headers": operation_location,
                    },
                    **_errors(400, 403, 413, 415, *AUTH_ERRORS),
                },
            }
        },
        "/language/analyze-text/jobs/{jobId}": {
            "get": {
                "operationId": "azureGetJob",
                "summary": "Azure AI Language compatible: job state and results",
                "parameters": [JOB_ID, API_VERSION_PARAM, *PAGE],
                "responses": {
                    "200": {"description": "The job", "content": _json(_ref("AzureJobState"))},
                    **_errors(400, 403, *AUTH_ERRORS),
                },
            }
        },
        "/language/analyze-text/jobs/{jobId}:cancel": {
            "post": {
                "operationId": "azureCancelJob",
                "summary": "Azure AI Language compatible: cancel a job",
                "parameters": [JOB_ID, API_VERSION_PARAM],
                "responses": {
                    "202": {"description": "Cancelling", "headers": operation_location},
                    **_errors(400, 403, 409, *AUTH_ERRORS),
                },
            }
        },
    }


def document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{settings.SITE_NAME} API",
            "version": API_VERSION,
            "description": "Classify documents with a project's deployed model versions, at once or "
            "as asynchronous jobs; Azure AI Language's analyze-text jobs shape is accepted too. "
            'Every error answers {"error": {"code", "message", "target"}}.',
        },
        "servers": [{"url": base_url or "/"}],
        "security": [{"bearerAuth": []}, {"subscriptionKey": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A project API token."},
                "subscriptionKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Ocp-Apim-Subscription-Key",
                    "description": "The same token, in Azure's header.",
                },
            },
            "schemas": schemas(),
        },
    }
