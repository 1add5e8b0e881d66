"""Site-wide views: home, sign-in with throttling, error pages."""

from __future__ import annotations

import logging
import sys

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from studio import throttle

logger = logging.getLogger("studio.auth")


def home(request: HttpRequest) -> HttpResponse:
    return redirect("project_list" if request.user.is_authenticated else "login")


class LoginView(auth_views.LoginView):
    """Django's login, throttled: past STUDIO_LOGIN_MAX_FAILURES failures for a username (or
    STUDIO_LOGIN_MAX_FAILURES_PER_IP for a client address) within the window, an attempt
    answers 429 without the password even being checked. A success clears the username's
    count (not the address's: one right password must not reopen a guessing address)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        address = throttle.client_address(request)
        blocked = throttle.check(username, address)
        if blocked is not None:
            logger.warning(
                "sign-in refused (throttled by %s): username=%r address=%s", blocked.reason, username, address
            )
            form = self.get_form_class()(request, initial={"username": username})
            context = self.get_context_data(form=form, throttled=blocked.message)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(blocked.retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        throttle.reset_username(self.request.POST.get("username", "")[:150])
        return super().form_valid(form)

    def form_invalid(self, form):
        username = self.request.POST.get("username", "")[:150]
        address = throttle.client_address(self.request)
        throttle.record_failure(username, address)
        logger.info("sign-in failed: username=%r address=%s", username, address)
        return super().form_invalid(form)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You do not have permission to do this."
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    from studio.middleware import DATABASE_UNAVAILABLE, database_unavailable_response

    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE):
        # Raised inside a middleware (the session or the user loaded before the view ran).
        return database_unavailable_response(request, exception)
    return render(request, "500.html", status=500)
