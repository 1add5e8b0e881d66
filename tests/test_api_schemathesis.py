"""Property-based: schemathesis generates requests for every operation of the served
OpenAPI description (valid and invalid bodies, parameters and headers) and sends them to
the WSGI app in-process. No answer may be a 500, and every answer must match the
description (status documented, content type, body schema).

Path parameters are pinned to the real project, slot and job most of the time, so the
generated bodies reach the parsers and the model instead of stopping at a 404.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from classifiers.api import openapi
from tests.test_api_support import Api

EXAMPLES = 25  # per operation: ten operations in about 20 s here


@pytest.fixture
def world(project, admin_user, settings, django_capture_on_commit_callbacks):
    settings.STUDIO_API_RATE_LIMIT = 0
    settings.STUDIO_API_JOB_MAX_DOCUMENTS = 50  # keeps generated jobs small
    api = Api(project, admin_user, scopes=("classify", "read"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/projects/{project.slug}/deployments/production/jobs",
            {"documents": [{"id": "1", "text": "goal team"}]},
        )
    api.job_id = response.json()["jobId"]
    return api


@pytest.fixture
def api_schema(world):
    # Django's test client does this too: the test's transaction must survive each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# One test per operation of the description (schemathesis's pytest loader does not run on
# pytest 9, so each test drives hypothesis with the operation's strategy itself).
OPERATIONS = [(path, method) for path, item in openapi.paths().items() for method in item]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_no_server_errors(api_schema, world, path, method):
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        params = case.path_parameters or {}
        # Mostly the real names (the generated value otherwise: it exercises the 404s).
        if "project" in params and not params["project"].startswith("z"):
            params["project"] = world.project.slug
        if "slot" in params and not params["slot"].startswith("z"):
            params["slot"] = "production"
        if "jobId" in params and params["jobId"][:1] in "0123456789abcd":
            params["jobId"] = world.job_id
        response = case.call(headers={"Authorization": f"Bearer {world.plain}"})
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
                response_headers_conformance,
            ],
        )

    run()
