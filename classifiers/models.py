"""The domain: projects, their members and roles (and, in later modules, classes,
documents, tags, training runs, model versions, reviews, deployments)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

PROJECT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")
PROJECT_NAME_RULES = (
    "2 to 100 characters: letters, digits, spaces, '-', '_' and '.', starting with a letter or digit."
)


def validate_project_name(value: str) -> None:
    if not (2 <= len(value) <= 100) or not PROJECT_NAME_RE.match(value) or value != value.strip():
        raise ValidationError(f"A project name has {PROJECT_NAME_RULES}")


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    TAGGER = "tagger", "Tagger"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 1, "tagger": 2, "admin": 3}[self.value]

    @property
    def description(self) -> str:
        return {
            "admin": "Edits the schema, trains, reviews, publishes and manages members.",
            "tagger": "Tags and reviews documents.",
            "viewer": "Reads the project.",
        }[self.value]


class Project(models.Model):
    """One classifier being built."""

    class Kind(models.TextChoices):
        SINGLE_LABEL = "single_label", "Single-label"
        MULTI_LABEL = "multi_label", "Multi-label"
        TRAINABLE = "trainable", "Trainable classifier"

    name = models.CharField(max_length=100, validators=[validate_project_name])
    slug = models.SlugField(max_length=110, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True, max_length=5000)
    language = models.CharField(max_length=16, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="project_name_unique_ci")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project_overview", args=[self.slug])

    @property
    def is_trainable(self) -> bool:
        return self.kind == self.Kind.TRAINABLE


class Membership(models.Model):
    """A user's one role in one project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TAGGER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.get_role_display()})"

    def has_role(self, minimum: str) -> bool:
        return Role(self.role).rank >= Role(minimum).rank

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_tag(self) -> bool:
        return self.has_role(Role.TAGGER)
