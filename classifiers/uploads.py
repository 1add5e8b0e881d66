"""Turning an upload batch's received files into documents, tags and per-file results.

Called by the django-q2 task (``tasks.process_upload_batch``) and by the import command.
Safe to run twice: every item has a unique path in its batch, and the result row and the
document it made are written in the same transaction, so a re-run skips what is done.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from classifiers import ingest
from classifiers.actions.base import ActionError
from classifiers.models import Class, Document, DocumentSet, Project, Tag, UploadBatch, UploadResult
from studio.audit import log_action

logger = logging.getLogger(__name__)

CHUNK = 500  # items written per transaction: short transactions keep SQLite writers moving
MATCH_WORDS = {"match", "1", "true", "yes", "positive", "y"}
NOT_MATCH_WORDS = {"not_match", "not a match", "no_match", "0", "false", "no", "negative", "n"}


def limits() -> ingest.Limits:
    return ingest.Limits(
        max_file_bytes=settings.STUDIO_MAX_FILE_BYTES,
        max_files_per_batch=settings.STUDIO_MAX_FILES_PER_BATCH,
        max_zip_total_bytes=settings.STUDIO_MAX_ZIP_BYTES,
        max_zip_ratio=settings.STUDIO_MAX_ZIP_RATIO,
        max_zip_depth=settings.STUDIO_MAX_ZIP_DEPTH,
        max_text_chars=settings.STUDIO_MAX_TEXT_CHARS,
    )


# --- Items: what one batch holds, as (path, payload) pairs --------------------------------------
@dataclass
class FileItem:
    path: str
    data: bytes
    modified: Any = None


@dataclass
class RowItem:
    path: str
    text: str
    labels: list[str]
    external_id: str
    extra: dict[str, Any] = field(default_factory=dict)
    set: str | None = None  # Azure documents say Train or Test


@dataclass
class RejectedItem:
    path: str
    reason: str
    message: str
    size: int = 0


Item = FileItem | RowItem | RejectedItem


def read_received(entry: dict) -> bytes:
    """The bytes of one received file (stored upload, or a local file of the import command)."""
    if entry.get("local_path"):
        with open(entry["local_path"], "rb") as f:
            data = f.read()
    else:
        with default_storage.open(entry["path"], "rb") as f:
            data = f.read()
    if entry["name"].endswith(".gz"):
        # The shared corpora come gzipped; only the import command passes .gz files.
        data = gzip.decompress(data)
    return data


def received_name(entry: dict) -> str:
    name = entry["name"]
    return name[:-3] if name.endswith(".gz") else name


def count_items(batch: UploadBatch) -> int:
    """A quick estimate of the items, for the progress bar (zip entries counted, rows not)."""
    total = 0
    for entry in batch.received:
        name = received_name(entry)
        if ingest.is_archive(name) and not entry.get("local_path") and not name.endswith(".gz"):
            try:
                with default_storage.open(entry["path"], "rb") as f, zipfile.ZipFile(f) as zf:
                    total += sum(1 for info in zf.infolist() if not info.is_dir())
                continue
            except (zipfile.BadZipFile, OSError, ValueError):
                pass
        total += 1
    return total


def iter_items(batch: UploadBatch) -> Iterator[Item]:
    lim = limits()
    if batch.source in (UploadBatch.Source.CSV, UploadBatch.Source.JSONL):
        yield from _tabular_items(batch, lim)
    elif batch.source == UploadBatch.Source.AZURE:
        yield from _azure_items(batch, lim)
    else:
        for entry in batch.received:
            yield from _file_items(entry, lim)


def _file_items(entry: dict, lim: ingest.Limits) -> Iterator[Item]:
    name = received_name(entry)
    if entry.get("size", 0) > (lim.max_zip_total_bytes if ingest.is_archive(name) else lim.max_file_bytes):
        limit = lim.max_zip_total_bytes if ingest.is_archive(name) else lim.max_file_bytes
        yield RejectedItem(
            name, "too_large", f"The file is larger than the {limit // 2**20} MiB limit.", entry["size"]
        )
        return
    try:
        data = read_received(entry)
    except FileNotFoundError:
        # Discarded after an earlier delivery finished it (its items are then already done and
        # skipped), or lost from the media folder: said, not crashed on.
        yield RejectedItem(name, "corrupt", "The uploaded file is no longer stored; upload it again.")
        return
    if not ingest.is_archive(name):
        yield FileItem(name, data)
        return
    try:
        members = ingest.iter_archive(name, data, lim)
        for member in members:
            if isinstance(member, ingest.RejectedMember):
                yield RejectedItem(f"{name}/{member.path}", member.reason.value, member.message)
            else:
                yield FileItem(f"{name}/{member.path}", member.data, member.modified)
    except ingest.Rejected as exc:
        yield RejectedItem(name, exc.reason.value, exc.message, len(data))


def _tabular_items(batch: UploadBatch, lim: ingest.Limits) -> Iterator[Item]:
    opts = batch.options
    for entry in batch.received:
        name = received_name(entry)
        data = read_received(entry)
        reader = ingest.read_csv if batch.source == UploadBatch.Source.CSV else ingest.read_jsonl
        try:
            rows = reader(
                data,
                opts["text_column"],
                opts.get("label_columns", []),
                opts.get("id_column") or None,
                opts.get("label_separator") or None,
                limits=lim,
            )
            for row in rows:
                path = f"{name}#{row.row_number}"
                if isinstance(row, ingest.RejectedRow):
                    yield RejectedItem(path, row.reason.value, row.message)
                else:
                    yield RowItem(path, row.text, row.labels, row.external_id or "", row.extra)
        except ingest.Rejected as exc:
            yield RejectedItem(name, exc.reason.value, exc.message, len(data))
        except ValueError as exc:  # a column that does not exist
            yield RejectedItem(name, "corrupt", str(exc), len(data))


def _azure_items(batch: UploadBatch, lim: ingest.Limits) -> Iterator[Item]:
    """A labels JSON plus the texts it names (loose files or zips, or one zip holding both)."""
    labels_data: bytes | None = None
    labels_name = ""
    files: dict[str, bytes] = {}
    for entry in batch.received:
        name = received_name(entry)
        data = read_received(entry)
        if ingest.is_archive(name):
            try:
                for member in ingest.iter_archive(name, data, lim):
                    if isinstance(member, ingest.RejectedMember):
                        if not member.junk:
                            yield RejectedItem(f"{name}/{member.path}", member.reason.value, member.message)
                    elif (
                        member.path.lower().endswith(".json")
                        and labels_data is None
                        and _is_labels(member.data)
                    ):
                        labels_data, labels_name = member.data, f"{name}/{member.path}"
                    else:
                        files[f"{name}/{member.path}"] = member.data
            except ingest.Rejected as exc:
                yield RejectedItem(name, exc.reason.value, exc.message, len(data))
        elif name.lower().endswith(".json") and labels_data is None:
            labels_data, labels_name = data, name
        else:
            files[name] = data
    if labels_data is None:
        yield RejectedItem("labels file", "corrupt", "No Azure labels JSON file was found in this upload.")
        return
    try:
        azure = ingest.read_azure_labels(labels_data)
    except ingest.Rejected as exc:
        yield RejectedItem(labels_name, exc.reason.value, exc.message, len(labels_data))
        return
    pairing = ingest.pair_azure_documents(azure, files)
    for location in pairing.missing:
        yield RejectedItem(
            location, "corrupt", "The labels file names this document, but no such file was uploaded."
        )
    for location in pairing.ambiguous:
        yield RejectedItem(
            location, "corrupt", "Several uploaded files could be this document; give full paths."
        )
    for key in pairing.unlisted:
        yield RejectedItem(
            key, "unsupported_type", "This file is not named in the labels file: not imported."
        )
    dataset_set = {"train": DocumentSet.TRAINING, "test": DocumentSet.TEST}
    for doc, key, data in pairing.matched:
        try:
            extracted = ingest.extract(PurePosixPath(key).name, data, lim)
        except ingest.Rejected as exc:
            yield RejectedItem(key, exc.reason.value, exc.message, len(data))
            continue
        yield RowItem(
            key,
            extracted.text,
            list(doc.classes),
            doc.location,
            {"language": doc.language} if doc.language else {},
            set=dataset_set.get((doc.dataset or "").lower()),
        )


def _is_labels(data: bytes) -> bool:
    return b"projectFileVersion" in data[:4096] or b'"assets"' in data


# --- Processing -------------------------------------------------------------------------------
class BatchProcessor:
    def __init__(self, batch: UploadBatch) -> None:
        self.batch = batch
        self.project: Project = batch.project
        self.classes: dict[str, Class] = {c.name.casefold(): c for c in self.project.classes.all()}
        self.done_paths = set(batch.results.values_list("path", flat=True))
        self.seen_hashes: dict[str, int] = {}  # text hash or sha256 -> document id, within this batch
        self.pending: list[tuple[Item, Any]] = []

    def run(self) -> None:
        done_files = {p.split("/", 1)[0].split("#", 1)[0] for p in self.done_paths}
        for item in iter_items(self.batch):
            if item.path[:1024] in self.done_paths:
                continue  # done by an earlier delivery of this task
            if isinstance(item, RejectedItem) and item.path in done_files and item.reason == "corrupt":
                continue  # its file was discarded after an earlier delivery processed it
            self.pending.append((item, self.prepare(item)))
            if len(self.pending) >= CHUNK:
                self.flush()
        self.flush()

    def prepare(self, item: Item) -> Any:
        """Extraction happens outside the transaction (it may take a while)."""
        if isinstance(item, FileItem):
            try:
                return ingest.extract(
                    PurePosixPath(item.path).name, item.data, limits(), modified=item.modified
                )
            except ingest.Rejected as exc:
                return exc
            except Exception as exc:  # an extractor bug must not fail the batch
                logger.exception("extract failed for %s", item.path)
                return ingest.Rejected("corrupt", f"The file could not be read ({type(exc).__name__}).")
        return None

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        # Originals are content-addressed files, written before the rows that point at them:
        # a crash in between leaves at most an unreferenced file, never a row without its file.
        rows = [self.describe(item, prepared) for item, prepared in pending]
        for row in rows:
            if row.get("original_bytes") is not None:
                row["original_name"] = self.store(row)
        with transaction.atomic():
            self.write(rows)
        self.done_paths.update(r["path"] for r in rows)

    def describe(self, item: Item, prepared: Any) -> dict:
        path = item.path[:1024]
        if isinstance(item, RejectedItem):
            return {
                "path": path,
                "status": "rejected",
                "reason": item.reason,
                "message": item.message,
                "size": item.size,
            }
        if isinstance(prepared, ingest.Rejected):
            return {
                "path": path,
                "status": "rejected",
                "reason": prepared.reason.value,
                "message": prepared.message,
                "size": len(item.data),
            }
        if isinstance(item, FileItem):
            ex: ingest.Extracted = prepared
            sha = ingest.sha256_hex(item.data)
            return {
                "path": path,
                "status": "new",
                "size": len(item.data),
                "text": ex.text,
                "has_text": ex.has_text,
                "sha256": sha,
                "text_hash": ingest.sha256_hex(ingest.normalise_for_duplicates(ex.text).encode())
                if ex.has_text
                else sha,
                "filename": PurePosixPath(item.path).name[:255],
                "content_type": ex.content_type,
                "created": ex.created,
                "modified": ex.modified,
                "metadata": ex.metadata,
                "original_bytes": item.data,
                "thumbnail": ex.thumbnail,
                "labels": [],
                "external_id": "",
                "set": None,
            }
        text = item.text
        if not text.strip():
            return {
                "path": path,
                "status": "rejected",
                "reason": "empty_text",
                "message": "The text is empty.",
            }
        if len(text) > settings.STUDIO_MAX_TEXT_CHARS:
            return {
                "path": path,
                "status": "rejected",
                "reason": "too_large",
                "message": "The text is too long.",
            }
        text_hash = ingest.sha256_hex(ingest.normalise_for_duplicates(text).encode())
        return {
            "path": path,
            "status": "new",
            "size": len(text.encode()),
            "text": text,
            "has_text": True,
            "sha256": "",
            "text_hash": text_hash,
            "filename": "",
            "content_type": "text/plain",
            "created": None,
            "modified": None,
            "metadata": {"source": path.rsplit("#", 1)[0], **_jsonable(item.extra)},
            "original_bytes": None,
            "thumbnail": None,
            "labels": item.labels,
            "external_id": item.external_id[:255],
            "set": item.set,
        }

    def store(self, row: dict) -> str:
        name = f"projects/{self.project.pk}/originals/{row['sha256'][:2]}/{row['sha256']}"
        name = _store_once(name, row["original_bytes"])
        if row.get("thumbnail"):
            thumb = f"projects/{self.project.pk}/thumbnails/{row['sha256'][:2]}/{row['sha256']}"
            row["thumbnail_name"] = _store_once(thumb, row["thumbnail"])
        return name

    def write(self, rows: list[dict]) -> None:
        new = [r for r in rows if r["status"] == "new"]
        shas = {r["sha256"] for r in new if r["sha256"]}
        hashes = {r["text_hash"] for r in new}
        existing: dict[str, int] = {}
        for doc_id, sha, _text_hash in Document.objects.filter(
            project=self.project, sha256__in=shas
        ).values_list("id", "sha256", "text_hash"):
            existing.setdefault(sha, doc_id)
        for doc_id, text_hash in Document.objects.filter(
            project=self.project, text_hash__in=hashes
        ).values_list("id", "text_hash"):
            existing.setdefault(text_hash, doc_id)
        existing.update(self.seen_hashes)

        documents: list[tuple[dict, Document]] = []
        for row in new:
            original = existing.get(row["sha256"]) if row["sha256"] else None
            original = original or existing.get(row["text_hash"])
            if original:
                row.update(
                    status="duplicate", duplicate_of=original, message=_duplicate_message(row, existing)
                )
                continue
            label_problem = self.check_labels(row["labels"])
            if label_problem:
                row.update(status="rejected", reason="corrupt", message=label_problem)
                continue
            doc = Document(
                project=self.project,
                set=row["set"] or self.batch.target_set,
                text=row["text"],
                text_chars=len(row["text"]),
                has_text=row["has_text"],
                text_hash=row["text_hash"],
                filename=row["filename"],
                external_id=row["external_id"],
                content_type=row["content_type"][:100],
                size=row["size"],
                sha256=row["sha256"],
                file_created=row["created"],
                file_modified=row["modified"],
                metadata=row["metadata"],
                batch=self.batch,
                created_by=self.batch.created_by,
            )
            doc.original.name = row.get("original_name", "")
            doc.thumbnail.name = row.get("thumbnail_name", "")
            documents.append((row, doc))
            # A placeholder until the id exists: a second copy in this chunk is a duplicate too.
            existing[row["text_hash"]] = -1
            if row["sha256"]:
                existing[row["sha256"]] = -1
        Document.objects.bulk_create([d for _, d in documents], batch_size=CHUNK)
        for row, doc in documents:
            row.update(status="imported", document=doc.pk)
            self.seen_hashes[row["text_hash"]] = doc.pk
            if row["sha256"]:
                self.seen_hashes[row["sha256"]] = doc.pk
        # Duplicates of documents made earlier in this very chunk point at them now.
        for row in rows:
            if row["status"] == "duplicate" and row["duplicate_of"] == -1:
                row["duplicate_of"] = self.seen_hashes.get(row["sha256"]) or self.seen_hashes.get(
                    row["text_hash"]
                )
        tags = self.make_tags(documents)
        Tag.objects.bulk_create(tags, batch_size=CHUNK, ignore_conflicts=True)
        UploadResult.objects.bulk_create(
            [
                UploadResult(
                    batch=self.batch,
                    path=r["path"],
                    status=r["status"],
                    reason=r.get("reason", ""),
                    message=r.get("message", ""),
                    size=r.get("size", 0),
                    document_id=r.get("document"),
                    duplicate_of_id=r.get("duplicate_of"),
                )
                for r in rows
            ],
            batch_size=CHUNK,
        )
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("imported", "duplicate", "rejected")}
        UploadBatch.objects.filter(pk=self.batch.pk).update(
            processed=F("processed") + len(rows),
            imported=F("imported") + counts["imported"],
            duplicates=F("duplicates") + counts["duplicate"],
            rejected=F("rejected") + counts["rejected"],
            tags_created=F("tags_created") + len(tags),
        )

    def check_labels(self, labels: list[str]) -> str:
        if not labels:
            return ""
        kind = self.project.kind
        if kind == Project.Kind.SINGLE_LABEL and len(set(labels)) > 1:
            return f"A single-label project takes one class per document; this row has {len(labels)}."
        if kind == Project.Kind.TRAINABLE:
            for label in labels:
                if label.strip().casefold() not in MATCH_WORDS | NOT_MATCH_WORDS:
                    return f"“{label}” is not a match / not a match answer (use match or not_match)."
            return ""
        for label in labels:
            try:
                self.class_for(label)  # unknown class names join the schema
            except ActionError as exc:
                return f"The label “{label[:100]}” cannot be a class: {exc}"
        return ""

    def make_tags(self, documents: list[tuple[dict, Document]]) -> list[Tag]:
        tags = []
        for row, doc in documents:
            for label in dict.fromkeys(row["labels"]):
                if self.project.kind == Project.Kind.TRAINABLE:
                    cls = self.category
                    positive = label.strip().casefold() in MATCH_WORDS
                else:
                    cls = self.class_for(label)
                    positive = True
                tags.append(
                    Tag(
                        project=self.project,
                        document=doc,
                        tag_class=cls,
                        positive=positive,
                        tagger=self.batch.created_by,
                        source="import",
                    )
                )
        return tags

    @cached_property
    def category(self) -> Class:
        return self.project.classes.order_by("id").first()

    def class_for(self, name: str) -> Class:
        key = name.strip().casefold()
        cls = self.classes.get(key)
        if cls is None:
            from classifiers.actions.schema import do_add_class

            cls = do_add_class(self.batch.created_by, self.project, name=name.strip()[:100])
            self.classes[key] = cls
        return cls


def _store_once(name: str, data: bytes) -> str:
    """Write a content-addressed file unless it is already there, whole.

    Written under a temporary name, then renamed into place: a write cut short (disk full,
    read-only media, worker killed) never leaves a truncated file under the final name, where
    a later delivery would take it for the original (Django's storage leaves partial files).
    Two workers storing the same file at once both rename whole copies."""
    final = Path(default_storage.path(name))
    try:
        if final.stat().st_size == len(data):
            return name
    except FileNotFoundError:
        pass
    tmp = f"{name}.{uuid.uuid4().hex}.tmp"
    try:
        tmp = default_storage.save(tmp, ContentFile(data))
        os.replace(default_storage.path(tmp), final)
    except OSError:
        with contextlib.suppress(OSError):
            default_storage.delete(tmp)
        raise
    return name


def _duplicate_message(row: dict, existing: dict) -> str:
    if row["sha256"] and row["sha256"] in existing:
        return "The same file is already in this project."
    return "A document with the same text is already in this project."


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in list(extra.items())[:50]:
        out[str(key)[:100]] = (
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        )
    return out


def process_batch(batch_id: int) -> UploadBatch | None:
    """Process one batch to the end. Returns None when there is nothing (left) to do."""
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status in (UploadBatch.Status.DONE, UploadBatch.Status.NEEDS_OPTIONS):
            return None
        if batch.status == UploadBatch.Status.QUEUED or not batch.total:
            batch.total = count_items(batch)
        batch.status = UploadBatch.Status.PROCESSING
        batch.started_at = batch.started_at or timezone.now()
        batch.error = ""
        batch.save(update_fields=["status", "started_at", "error", "total"])
    batch = UploadBatch.objects.select_related("project", "created_by").get(pk=batch_id)
    try:
        BatchProcessor(batch).run()
    except Exception as exc:
        logger.exception("upload batch %s failed", batch_id)
        # Said without server paths (an OSError's text names the file): full disk, read-only
        # media folder. What was stored is kept; a retry continues after it.
        message = (
            f"the server's file storage failed ({exc.strerror or type(exc).__name__}). What was "
            "imported so far is kept; retry once the storage is fixed."
            if isinstance(exc, OSError)
            else "An unexpected error stopped it."
        )
        with transaction.atomic():
            UploadBatch.objects.filter(pk=batch_id).update(
                status=UploadBatch.Status.FAILED,
                error=f"Processing stopped: {message}",
                finished_at=timezone.now(),
            )
            log_action(None, "upload.fail", batch, payload={"error": message})
        raise
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == UploadBatch.Status.DONE:
            return batch
        batch.status = UploadBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.total = max(batch.total, batch.processed)
        batch.save(update_fields=["status", "finished_at", "total"])
        log_action(
            None,
            "upload.finish",
            batch,
            payload={
                "imported": batch.imported,
                "duplicates": batch.duplicates,
                "rejected": batch.rejected,
                "tags": batch.tags_created,
            },
        )
        if batch.target_set == DocumentSet.PRODUCTION and batch.imported:
            from classifiers.production import request_classification

            request_classification(batch.project, "new_items")
    discard_received(batch)
    if batch.project.is_trainable and batch.target_set == DocumentSet.TEST and batch.imported:
        # New test items of a trainable classifier are scored by its latest version for review.
        version = batch.project.model_versions.order_by("-number").first()
        if version is not None:
            from classifiers.tasks import enqueue

            enqueue("classifiers.tasks.score_test_items", version.pk)
    return batch


def discard_received(batch: UploadBatch) -> None:
    """Received files go once processed (documents keep their own originals); tabular and
    Azure sources are kept as the batch's record."""
    if batch.source != UploadBatch.Source.FILES:
        return
    for entry in batch.received:
        if entry.get("path"):
            try:
                default_storage.delete(entry["path"])
            except OSError:
                logger.warning("could not delete %s", entry["path"])
