"""Project exports (JSONL, CSV, Azure labels JSON in a zip), written by a background job."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from classifiers import ingest
from classifiers.labels import final_labels
from classifiers.models import Document, DocumentSet, ExportJob, Project
from studio.audit import log_action

logger = logging.getLogger(__name__)
CHUNK = 2000


def export_documents(job: ExportJob) -> QuerySet[Document]:
    project = job.project
    if job.format == ExportJob.Format.PRODUCTION:
        from classifiers import explorer

        query, _ = explorer.parse(job.filters)
        items = explorer.items(project, query).order_by().values("document_id")
        return Document.objects.filter(project=project, id__in=items).order_by("id")
    if job.filters:
        from classifiers.search import documents_for_query

        return documents_for_query(project, job.filters, job.created_by).order_by("id")
    return Document.objects.filter(project=project).order_by("id")


def _chunks(qs: QuerySet[Document]) -> Iterator[list[Document]]:
    """Keyset chunks: steady memory at any project size."""
    last = 0
    fields = ("id", "text", "set", "filename", "external_id", "metadata", "created_at", "content_type")
    while True:
        chunk = list(qs.filter(id__gt=last).only(*fields)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].id


def _record(doc: Document, labels: list[str] | None) -> dict:
    return {
        "id": doc.id,
        "text": doc.text,
        "classes": labels or [],
        "set": doc.set,
        "filename": doc.filename,
        "external_id": doc.external_id,
        "content_type": doc.content_type,
        "created_at": doc.created_at.isoformat(),
        "metadata": doc.metadata,
    }


def write_jsonl(job: ExportJob, out: io.TextIOBase, progress) -> int:
    n = 0
    for chunk in _chunks(export_documents(job)):
        labels = final_labels(job.project, [d.id for d in chunk])
        for doc in chunk:
            out.write(json.dumps(_record(doc, labels.get(doc.id)), ensure_ascii=False) + "\n")
        n += len(chunk)
        progress(n)
    return n


def write_csv(job: ExportJob, out: io.TextIOBase, progress) -> int:
    writer = csv.writer(out)
    writer.writerow(["id", "text", "classes", "set", "filename", "external_id", "created_at"])
    n = 0
    for chunk in _chunks(export_documents(job)):
        labels = final_labels(job.project, [d.id for d in chunk])
        for doc in chunk:
            writer.writerow(
                [
                    doc.id,
                    doc.text,
                    ";".join(labels.get(doc.id, [])),
                    doc.set,
                    doc.filename,
                    doc.external_id,
                    doc.created_at.isoformat(),
                ]
            )
        n += len(chunk)
        progress(n)
    return n


def write_production(job: ExportJob, out: io.TextIOBase, progress) -> int:
    """Production items with the published version's answer and the labels applied to them
    (each with its policy and the version that matched it)."""
    from classifiers.models import AppliedLabel, Classification

    writer = csv.writer(out)
    writer.writerow(["id", "filename", "external_id", "received_at", "outcome", "classes", "score",
                     "model_version", "labels", "label_details"])  # fmt: skip
    n = 0
    for chunk in _chunks(export_documents(job)):
        ids = [d.id for d in chunk]
        answers = {
            c.document_id: c
            for c in Classification.objects.filter(document_id__in=ids).select_related("model_version")
        }
        applied: dict[int, list[AppliedLabel]] = {}
        for a in AppliedLabel.objects.filter(document_id__in=ids).select_related("label", "model_version"):
            applied.setdefault(a.document_id, []).append(a)
        for doc in chunk:
            c = answers.get(doc.id)
            if c is None:
                continue
            labels = applied.get(doc.id, [])
            writer.writerow(
                [
                    doc.id, doc.filename, doc.external_id, doc.created_at.isoformat(), c.outcome,
                    ";".join(c.labels), f"{c.score:.4f}", c.model_version.number,
                    ";".join(a.label.name for a in labels),
                    ";".join(f"{a.label.name} (policy {a.policy_id}, v{a.model_version.number}, "
                             f"score {a.score:.4f})" for a in labels),
                ]
            )  # fmt: skip
        n += len(chunk)
        progress(n)
    return n


AZURE_DATASET = {DocumentSet.TRAINING: "Train", DocumentSet.TEST: "Test"}


def write_azure(job: ExportJob, out: zipfile.ZipFile, progress) -> int:
    project: Project = job.project
    documents = []
    n = 0
    for chunk in _chunks(export_documents(job)):
        labels = final_labels(project, [d.id for d in chunk])
        for doc in chunk:
            location = f"documents/{doc.id}.txt"
            out.writestr(location, doc.text)
            documents.append(
                {
                    "location": location,
                    "language": project.language if project.language != "multi" else "en",
                    "dataset": AZURE_DATASET.get(doc.set),
                    "classes": labels.get(doc.id, []),
                }
            )
        n += len(chunk)
        progress(n)
    classes = list(project.classes.filter(archived=False).values_list("name", flat=True))
    labels_json = ingest.write_azure_labels(
        project.slug,
        "multi" if project.kind == Project.Kind.MULTI_LABEL else "single",
        project.language if project.language != "multi" else "en",
        classes,
        documents,
        description=project.description,
        multilingual=project.language == "multi",
    )
    out.writestr("labels.json", labels_json)
    return n


EXTENSIONS = {
    ExportJob.Format.JSONL: "jsonl",
    ExportJob.Format.CSV: "csv",
    ExportJob.Format.AZURE: "zip",
    ExportJob.Format.PRODUCTION: "csv",
}


def write_export(job: ExportJob, path: str, progress=lambda n: None) -> int:
    if job.format == ExportJob.Format.AZURE:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            return write_azure(job, zf, progress)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = {ExportJob.Format.JSONL: write_jsonl, ExportJob.Format.PRODUCTION: write_production}
        return writer.get(job.format, write_csv)(job, f, progress)


def run_export_job(export_id: int) -> None:
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",))
            .select_related("project", "created_by")
            .filter(pk=export_id)
            .first()
        )
        if job is None or job.status == ExportJob.Status.DONE:
            return  # a second delivery of a finished job does nothing
        job.status = ExportJob.Status.RUNNING
        job.total = export_documents(job).count()
        job.save(update_fields=["status", "total"])

    def progress(n: int) -> None:
        ExportJob.objects.filter(pk=export_id).update(rows=n)

    fd, tmp = tempfile.mkstemp(suffix=".export")
    os.close(fd)
    try:
        rows = write_export(job, tmp, progress)
        name = f"projects/{job.project_id}/exports/{job.project.slug}-{job.pk}.{EXTENSIONS[job.format]}"
        with open(tmp, "rb") as f:
            stored = default_storage.save(name, File(f))
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        with transaction.atomic():
            ExportJob.objects.filter(pk=export_id).update(
                status=ExportJob.Status.FAILED,
                error=f"The export failed: {type(exc).__name__}.",
                finished_at=timezone.now(),
            )
            log_action(None, "export.fail", job, payload={"error": type(exc).__name__})
        return
    finally:
        os.unlink(tmp)
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=export_id)
        if job.status == ExportJob.Status.DONE:
            default_storage.delete(stored)
            return
        job.file.name = stored
        job.rows = rows
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "rows", "status", "finished_at"])
        log_action(None, "export.finish", job, payload={"rows": rows, "format": job.format})
