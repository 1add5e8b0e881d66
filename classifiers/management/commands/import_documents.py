"""Import a folder, files, zips, a CSV / JSONL (optionally .gz) or an Azure labels export
into a project, with the same checks and per-file results as an upload in the studio."""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from classifiers.actions import ActionError, do_create_project
from classifiers.actions.uploads import detect_source
from classifiers.models import DocumentSet, Project, UploadBatch
from classifiers.uploads import process_batch
from studio.audit import log_action


class Command(BaseCommand):
    help = "Import documents into a project (like an upload, processed right here)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project", help="The project's slug (or its name with --create).")
        parser.add_argument("paths", nargs="+", help="Files or folders (folders are read recursively).")
        parser.add_argument("--user", required=True, help="Username recorded as the uploader (and tagger).")
        parser.add_argument(
            "--set", default="", help="Document set (default: training, or seed for trainable)."
        )
        parser.add_argument("--text-column", default="", help="CSV / JSONL: the text column.")
        parser.add_argument(
            "--label-column", action="append", default=[], help="CSV / JSONL: a label column."
        )
        parser.add_argument("--id-column", default="", help="CSV / JSONL: an id column.")
        parser.add_argument("--label-separator", default="", help="CSV / JSONL: separator of several labels.")
        parser.add_argument(
            "--azure", action="store_true", help="The paths are an Azure labels JSON + texts."
        )
        parser.add_argument(
            "--create",
            choices=Project.Kind.values,
            help="Create the project (named PROJECT) with this kind first.",
        )

    def handle(self, *args, **opts) -> None:
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"No user {opts['user']!r}.")
        project = self.project(opts, user)
        files = self.collect(opts["paths"])
        target_set = opts["set"] or (DocumentSet.SEED if project.is_trainable else DocumentSet.TRAINING)
        if target_set not in DocumentSet.for_kind(project.kind):
            raise CommandError(
                f"{target_set!r} is not a set of this project: {DocumentSet.for_kind(project.kind)}"
            )
        names = [p.name[:-3] if p.name.endswith(".gz") else p.name for p in files]
        heads = {}
        for name, p in zip(names, files, strict=True):
            with open(p, "rb") as f:
                heads[name] = f.read(4096)
        source = UploadBatch.Source.AZURE if opts["azure"] else detect_source(names, heads)
        options = {}
        if source in (UploadBatch.Source.CSV, UploadBatch.Source.JSONL):
            if not opts["text_column"]:
                raise CommandError(
                    "A CSV / JSONL import needs --text-column (and optionally --label-column)."
                )
            options = {
                "text_column": opts["text_column"],
                "label_columns": opts["label_column"],
                "id_column": opts["id_column"],
                "label_separator": opts["label_separator"],
            }
        with transaction.atomic():
            batch = UploadBatch.objects.create(
                project=project, created_by=user, source=source, target_set=target_set, options=options,
                received=[{"name": p.name, "local_path": str(p.resolve()), "size": p.stat().st_size} for p in files],
                total=len(files),
            )  # fmt: skip
            log_action(
                user, "upload.create", batch, payload={"files": len(files), "source": source, "command": True}
            )
        self.stdout.write(f"Importing {len(files)} file(s) into {project.name} as upload #{batch.pk}…")
        batch = process_batch(batch.pk) or UploadBatch.objects.get(pk=batch.pk)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {batch.imported} imported, {batch.duplicates} duplicates, {batch.rejected} rejected, "
                f"{batch.tags_created} tags."
            )
        )
        for result in batch.results.filter(status="rejected")[:20]:
            self.stdout.write(f"  rejected {result.path}: {result.message}")

    def project(self, opts: dict, user) -> Project:
        if opts["create"]:
            try:
                return do_create_project(user, name=opts["project"], kind=opts["create"])
            except ActionError as exc:
                raise CommandError(str(exc)) from None
        project = Project.objects.filter(slug=opts["project"]).first()
        if project is None:
            raise CommandError(f"No project with slug {opts['project']!r} (use --create KIND to make it).")
        return project

    def collect(self, paths: list[str]) -> list[Path]:
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                for root, dirs, names in os.walk(path):
                    dirs.sort()
                    files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{raw}: no such file or folder.")
        if not files:
            raise CommandError("No files to import.")
        return files
