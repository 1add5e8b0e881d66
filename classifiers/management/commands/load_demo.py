"""Demo data from the shared labelled corpora: a tagged single-label project (BBC news) to
try the browser, the dashboard and training on, and a published trainable classifier (BBC
sport) whose production items fill the content explorer. Safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from classifiers.models import Project

TRAINABLE_DEMO = "Sport finder demo"
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
        path = folder / "bbc.jsonl.gz"
        if Project.objects.filter(name=TRAINABLE_DEMO).exists():
            self.stdout.write(f"{TRAINABLE_DEMO}: exists.")
        elif path.exists():
            self.trainable_demo(get_user_model().objects.get(username=user), path)

    def trainable_demo(self, user, path) -> None:
        """Seeds and a background, trained here (seconds) and published; 500 production items
        that the worker classifies once it starts."""
        import gzip
        import json
        import random

        from classifiers.actions import do_create_project
        from classifiers.actions.deployments import do_deploy
        from classifiers.actions.training import do_request_training
        from classifiers.models import PRODUCTION_SLOT, Document, ModelVersion
        from classifiers.production import request_classification
        from classifiers.training import execute

        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        random.Random(0).shuffle(rows)
        sport = [r for r in rows if r["label"] == "sports"]
        other = [r for r in rows if r["label"] != "sports"]
        project = do_create_project(user, name=TRAINABLE_DEMO, kind="trainable",
                                    description="Is this article about sport? (BBC news)")  # fmt: skip
        parts = [("seed", sport[:60]), ("background", sport[60:90] + other[:400]),
                 ("production", sport[90:190] + other[400:800])]  # fmt: skip
        for doc_set, part in parts:
            Document.objects.bulk_create(
                Document(project=project, set=doc_set, text=r["text"], text_chars=len(r["text"]),
                         text_hash=f"demo-{doc_set}-{r['id']}", external_id=str(r["id"]), created_by=user)
                for r in part
            )  # fmt: skip
        run, _ = do_request_training(user, project)
        execute(run.pk)  # here and now; the queued copy finds it done
        version = ModelVersion.objects.filter(training_run=run).first()
        if version is None:
            self.stdout.write(f"{TRAINABLE_DEMO}: training failed, see its Training page.")
            return
        do_deploy(user, project, PRODUCTION_SLOT, version)
        request_classification(project, "demo")
        self.stdout.write(f"{TRAINABLE_DEMO}: v{version.number} published; 500 production items queued.")
