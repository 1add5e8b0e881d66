"""The project's Activity page: its audit log, newest first, filterable."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from classifiers.access import get_project_for_user
from classifiers.forms import ActivityFilterForm

PAGE_SIZE = 50


@login_required
def project_activity(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    entries = project.audit_entries.all()
    form = ActivityFilterForm(request.GET)
    if form.is_valid():
        if form.cleaned_data["action"]:
            entries = entries.filter(action=form.cleaned_data["action"])
        if form.cleaned_data["user"]:
            entries = entries.filter(actor_name=form.cleaned_data["user"])
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    actions = project.audit_entries.order_by("action").values_list("action", flat=True).distinct()
    users = project.audit_entries.order_by("actor_name").values_list("actor_name", flat=True).distinct()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project,
        "section": "activity",
        "page": page,
        "form": form,
        "actions": actions,
        "users": users,
        "query": query.urlencode(),
    }
    template = "projects/activity.html#entries" if request.htmx else "projects/activity.html"
    return render(request, template, context)
