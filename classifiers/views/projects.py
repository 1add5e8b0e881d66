"""Projects: list, create, overview, settings (with members)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from classifiers.access import can_create_projects, get_project_for_user
from classifiers.actions import (
    ActionError,
    do_add_member,
    do_change_role,
    do_create_project,
    do_delete_project,
    do_remove_member,
    do_update_project,
)
from classifiers.actions.projects import deletion_counts
from classifiers.forms import AddMemberForm, ProjectCreateForm, ProjectEditForm, RoleForm
from classifiers.models import Membership, Project, Role


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .annotate(member_count=Count("project__memberships"))
        .order_by("project__name")
    )
    return render(
        request,
        "projects/list.html",
        {"memberships": memberships, "can_create": can_create_projects(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    if not can_create_projects(request.user):
        raise PermissionDenied("Creating projects needs the Compliance admins group. Ask an operator.")
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = do_create_project(request.user, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Project “{project.name}” created. You are its Admin.")
            return redirect(project)
    return render(request, "projects/create.html", {"form": form})


@login_required
def project_overview(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    members = project.memberships.select_related("user")
    recent = project.audit_entries.all()[:8]
    return render(
        request,
        "projects/overview.html",
        {"project": project, "members": members, "recent": recent, "section": "overview"},
    )


def _settings_context(project: Project, **extra) -> dict:
    return {
        "project": project,
        "section": "settings",
        "members": project.memberships.select_related("user"),
        "roles": Role,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    initial = {"name": project.name, "description": project.description, "language": project.language}
    form = ProjectEditForm(request.POST or None, initial=initial, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            changed = do_update_project(request.user, project, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return redirect("project_settings", project.slug)
    member_form = AddMemberForm(project=project)
    return render(
        request, "projects/settings.html", _settings_context(project, form=form, member_form=member_form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: what will be deleted, and a field for the project's name. POST: delete."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            do_delete_project(request.user, project, request.POST.get("name", ""))
        except ActionError as exc:
            error, status = str(exc), 422
        else:
            messages.success(request, f"Project “{project.name}” and everything in it were deleted.")
            return _client_redirect(request, "/projects/")
    context = {
        "project": project,
        "section": "settings",
        "counts": deletion_counts(project),
        "error": error,
        "typed": request.POST.get("name", "") if request.method == "POST" else "",
    }
    return render(request, "projects/delete.html", context, status=status)


def _members_response(request: HttpRequest, project: Project, member_form: AddMemberForm, status: int = 200):
    """The members card: a partial for htmx, else back to the settings page."""
    if request.htmx:
        return render(
            request,
            "projects/settings.html#members",
            _settings_context(project, member_form=member_form),
            status=status,
        )
    if status != 200:
        form = ProjectEditForm(
            initial={"name": project.name, "description": project.description, "language": project.language},
            project=project,
        )
        return render(
            request,
            "projects/settings.html",
            _settings_context(project, form=form, member_form=member_form),
            status=status,
        )
    return redirect("project_settings", project.slug)


@login_required
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = AddMemberForm(request.POST, project=project)
    if form.is_valid():
        try:
            membership = do_add_member(
                request.user, project, form.cleaned_data["user"], form.cleaned_data["role"]
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{membership.user.get_username()} added as {membership.get_role_display()}."
            )
            return _members_response(request, project, AddMemberForm(project=project))
    return _members_response(request, project, form, status=422)


def _get_membership(project: Project, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "project"), pk=membership_id, project=project
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    membership = _get_membership(project, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick one of the roles Admin, Tagger or Viewer.")
        return _members_response(request, project, AddMemberForm(project=project), status=422)
    try:
        do_change_role(request.user, membership, form.cleaned_data["role"])
    except ActionError as exc:
        messages.error(request, str(exc))
        return _members_response(request, project, AddMemberForm(project=project), status=422)
    messages.success(request, f"{membership.user.get_username()} is now {membership.get_role_display()}.")
    if membership.user_id == request.user.id and membership.role != Role.ADMIN:
        # You just gave up your own Admin role: the settings page is no longer yours.
        return _client_redirect(request, project.get_absolute_url())
    return _members_response(request, project, AddMemberForm(project=project))


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    membership = _get_membership(project, membership_id)
    try:
        do_remove_member(request.user, membership)
    except ActionError as exc:
        messages.error(request, str(exc))
        return _members_response(request, project, AddMemberForm(project=project), status=422)
    messages.success(request, f"{membership.user.get_username()} removed from the project.")
    if membership.user_id == request.user.id:
        return _client_redirect(request, "/projects/")
    return _members_response(request, project, AddMemberForm(project=project))


def _client_redirect(request: HttpRequest, url: str) -> HttpResponse:
    from django_htmx.http import HttpResponseClientRedirect

    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
