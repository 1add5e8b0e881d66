"""Site-wide middleware: an htmx request from an expired session sends the whole page to
the login form; a database that is away answers 503 and the next request reconnects."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.template import loader
from django_htmx.http import HttpResponseClientRedirect

logger = logging.getLogger("studio.db")

# Connection lost, server restarting, "database is locked" past its timeout: all of these
# pass by themselves. Other database errors (IntegrityError, ProgrammingError) are bugs: 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code == 302:
            login_url = resolve_url(settings.LOGIN_URL)
            location = response.get("Location", "")
            if location.startswith(login_url):
                # Without this, htmx follows the redirect and swaps the login page into
                # whatever fragment was being refreshed.
                return HttpResponseClientRedirect(location)
        return response


def close_database_connections() -> None:
    """Drop every open connection, so the next request opens a fresh one instead of
    reusing a broken one (CONN_MAX_AGE keeps connections between requests)."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # closing a dead connection may fail too; it is dropped either way
            logger.debug("closing connection %s failed", conn.alias, exc_info=True)


def database_unavailable_response(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """503 with Retry-After; JSON under the API's paths. Rendered without a request context
    (no context processor, no session, no user: nothing that would touch the database)."""
    from classifiers.api.errors import error_response
    from classifiers.api.middleware import is_api_path

    logger.warning(
        "database unavailable during %s %s: %s: %s",
        request.method, request.path, type(exception).__name__, str(exception)[:300],
    )  # fmt: skip
    close_database_connections()
    message = f"The database is unavailable for a moment. Nothing was saved; try again in {RETRY_AFTER_SECONDS} seconds."
    if is_api_path(request.path):
        response: HttpResponse = error_response(503, "ServiceUnavailable", message)
    else:
        html = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A database error of the passing kind raised by a view (or while rendering its
    template response) answers 503 instead of 500. Errors raised inside other middleware
    reach ``studio.views.server_error``, which answers the same way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable_response(request, exception)
        return None
