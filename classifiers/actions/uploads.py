"""Upload batches and exports: created here (audited), processed by tasks."""

from __future__ import annotations

import contextlib
import re
from pathlib import PurePosixPath

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from classifiers import ingest
from classifiers.actions.base import ActionError
from classifiers.models import DocumentSet, ExportJob, Project, UploadBatch
from classifiers.tasks import enqueue
from studio.audit import log_action

SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    return SAFE_NAME_RE.sub("_", base)[:120] or "file"


def detect_source(names: list[str], first_bytes: dict[str, bytes]) -> str:
    """Files, or a tabular import (one CSV / JSONL), or an Azure labels JSON with its texts."""
    lowered = [n.lower() for n in names]
    if len(names) == 1 and lowered[0].endswith(".csv"):
        return UploadBatch.Source.CSV
    if len(names) == 1 and lowered[0].endswith((".jsonl", ".ndjson")):
        return UploadBatch.Source.JSONL
    for name in names:
        if name.lower().endswith(".json") and b"projectFileVersion" in first_bytes.get(name, b""):
            return UploadBatch.Source.AZURE
    return UploadBatch.Source.FILES


def do_create_upload_batch(
    actor: AbstractBaseUser,
    project: Project,
    files: list[UploadedFile],
    target_set: str,
    *,
    azure: bool = False,
) -> UploadBatch:
    if target_set not in DocumentSet.for_kind(project.kind):
        raise ActionError(f"“{target_set}” is not a document set of this project.")
    if not files:
        raise ActionError("Choose at least one file.")
    names = [f.name or "file" for f in files]
    heads = {}
    for f in files:
        f.seek(0)
        heads[f.name] = f.read(4096)
        f.seek(0)
    source = UploadBatch.Source.AZURE if azure else detect_source(names, heads)
    batch = UploadBatch.objects.create(
        project=project,
        created_by=actor,
        source=source,
        target_set=target_set,
        status=UploadBatch.Status.NEEDS_OPTIONS
        if source in (UploadBatch.Source.CSV, UploadBatch.Source.JSONL)
        else UploadBatch.Status.QUEUED,
    )
    stored = []
    path = ""
    try:
        for i, f in enumerate(files):
            path = f"projects/{project.pk}/uploads/{batch.pk}/{i:05d}-{safe_name(f.name or 'file')}"
            path = default_storage.save(path, f)
            stored.append({"name": (f.name or "file")[:255], "path": path, "size": f.size or 0})
    except OSError as exc:
        # The file being written when the disk filled up is left half-written by the storage.
        for name in [entry["path"] for entry in stored] + [path]:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
        batch.delete()
        raise ActionError(
            f"The files could not be stored ({exc.strerror or exc}). Nothing was imported."
        ) from None
    with transaction.atomic():
        batch.received = stored
        batch.total = len(stored)
        batch.save(update_fields=["received", "total"])
        log_action(
            actor,
            "upload.create",
            batch,
            payload={
                "files": len(stored),
                "source": source,
                "set": target_set,
                "bytes": sum(e["size"] for e in stored),
            },
        )
        if batch.status == UploadBatch.Status.QUEUED:
            enqueue("classifiers.tasks.process_upload_batch", batch.pk)
    return batch


def tabular_columns(batch: UploadBatch) -> list[str]:
    from classifiers.uploads import read_received

    data = read_received(batch.received[0])
    if batch.source == UploadBatch.Source.CSV:
        return ingest.csv_columns(data)
    return ingest.jsonl_fields(data)


def do_set_tabular_options(
    actor: AbstractBaseUser,
    batch: UploadBatch,
    *,
    text_column: str,
    label_columns: list[str],
    id_column: str = "",
    label_separator: str = "",
) -> UploadBatch:
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != UploadBatch.Status.NEEDS_OPTIONS:
            raise ActionError("This import has already started.")
        if text_column in label_columns or (id_column and id_column in (text_column, *label_columns)):
            raise ActionError("The text, label and id columns must be different columns.")
        batch.options = {
            "text_column": text_column,
            "label_columns": label_columns,
            "id_column": id_column,
            "label_separator": label_separator,
        }
        batch.status = UploadBatch.Status.QUEUED
        batch.save(update_fields=["options", "status"])
        log_action(actor, "upload.columns", batch, payload=batch.options)
        enqueue("classifiers.tasks.process_upload_batch", batch.pk)
    return batch


def do_retry_upload_batch(actor: AbstractBaseUser, batch: UploadBatch) -> UploadBatch:
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != UploadBatch.Status.FAILED:
            raise ActionError("Only a failed batch can be retried.")
        batch.status = UploadBatch.Status.QUEUED
        batch.save(update_fields=["status"])
        log_action(actor, "upload.retry", batch)
        enqueue("classifiers.tasks.process_upload_batch", batch.pk)
    return batch


def do_create_export(actor: AbstractBaseUser, project: Project, fmt: str, filters: dict) -> ExportJob:
    if fmt not in ExportJob.Format.values:
        raise ActionError(f"Unknown export format “{fmt}”.")
    if fmt == ExportJob.Format.AZURE and project.kind == Project.Kind.TRAINABLE:
        raise ActionError("Azure's labels format has no trainable-classifier kind: export JSONL or CSV.")
    with transaction.atomic():
        job = ExportJob.objects.create(project=project, created_by=actor, format=fmt, filters=filters)
        log_action(actor, "export.create", job, payload={"format": fmt, "filters": filters})
        enqueue("classifiers.tasks.run_export", job.pk)
    return job
