"""Every failure under the API's paths is JSON in one shape, even Django's own errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseServerError
from django.test import RequestFactory

from classifiers.api.middleware import ApiErrorMiddleware
from tests.test_api_support import Api, assert_error


def middleware(response: HttpResponse) -> ApiErrorMiddleware:
    return ApiErrorMiddleware(lambda request: response)


@pytest.mark.parametrize("path", ["/api/v1/anything", "/language/analyze-text/jobs"])
def test_html_errors_become_json(path):
    request = RequestFactory().get(path)
    response = middleware(HttpResponseServerError("<h1>Server Error</h1>"))(request)
    assert_error(response, 500, "InternalServerError")
    response = middleware(HttpResponseNotAllowed(["POST"], content="<p>no</p>"))(request)
    assert_error(response, 405, "MethodNotAllowed")
    assert response["Allow"] == "POST"


def test_other_paths_and_json_answers_are_left_alone():
    html = HttpResponseServerError("<h1>Server Error</h1>")
    assert middleware(html)(RequestFactory().get("/projects/x/")) is html
    ok = HttpResponse("fine")
    assert middleware(ok)(RequestFactory().get("/api/v1/x")) is ok


def test_exceptions_from_views_are_logged_and_json(caplog):
    mw = middleware(HttpResponse())
    request = RequestFactory().post("/api/v1/x")
    assert_error(mw.process_exception(request, RuntimeError("boom")), 500, "InternalServerError")
    assert "boom" in caplog.text
    assert_error(mw.process_exception(request, Http404("x")), 404, "NotFound")
    assert_error(mw.process_exception(request, PermissionDenied("x")), 403, "Forbidden")
    assert mw.process_exception(RequestFactory().get("/projects/"), RuntimeError("x")) is None


def test_a_bad_host_is_json_too(project, admin_user):
    api = Api(project, admin_user)
    response = api.client.get("/api/v1/openapi.json", HTTP_HOST="evil.example")
    assert_error(response, 400, "BadRequest")


def test_studio_errors_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
