"""Projects and their members."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from classifiers.actions.base import ActionError
from classifiers.models import Class, Membership, Project, Role, SchemaVersion
from studio.audit import log_action


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "project"
    slug, n = base, 1
    while Project.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def do_create_project(
    actor: AbstractBaseUser, *, name: str, kind: str, description: str = "", language: str = "en"
) -> Project:
    if Project.objects.filter(name__iexact=name).exists():
        raise ActionError(f"A project named “{name}” already exists.")
    try:
        with transaction.atomic():
            project = Project(
                name=name, kind=kind, description=description, language=language, created_by=actor
            )
            project.slug = _unique_slug(name)
            project.full_clean()
            project.save()
            Membership.objects.create(project=project, user=actor, role=Role.ADMIN)
            log_action(actor, "project.create", project, payload={"kind": kind, "name": name})
            if kind == Project.Kind.TRAINABLE:
                # A trainable classifier has exactly one category: match or not a match.
                category = Class.objects.create(project=project, name=name, hotkey="")
                project.schema_version = 1
                project.save(update_fields=["schema_version"])
                SchemaVersion.objects.create(
                    project=project, number=1, created_by=actor, change="class.add",
                    classes=[{"id": category.pk, "name": category.name, "archived": False}],
                )  # fmt: skip
    except IntegrityError:
        # Two people creating the same name at once: the unique constraint decides.
        raise ActionError(f"A project named “{name}” already exists.") from None
    except ValidationError as exc:
        raise ActionError("; ".join(exc.messages)) from None
    return project


def do_update_project(actor: AbstractBaseUser, project: Project, **fields: str) -> list[str]:
    """Change name, description or language (the kind is fixed at creation)."""
    allowed = {"name", "description", "language"}
    changed = {k: v for k, v in fields.items() if k in allowed and getattr(project, k) != v}
    if not changed:
        return []
    if (
        "name" in changed
        and Project.objects.filter(name__iexact=changed["name"]).exclude(pk=project.pk).exists()
    ):
        raise ActionError(f"A project named “{changed['name']}” already exists.")
    before = {k: getattr(project, k) for k in changed}
    try:
        with transaction.atomic():
            for key, value in changed.items():
                setattr(project, key, value)
            project.full_clean()
            project.save()
            log_action(actor, "project.update", project, payload={"before": before, "after": changed})
    except IntegrityError:
        project.refresh_from_db()
        raise ActionError("A project with that name already exists.") from None
    except ValidationError as exc:
        project.refresh_from_db()
        raise ActionError("; ".join(exc.messages)) from None
    return list(changed)


def do_add_member(actor: AbstractBaseUser, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    if role not in Role.values:
        raise ActionError(f"Unknown role “{role}”.")
    if not user.is_active:
        raise ActionError(f"{user.get_username()}'s account is deactivated.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(project=project, user=user, role=role)
            log_action(actor, "member.add", membership, payload={"user": user.get_username(), "role": role})
    except IntegrityError:
        raise ActionError(f"{user.get_username()} is already a member of this project.") from None
    return membership


def _lock_admins(project: Project) -> int:
    # Lock the project's memberships, so two admins demoting each other at the same
    # moment cannot leave the project with none.
    return Membership.objects.select_for_update().filter(project=project, role=Role.ADMIN).count()


def do_change_role(actor: AbstractBaseUser, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ActionError(f"Unknown role “{role}”.")
    if membership.role == role:
        return membership
    with transaction.atomic():
        admins = _lock_admins(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.ADMIN and role != Role.ADMIN and admins <= 1:
            raise ActionError("A project needs at least one Admin: make someone else Admin first.")
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        log_action(
            actor,
            "member.change_role",
            membership,
            payload={"user": membership.user.get_username(), "before": before, "after": role},
        )
    return membership


def do_remove_member(actor: AbstractBaseUser, membership: Membership) -> None:
    with transaction.atomic():
        admins = _lock_admins(membership.project)
        membership.refresh_from_db()
        if membership.role == Role.ADMIN and admins <= 1:
            raise ActionError("The last Admin cannot be removed: make someone else Admin first.")
        username = membership.user.get_username()
        log_action(actor, "member.remove", membership, payload={"user": username, "role": membership.role})
        membership.delete()
