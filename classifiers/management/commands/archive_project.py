"""Write a project, with its files and model versions, to one archive zip (see classifiers.archive)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from classifiers.archive import ArchiveError, write_archive
from classifiers.models import Project


class Command(BaseCommand):
    help = "Archive a project (rows, documents' files, model artifacts) into one zip for restore_project."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project", help="The project's slug.")
        parser.add_argument("-o", "--output", required=True, help="The zip to write.")
        parser.add_argument("--user", default="", help="Username recorded in the audit log.")

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(slug=opts["project"]).first()
        if project is None:
            raise CommandError(f"No project with slug {opts['project']!r}.")
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user named {opts['user']!r}.")
        try:
            manifest = write_archive(project, opts["output"], actor=user)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from None
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {project.name} to {opts['output']}: {counts['documents']} documents, "
                f"{counts['model_versions']} model versions, {counts['files']} files."
            )
        )
