"""An htmx request from an expired session must send the whole page to the login form."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


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
