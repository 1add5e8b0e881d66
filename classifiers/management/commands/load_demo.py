"""Demo data from the shared labelled corpora: a tagged single-label project (BBC news) to
try the browser, the dashboard and training on. Safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from classifiers.models import Project

DEMOS = [
    # (project name, kind, corpus file, label column)
    ("BBC news demo", "single_label", "bbc.jsonl.gz", "label"),
]


class Command(BaseCommand):
    help = "Create demo projects from the shared datasets (STUDIO_DATASETS_DIR)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", default="admin", help="The demo projects' Admin.")

    def handle(self, *args, user: str, **opts) -> None:
        if not get_user_model().objects.filter(username=user).exists():
            raise CommandError(f"No user {user!r}.")
        folder = settings.STUDIO_DATASETS_DIR
        for name, kind, filename, label in DEMOS:
            path = folder / filename
            if Project.objects.filter(name=name).exists():
                self.stdout.write(f"{name}: exists.")
                continue
            if not path.exists():
                self.stdout.write(f"{name}: skipped, {path} not found (set STUDIO_DATASETS_DIR).")
                continue
            call_command(
                "import_documents", name, str(path), user=user, create=kind,
                text_column="text", label_column=[label], id_column="id", stdout=self.stdout,
            )  # fmt: skip
