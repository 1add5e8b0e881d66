"""The one function that records a state change in the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models

from studio.models import AuditEntry


def log_action(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    project: Any = None,
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry. ``actor`` is a user or None for the system (a background job).

    Call it inside the same transaction as the change, so the change and its entry land
    together or not at all.
    """
    if project is None and obj is not None:
        project = getattr(obj, "project", None)
        if project is None and obj._meta.label == "classifiers.Project":
            project = obj
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        project=project,
        project_name=getattr(project, "name", "")[:100],
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        payload=payload or {},
    )
