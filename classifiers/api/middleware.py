"""JSON, never an HTML page, for every error under the API's paths.

Outermost middleware: it sees Django's own 404 (no such URL), the 500 page, CSRF or host
refusals and anything else that answers with HTML, and replaces them with the API's JSON
error shape. Exceptions escaping an API view are logged here and answered as JSON 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from classifiers.api.errors import STATUS_CODES, error_response

logger = logging.getLogger("classifiers.api")

API_PREFIXES = ("/api/", "/language/")
MESSAGES = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "This is not allowed.",
    404: "No such resource.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
    500: "The server failed to answer this request; it has been logged.",
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request.path):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        replaced = error_response(
            status,
            STATUS_CODES.get(status, "Error"),
            MESSAGES.get(status, "The request failed."),
        )
        for header in ("Allow", "Retry-After"):
            if header in response:
                replaced[header] = response[header]
        return replaced

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return error_response(404, "NotFound", MESSAGES[404])
        if isinstance(exception, PermissionDenied):
            return error_response(403, "Forbidden", MESSAGES[403])
        logger.error("API request %s %s failed", request.method, request.path, exc_info=exception)
        return error_response(500, "InternalServerError", MESSAGES[500])
