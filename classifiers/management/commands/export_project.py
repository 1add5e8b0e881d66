"""Export a project's documents and tags (JSONL, CSV, or Azure labels JSON in a zip)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from classifiers.exports import write_export
from classifiers.models import ExportJob, Project
from studio.audit import log_action


class Command(BaseCommand):
    help = "Write a project export to a file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project", help="The project's slug.")
        parser.add_argument("--format", choices=ExportJob.Format.values, default="jsonl")
        parser.add_argument("-o", "--output", required=True, help="The file to write.")
        parser.add_argument("--user", default="", help="Username recorded in the audit log.")

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(slug=opts["project"]).first()
        if project is None:
            raise CommandError(f"No project with slug {opts['project']!r}.")
        user = get_user_model().objects.filter(username=opts["user"]).first() if opts["user"] else None
        if opts["format"] == "azure" and project.is_trainable:
            raise CommandError("Azure's labels format has no trainable-classifier kind: use jsonl or csv.")
        job = ExportJob(project=project, created_by=user, format=opts["format"])  # not saved: no download
        rows = write_export(job, opts["output"])
        log_action(user, "export.command", project, payload={"format": opts["format"], "rows": rows})
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows} documents to {opts['output']}."))
