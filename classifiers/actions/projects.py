"""Projects and their members."""

from __future__ import annotations

import logging
import shutil
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from classifiers.actions.base import ActionError
from classifiers.models import (
    ApiToken,
    Class,
    ClassifyJob,
    Deployment,
    Document,
    ExportJob,
    Membership,
    ModelVersion,
    Project,
    Role,
    SchemaVersion,
    Tag,
    TrainingRun,
    UploadBatch,
)
from studio.audit import log_action

logger = logging.getLogger(__name__)


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


# --- Deleting a project ---------------------------------------------------------------------
DELETE_CHUNK = 2000


def deletion_counts(project: Project) -> dict[str, int]:
    """What deleting the project takes with it (shown before, and kept in the audit entry)."""
    return {
        "documents": Document.objects.filter(project=project).count(),
        "tags": Tag.objects.filter(project=project).count(),
        "classes": Class.objects.filter(project=project).count(),
        "model_versions": ModelVersion.objects.filter(project=project).count(),
        "deployments": Deployment.objects.filter(project=project).count(),
        "api_tokens": ApiToken.objects.filter(project=project, revoked_at__isnull=True).count(),
        "members": Membership.objects.filter(project=project).count(),
        "upload_batches": UploadBatch.objects.filter(project=project).count(),
        "exports": ExportJob.objects.filter(project=project).count(),
        "active_training_runs": TrainingRun.objects.filter(
            project=project, state__in=TrainingRun.ACTIVE
        ).count(),
        "active_classify_jobs": ClassifyJob.objects.filter(
            project=project, status__in=[ClassifyJob.Status.NOT_STARTED, ClassifyJob.Status.RUNNING]
        ).count(),
    }


def project_media_prefix(project_id: int) -> str:
    # Every file of a project lives under this folder: originals, thumbnails, received
    # uploads, model artifacts and their snapshots, exports (see the upload_to functions).
    return f"projects/{int(project_id)}"


def remove_project_files(project_id: int) -> None:
    """Delete the project's folder in media storage. Called after the deletion commits (a
    rolled-back deletion keeps its files), and by background tasks that wrote files for a
    project deleted while they ran. Never raises: a leftover file is logged, not a crash."""
    prefix = project_media_prefix(project_id)
    try:
        root = default_storage.path(prefix)
    except NotImplementedError:  # a storage without local paths: walk it
        _remove_tree(prefix)
        return
    try:
        shutil.rmtree(root)
    except FileNotFoundError:
        pass
    except OSError:
        logger.exception("Could not remove the files of deleted project %s in %s", project_id, root)


def _remove_tree(prefix: str) -> None:
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        try:
            default_storage.delete(f"{prefix}/{name}")
        except OSError:
            logger.exception("Could not delete %s/%s", prefix, name)
    for folder in folders:
        _remove_tree(f"{prefix}/{folder}")


def do_delete_project(actor: AbstractBaseUser, project: Project, typed_name: str) -> dict[str, int]:
    """Delete the project with everything in it, once its Admin typed its exact name.

    Not refused while a training run or a job is active: their rows go with the project,
    and the background tasks that later find their row gone end quietly (a running training
    run sees it at its next cancel check; see classifiers.tasks). The audit entry is written
    before the delete, pointing at the project; the delete sets its project to NULL
    (AuditEntry.project is SET_NULL) and the entry keeps the name, slug and counts.
    Files go after the commit. Returns the counts of what was deleted."""
    membership = Membership.objects.filter(project=project, user=actor).first()
    if membership is None or membership.role != Role.ADMIN:
        raise ActionError("Deleting a project needs the Admin role.")
    if (typed_name or "").strip() != project.name:
        raise ActionError(
            f"Type the project's name “{project.name}” exactly to delete it; nothing was deleted."
        )
    project_id, name, slug = project.pk, project.name, project.slug
    with transaction.atomic():
        # Lock the row: a concurrent rename or second deletion waits for this one.
        locked = Project.objects.select_for_update().filter(pk=project_id).first()
        if locked is None:
            raise ActionError("This project was already deleted.")
        if locked.name != name:
            raise ActionError("The project was renamed meanwhile; nothing was deleted. Confirm again.")
        counts = deletion_counts(locked)
        log_action(
            actor,
            "project.delete",
            locked,
            payload={"name": name, "slug": slug, "id": project_id, "kind": locked.kind, **counts},
        )
        # Deployments PROTECT their model version: they go first. Documents go in chunks,
        # loading only their ids (the collector would otherwise load every text).
        Deployment.objects.filter(project=locked).delete()
        ids = list(Document.objects.filter(project=locked).order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), DELETE_CHUNK):
            Document.objects.filter(project=locked, id__in=ids[start : start + DELETE_CHUNK]).only(
                "id"
            ).delete()
        locked.delete()
        transaction.on_commit(partial(remove_project_files, project_id))
    logger.info("project %s (%s) deleted by %s", project_id, slug, actor.get_username())
    return counts
