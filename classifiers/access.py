"""The one way a view reaches a project: members only, with a minimum role.

A non-member gets 404 (we do not reveal that the project exists); a member without the
role gets 403 with a readable page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from classifiers.models import Membership, Project, Role


def get_project_for_user(request: HttpRequest, slug: str, role: str = Role.VIEWER) -> Project:
    """Return the project with ``project.membership`` set to the user's membership."""
    if not request.user.is_authenticated:
        raise Http404("No such project.")
    membership = (
        Membership.objects.select_related("project").filter(project__slug=slug, user=request.user).first()
    )
    if membership is None:
        raise Http404("No such project.")
    if not membership.has_role(role):
        raise PermissionDenied(
            f"This needs the {Role(role).label} role in {membership.project.name}; "
            f"you are a {membership.get_role_display()}."
        )
    project = membership.project
    project.membership = membership  # type: ignore[attr-defined]
    return project


def can_create_projects(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm("classifiers.add_project"))
