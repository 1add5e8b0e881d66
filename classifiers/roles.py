"""Site-wide role groups. Per-project roles (Admin, Tagger, Viewer) live on Membership;
these groups say who may create projects and what operators see in the Django admin."""

from __future__ import annotations

from typing import Any

COMPLIANCE_ADMINS = "Compliance admins"
OPERATORS = "Operators"

GROUP_PERMISSIONS: dict[str, list[str]] = {
    # May create projects (and becomes their Admin).
    COMPLIANCE_ADMINS: ["classifiers.add_project"],
    # Staff who run the site: read everything in the admin, manage accounts.
    OPERATORS: [
        "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
        "classifiers.view_project", "classifiers.view_membership", "studio.view_auditentry",
        "django_q.view_task", "django_q.view_schedule", "django_q.view_ormq",
    ],
}  # fmt: skip


def ensure_role_groups(sender: Any = None, **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*wanted)


# Periodic jobs: (function, minutes). Created on every migrate, so every deployment has them.
SCHEDULES = [
    ("classifiers.tasks.reap_training_runs", 1),
    ("classifiers.api.jobs.delete_expired_jobs", 10),
    ("classifiers.tasks.sweep_production", 5),
    ("classifiers.tasks.check_feedback_retrains", 60),
]


def ensure_schedules(sender: Any = None, **kwargs: Any) -> None:
    from django_q.models import Schedule

    for func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=func.rsplit(".", 1)[-1],
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
