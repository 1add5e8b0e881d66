"""API endpoints. Each is wrapped by ``api_view``: method check, token, rate limit, the
JSON error shape for every failure, and one classification-log row per call (written when
the response is closed, i.e. after it has been sent, so the client does not wait for it).

No sessions, no CSRF (csrf_exempt): the token is the only credential.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from classifiers import serving
from classifiers.api import azure, jobs, openapi
from classifiers.api.auth import authenticate, require_scope
from classifiers.api.documents import documents_from_body, optional_string, read_json
from classifiers.api.errors import ApiError, error_response, not_found
from classifiers.api.ratelimit import check_rate
from classifiers.models import DEPLOYMENT_NAME_RE, ApiCall, ApiToken, ClassifyJob, Deployment, Project
from classifiers.serving import DocumentIn

# The database is away for a moment: answered 503 by studio.middleware, not 500 here.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

logger = logging.getLogger("classifiers.api")

CLASSIFY = ApiToken.Scope.CLASSIFY
READ = ApiToken.Scope.READ


@dataclass
class Call:
    """What one request did, for the classification log."""

    endpoint: str
    token: ApiToken | None = None
    slot: str = ""
    version_id: int | None = None
    documents: int = 0
    texts: list[dict[str, str]] | None = None
    rate_headers: dict[str, str] = field(default_factory=dict)

    @property
    def project(self) -> Project:
        assert self.token is not None
        return self.token.project

    def log_texts(self, documents: list[DocumentIn]) -> None:
        if self.project.log_api_texts:
            prefix = settings.STUDIO_MODEL_PREFIX_CHARS
            self.texts = [{"id": d.id, "text": d.text[:prefix]} for d in documents]


def _record_when_closed(response: HttpResponse, call: Call, latency_ms: float) -> None:
    """One INSERT, after the response has gone out (the WSGI server calls close())."""
    token = call.token
    assert token is not None
    original_close = response.close

    def close() -> None:
        try:
            row = ApiCall(
                project_id=token.project_id,
                token=token,
                token_name=token.name,
                slot=call.slot,
                model_version_id=call.version_id,
                endpoint=call.endpoint,
                status_code=response.status_code,
                documents=call.documents,
                latency_ms=round(latency_ms, 3),
                texts=call.texts,
            )
            if connection.vendor == "postgresql":
                # A log row need not wait for the WAL flush (a few ms a call, measured): at
                # worst a crash loses the last fraction of a second of log, never an answer.
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    row.save(force_insert=True)
            else:
                row.save(force_insert=True)
        except Exception:  # the log must never break an answer already sent
            logger.exception("could not record an API call")
        finally:
            original_close()

    response.close = close  # type: ignore[method-assign]


def api_view(endpoint: str, methods: tuple[str, ...], *, public: bool = False) -> Callable:
    allow = ", ".join(methods)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            started = time.perf_counter()
            call = Call(endpoint)
            try:
                if request.method not in methods:
                    raise ApiError(
                        405, "MethodNotAllowed", f"Use {allow} here.", "method", headers={"Allow": allow}
                    )
                if not public:
                    call.token = authenticate(request)
                    call.rate_headers = check_rate(call.token.pk)
                response = view(request, call, **kwargs)
            except ApiError as exc:
                response = exc.response()
            except DATABASE_UNAVAILABLE:
                raise  # studio.middleware answers 503 with Retry-After and drops the connection
            except Exception:
                logger.exception("API %s failed (%s %s)", endpoint, request.method, request.path)
                response = error_response(
                    500,
                    "InternalServerError",
                    "The server failed to answer this request; it has been logged.",
                )
            for name, value in call.rate_headers.items():
                response[name] = value
            if call.token is not None and response.status_code != 429:
                # 429s are not logged: a client hammering the limit must not fill the log.
                _record_when_closed(response, call, (time.perf_counter() - started) * 1000)
            return response

        return csrf_exempt(wrapper)

    return decorate


# --- Lookups ----------------------------------------------------------------------------------------
def _note_slot(call: Call, slot: str) -> None:
    """Attribute the call to the slot named in the URL, even when it fails early (a 400 for
    /deployments/production/classify belongs in production's log); nonsense names are not kept."""
    if DEPLOYMENT_NAME_RE.match(slot):
        call.slot = slot


def _project(call: Call, slug: str) -> Project:
    project = call.project
    if project.slug != slug:
        # A token of project A on project B's URL: B's existence is not revealed.
        raise not_found("No such project.", "project")
    return project


def _deployment(call: Call, project: Project, slot: str) -> Deployment:
    deployment = (
        Deployment.objects.select_related("model_version").filter(project_id=project.pk, name=slot).first()
    )
    if deployment is None:
        raise not_found(f"No deployment named {slot!r} in this project.", "deployment")
    call.slot = slot
    call.version_id = deployment.model_version_id
    return deployment


def _job(call: Call, project: Project, job_id: uuid.UUID, *, scope: str) -> ClassifyJob:
    job = (
        ClassifyJob.objects.select_related("model_version")
        .defer("request")
        .filter(project_id=project.pk, job_id=job_id, expires_at__gt=timezone.now())
        .first()
    )
    if job is None:
        raise not_found(
            f"No such job (results are kept {settings.STUDIO_API_JOB_TTL_SECONDS // 3600} hours).", "jobId"
        )
    call.slot = job.slot
    call.version_id = job.model_version_id
    token = call.token
    assert token is not None
    if scope == CLASSIFY:
        require_scope(token, CLASSIFY)
        if job.token_id != token.pk:
            raise ApiError(403, "Forbidden", "Only the token that submitted a job may cancel it.", "jobId")
    elif job.token_id != token.pk and READ not in token.scopes:
        raise ApiError(403, "Forbidden", "Reading another token's job needs the 'read' scope.", "scope")
    return job


def _version_number(job: ClassifyJob) -> int | None:
    return job.model_version.number if job.model_version_id else None


def _page_url(request: HttpRequest, path: str, **extra: str) -> Callable[[int, int], str]:
    def url(skip: int, top: int) -> str:
        return request.build_absolute_uri(f"{path}?{urlencode({**extra, 'skip': skip, 'top': top})}")

    return url


# --- Our own API ---------------------------------------------------------------------------------
@api_view("openapi", ("GET",), public=True)
def openapi_document(request: HttpRequest, call: Call) -> HttpResponse:
    return JsonResponse(openapi.document(request.build_absolute_uri("/").rstrip("/")))


@api_view("deployments", ("GET",))
def deployments(request: HttpRequest, call: Call, slug: str) -> HttpResponse:
    project = _project(call, slug)
    rows = Deployment.objects.select_related("model_version").filter(project_id=project.pk).order_by("name")
    return JsonResponse(
        {"project": project.slug, "kind": project.kind, "deployments": [_slot(d) for d in rows]}
    )


def _slot(deployment: Deployment) -> dict[str, Any]:
    return {
        "name": deployment.name,
        "modelVersion": deployment.model_version.number,
        "deployedDateTime": jobs.iso(deployment.deployed_at),
        "classes": list(deployment.model_version.classes),
    }


@api_view("deployment", ("GET",))
def deployment(request: HttpRequest, call: Call, slug: str, slot: str) -> HttpResponse:
    project = _project(call, slug)
    return JsonResponse(
        {"project": project.slug, "kind": project.kind, **_slot(_deployment(call, project, slot))}
    )


@api_view("classify", ("POST",))
def classify(request: HttpRequest, call: Call, slug: str, slot: str) -> HttpResponse:
    _note_slot(call, slot)
    project = _project(call, slug)
    require_scope(call.token, CLASSIFY)
    documents = documents_from_body(read_json(request), for_job=False)
    found = _deployment(call, project, slot)
    call.documents = len(documents)
    call.log_texts(documents)
    try:
        body = serving.classify_response(
            found.model_version,
            documents,
            project_slug=project.slug,
            deployment=found.name,
            project_language=project.language,
        )
    except serving.ModelUnavailable as exc:
        logger.error("deployment %s of %s cannot serve: %s", slot, project.slug, exc)
        raise ApiError(
            503, "ModelUnavailable", "This deployment's model cannot be loaded.", "deployment"
        ) from None
    return JsonResponse(body)


@api_view("job.submit", ("POST",))
def job_submit(request: HttpRequest, call: Call, slug: str, slot: str) -> HttpResponse:
    _note_slot(call, slot)
    project = _project(call, slug)
    require_scope(call.token, CLASSIFY)
    payload = read_json(request)
    documents = documents_from_body(payload, for_job=True)
    display_name = optional_string(payload, "displayName")
    found = _deployment(call, project, slot)
    call.documents = len(documents)
    call.log_texts(documents)
    job = jobs.submit_job(call.token, project, found, documents, meta={"displayName": display_name})
    job = ClassifyJob.objects.defer("request").get(pk=job.pk)
    location = request.build_absolute_uri(f"/api/v1/projects/{project.slug}/jobs/{job.job_id}")
    page_url = _page_url(request, f"/api/v1/projects/{project.slug}/jobs/{job.job_id}")
    body = jobs.job_document(
        job, skip=0, top=jobs.page_bounds({})[1], page_url=page_url, version_number=found.model_version.number
    )
    response = JsonResponse(body, status=202)
    response["Location"] = location
    return response


@api_view("job.status", ("GET",))
def job_status(request: HttpRequest, call: Call, slug: str, job_id: uuid.UUID) -> HttpResponse:
    project = _project(call, slug)
    skip, top = jobs.page_bounds(request.GET)
    job = _job(call, project, job_id, scope=READ)
    page_url = _page_url(request, request.path)
    return JsonResponse(
        jobs.job_document(job, skip=skip, top=top, page_url=page_url, version_number=_version_number(job))
    )


@api_view("job.cancel", ("POST",))
def job_cancel(request: HttpRequest, call: Call, slug: str, job_id: uuid.UUID) -> HttpResponse:
    project = _project(call, slug)
    job = _cancel(call, project, job_id)
    page_url = _page_url(request, f"/api/v1/projects/{project.slug}/jobs/{job.job_id}")
    skip, top = jobs.page_bounds({})
    body = jobs.job_document(job, skip=skip, top=top, page_url=page_url, version_number=_version_number(job))
    response = JsonResponse(body, status=202)
    response["Location"] = request.build_absolute_uri(f"/api/v1/projects/{project.slug}/jobs/{job.job_id}")
    return response


def _cancel(call: Call, project: Project, job_id: uuid.UUID) -> ClassifyJob:
    job = _job(call, project, job_id, scope=CLASSIFY)
    if job.status in jobs.FINISHED:
        raise ApiError(409, "Conflict", f"The job has already ended ({job.status}).", "jobId")
    jobs.request_cancel(job)
    return ClassifyJob.objects.select_related("model_version").defer("request").get(pk=job.pk)


# --- Azure's analyze-text jobs -------------------------------------------------------------------
def _operation_location(request: HttpRequest, job: ClassifyJob, api_version: str) -> str:
    return request.build_absolute_uri(
        f"/language/analyze-text/jobs/{job.job_id}?{urlencode({'api-version': api_version})}"
    )


@api_view("azure.submit", ("POST",))
def azure_submit(request: HttpRequest, call: Call) -> HttpResponse:
    api_version = azure.check_api_version(request.GET.get("api-version"))
    require_scope(call.token, CLASSIFY)
    project = call.project
    parsed = azure.parse_request(read_json(request), project)
    found = _deployment(call, project, parsed.deployment_name)
    call.documents = len(parsed.documents)
    call.log_texts(parsed.documents)
    job = jobs.submit_job(
        call.token,
        project,
        found,
        parsed.documents,
        azure_shape=True,
        meta={
            "displayName": parsed.display_name,
            "taskName": parsed.task_name,
            "kind": parsed.kind,
            "apiVersion": api_version,
        },
    )
    response = HttpResponse(status=202)
    response["Operation-Location"] = _operation_location(request, job, api_version)
    return response


@api_view("azure.status", ("GET",))
def azure_status(request: HttpRequest, call: Call, job_id: uuid.UUID) -> HttpResponse:
    api_version = azure.check_api_version(request.GET.get("api-version"))
    skip, top = jobs.page_bounds(request.GET)
    project = call.project
    job = _job(call, project, job_id, scope=READ)
    # The task's kind and names, without reading the stored texts.
    meta = ClassifyJob.objects.filter(pk=job.pk).values(
        "request__kind", "request__taskName", "request__displayName"
    )
    job.request = {key.removeprefix("request__"): value for key, value in meta.get().items()}
    page_url = _page_url(request, request.path, **{"api-version": api_version})
    return JsonResponse(azure.job_document(job, project=project, skip=skip, top=top, page_url=page_url))


@api_view("azure.cancel", ("POST",))
def azure_cancel(request: HttpRequest, call: Call, job_id: uuid.UUID) -> HttpResponse:
    api_version = azure.check_api_version(request.GET.get("api-version"))
    job = _cancel(call, call.project, job_id)
    response = HttpResponse(status=202)
    response["Operation-Location"] = _operation_location(request, job, api_version)
    return response
