"""Site-wide models: the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise TypeError("Audit entries are append-only.")

    def delete(self):  # type: ignore[override]
        raise TypeError("Audit entries are append-only.")


class AuditEntry(models.Model):
    """Who did what to which object, when. Written only by ``studio.audit.log_action``."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the entry still says who it was after the account is deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    project = models.ForeignKey(
        "classifiers.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    project_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["project", "-id"], name="audit_project_recent")]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action} {self.object_repr}"
        )

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise TypeError("Audit entries are append-only.")
