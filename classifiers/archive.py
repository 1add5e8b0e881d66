"""A project archive: one zip that moves a project, with its files, between studios.

``write_archive(project, path)`` writes ``manifest.json`` (format version, studio and
library versions, row counts, SHA-256 and size of every member), one JSON-lines file per
model under ``data/`` and the project's files under ``media/`` (document originals and
thumbnails, model artifacts and their training-snapshot sidecars).

``read_archive(path)`` imports it into the current database as a new project, in one
transaction: every member's SHA-256 is checked against the manifest before anything is
written, and a refused or failed import leaves no rows and no files behind.

Rows refer to each other by their old ids in the archive; the import keeps old id -> new id
maps and rewires every foreign key (and the ids kept inside JSON: schema versions' class
ids, comparisons' disagreements, the snapshot sidecars' document ids). Users are written by
username, site-wide labels by name, model versions keep their numbers. Rows are read and
written in chunks (keyset by id), so a large project never sits in memory; only the id maps do.

What is carried: the project and its settings, memberships, classes, schema versions,
documents, tags, finished training runs, model versions (artifacts included), predictions,
reviews, feedback (withdrawn answers too), deployments and their history, classifications,
labels, label policies and applied labels, version comparisons. What is not: API tokens
(secrets belong to one studio: make new ones), the API call log and async classify jobs,
upload batches and export jobs (documents keep their content but lose their batch link),
work in progress (tagging leases, assignments, the tagging history used by undo, active or
queued training runs, classification runs) and version analyses (recomputed per version by
the ``analyse_model_version`` task). The audit log stays in the studio that wrote it; the
import adds one ``project.restore`` entry.

Model artifacts are Python pickles: restoring an archive runs its models, so restore only
archives you made or trust (the SHA-256 checks catch damage, not a forged archive).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from classifiers.models import (
    AppliedLabel,
    Class,
    Classification,
    Deployment,
    DeploymentEvent,
    Document,
    Feedback,
    Label,
    LabelPolicy,
    Membership,
    ModelVersion,
    Prediction,
    Project,
    Review,
    SchemaVersion,
    Tag,
    TrainingRun,
    UploadBatch,
    VersionComparison,
)
from studio.audit import log_action

FORMAT = "classifier-studio-project-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 500
COPY_BLOCK = 1 << 20


class ArchiveError(Exception):
    """The archive cannot be written or read; the message says why (nothing was changed)."""


# --- What goes in, in import order -----------------------------------------------------------
@dataclass(frozen=True)
class Part:
    name: str  # data/<name>.jsonl
    model: type[models.Model]
    rows: Callable[[Project], models.QuerySet]
    # Fields written under another form, or not at all, for this model only.
    special: dict[str, str] = field(default_factory=dict)


def _project_rows(project: Project) -> models.QuerySet:
    return Project.objects.filter(pk=project.pk)


def _labels_of(project: Project) -> models.QuerySet:
    return Label.objects.filter(policies__project=project).distinct()


PARTS: tuple[Part, ...] = (
    Part("project", Project, _project_rows, {"slug": "skip"}),
    Part("memberships", Membership, lambda p: Membership.objects.filter(project=p)),
    Part("classes", Class, lambda p: Class.objects.filter(project=p)),
    Part("schema_versions", SchemaVersion, lambda p: SchemaVersion.objects.filter(project=p)),
    Part("documents", Document, lambda p: Document.objects.filter(project=p)),
    Part("tags", Tag, lambda p: Tag.objects.filter(project=p)),
    Part(
        "training_runs",
        TrainingRun,
        lambda p: TrainingRun.objects.filter(project=p).exclude(state__in=TrainingRun.ACTIVE),
    ),
    Part("model_versions", ModelVersion, lambda p: ModelVersion.objects.filter(project=p)),
    Part("predictions", Prediction, lambda p: Prediction.objects.filter(project=p)),
    Part("reviews", Review, lambda p: Review.objects.filter(project=p)),
    Part("labels", Label, _labels_of),
    Part("label_policies", LabelPolicy, lambda p: LabelPolicy.objects.filter(project=p)),
    Part("deployments", Deployment, lambda p: Deployment.objects.filter(project=p)),
    Part("deployment_events", DeploymentEvent, lambda p: DeploymentEvent.objects.filter(project=p)),
    Part("classifications", Classification, lambda p: Classification.objects.filter(project=p)),
    Part("applied_labels", AppliedLabel, lambda p: AppliedLabel.objects.filter(project=p)),
    Part(
        "feedback",
        Feedback,
        lambda p: Feedback.objects.filter(project=p),
        {"suggested_project": "project_slug", "suggested_document": "foreign_document"},
    ),
    Part("comparisons", VersionComparison, lambda p: VersionComparison.objects.filter(project=p)),
)

# Foreign keys by the model they point at: which old id -> new id map rewires them.
REFS: dict[type[models.Model], str] = {
    Document: "document",
    Class: "class",
    ModelVersion: "version",
    TrainingRun: "run",
    Label: "label",
    LabelPolicy: "policy",
}
DROPPED = {UploadBatch}  # documents lose their upload batch (batches are not carried)


def _user_model() -> type[models.Model]:
    return get_user_model()


def _fk_kind(part: Part, f: models.Field) -> str:
    if f.name in part.special:
        return part.special[f.name]
    target = f.related_model
    if target is Project:
        return "project"  # the project being archived: set to the new one
    if target is _user_model():
        return "user"
    if target in DROPPED:
        return "skip"
    if target in REFS:
        return REFS[target]
    # A new foreign key nobody decided about: better refuse than lose it quietly.
    raise ArchiveError(
        f"{part.model.__name__}.{f.name} points at {target.__name__}, which archives do not carry."
    )


def _fields(part: Part) -> list[models.Field]:
    return [f for f in part.model._meta.concrete_fields if not f.primary_key]


def _encode(f: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(f, models.DateTimeField | models.DateField | models.TimeField):
        return value.isoformat()
    if isinstance(f, models.UUIDField):
        return str(value)
    return value


def _decode(f: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(f, models.DateTimeField | models.DateField | models.TimeField | models.UUIDField):
        return f.to_python(value)
    return value


def _auto_times(model: type[models.Model]) -> list[str]:
    """Fields Django stamps on insert (auto_now / auto_now_add): written back after it."""
    return [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(COPY_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _relative(project_id: int, name: str) -> str:
    """A stored file's path inside its project's folder ("originals/ab/abcd...")."""
    prefix = f"projects/{project_id}/"
    if name.startswith(prefix):
        return name[len(prefix) :]
    return f"restored/{PurePosixPath(name).name}"


def _safe_relative(rel: str) -> str:
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts) or "\\" in rel:
        raise ArchiveError(f"The archive names a file outside the project's folder: {rel!r}.")
    return str(path)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import django

    from classifiers.training import library_versions

    try:
        studio = version("classifier-studio")
    except PackageNotFoundError:
        studio = "unknown"
    return {"studio": studio, "django": django.get_version(), **library_versions()}


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in ("classifiers", "studio") and name > latest.get(app, ""):
            latest[app] = name
    return latest


# --- Writing ----------------------------------------------------------------------------------
class _HashingWriter(io.RawIOBase):
    """A zip member being written, hashed on the way."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


class _Writer:
    def __init__(self, project: Project, zf: zipfile.ZipFile) -> None:
        self.project = project
        self.zf = zf
        self.members: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}
        self.usernames: dict[int, str] = {}
        self.media: dict[str, str] = {}  # storage name -> member name
        self.pending: list[tuple[Path, str]] = []
        # Ids written so far, by kind: a row pointing at one that is not (added while the
        # archive was being written) is left out, so the archive is always whole.
        self.exported: dict[str, set[int]] = {kind: set() for kind in REFS.values()}

    def username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.usernames:
            self.usernames[user_id] = _user_model().objects.get(pk=user_id).get_username()
        return self.usernames[user_id]

    def _prefetch_users(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self.usernames]
        User = _user_model()
        for pk, name in User.objects.filter(pk__in=missing).values_list("pk", User.USERNAME_FIELD):
            self.usernames[pk] = name

    def write_lines(self, name: str, rows: Iterator[dict[str, Any]]) -> int:
        count = 0
        with self.zf.open(name, "w", force_zip64=True) as raw:
            out = _HashingWriter(raw)
            for row in rows:
                out.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
                count += 1
        self.members[name] = {"sha256": out.digest.hexdigest(), "size": out.size}
        return count

    def write_file(self, storage_name: str) -> str:
        """The member name of a stored file; it is copied in after the current JSON-lines
        member closes (a zip takes one member at a time), once however many rows use it."""
        if storage_name in self.media:
            return self.media[storage_name]
        source = Path(settings.MEDIA_ROOT) / storage_name
        if not source.is_file():
            raise ArchiveError(
                f"The file {storage_name} is missing from the media folder: no archive was written."
            )
        member = "media/" + _relative(self.project.pk, storage_name)
        if member in self.media.values():  # two names outside the folder with one file name
            member = f"media/restored/{len(self.media)}-{PurePosixPath(storage_name).name}"
        self.media[storage_name] = member
        self.pending.append((source, member))
        return member

    def flush_files(self) -> None:
        for source, member in self.pending:
            with open(source, "rb") as src, self.zf.open(member, "w", force_zip64=True) as raw:
                out = _HashingWriter(raw)
                for block in iter(lambda src=src: src.read(COPY_BLOCK), b""):
                    out.write(block)
            self.members[member] = {"sha256": out.digest.hexdigest(), "size": out.size}
        self.pending = []

    def rows(self, part: Part) -> Iterator[dict[str, Any]]:
        fields = _fields(part)
        kinds = {f.name: _fk_kind(part, f) for f in fields if f.is_relation}
        user_fields = [f.attname for f in fields if kinds.get(f.name) == "user"]
        last = None
        while True:
            qs = part.rows(self.project).order_by("pk")
            if last is not None:
                qs = qs.filter(pk__gt=last)
            chunk = list(qs[:CHUNK])
            if not chunk:
                return
            self._prefetch_users({getattr(o, a) for o in chunk for a in user_fields} - {None})
            ref = REFS.get(part.model)
            for obj in chunk:
                row = self.row(part, obj, fields, kinds)
                if row is None:
                    continue
                if ref is not None:
                    self.exported[ref].add(obj.pk)
                yield row
            last = chunk[-1].pk

    def row(
        self, part: Part, obj: models.Model, fields: list[models.Field], kinds: dict[str, str]
    ) -> dict[str, Any] | None:
        row: dict[str, Any] = {"id": obj.pk}
        for f in fields:
            kind = kinds.get(f.name)
            if kind in ("skip", "project") or part.special.get(f.name) == "skip":
                continue
            value = getattr(obj, f.attname)
            if kind == "user":
                row[f.name] = self.username(value)
            elif kind == "project_slug":
                row[f.name] = obj.suggested_project.slug if value is not None else None
            elif kind == "foreign_document":
                doc = obj.suggested_document if value is not None else None
                row[f.name] = (
                    {"text_hash": doc.text_hash, "sha256": doc.sha256, "set": doc.set} if doc else None
                )
            elif kind is not None:
                if value is not None and value not in self.exported[kind]:
                    if not f.null:
                        return None
                    value = None
                row[f.name] = value  # old id, rewired on import
            elif isinstance(f, models.FileField):
                name = value.name if value else ""
                row[f.name] = self.write_file(name) if name else ""
            else:
                row[f.name] = _encode(f, value)
        if isinstance(obj, ModelVersion):
            row["artifact"] = self.write_file(obj.artifact) if obj.artifact else ""
            sidecar = obj.snapshot.get("file") if isinstance(obj.snapshot, dict) else None
            if sidecar:
                row["snapshot"] = {**obj.snapshot, "file": self.write_file(sidecar)}
        return row


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the project while it is read, on PostgreSQL (a read-only
    REPEATABLE READ transaction). On SQLite a transaction would hold the write lock for the
    whole export (transaction_mode IMMEDIATE): it reads without one; rows added meanwhile
    are left out when what they point at was not written (see _Writer.exported)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def write_archive(project: Project, path: str | os.PathLike, *, actor: Any = None) -> dict[str, Any]:
    """Write ``project`` to one zip at ``path`` (through a temp file: no half archive is left
    behind on error). Returns the manifest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            writer = _Writer(project, zf)
            with _snapshot():
                for part in PARTS:
                    writer.counts[part.name] = writer.write_lines(
                        f"data/{part.name}.jsonl", writer.rows(part)
                    )
                    writer.flush_files()
                User = _user_model()
                users = (
                    {
                        "username": name,
                        "email": getattr(u, "email", "") or "",
                        "first_name": getattr(u, "first_name", "") or "",
                        "last_name": getattr(u, "last_name", "") or "",
                    }
                    for name in sorted(set(writer.usernames.values()))
                    for u in [User.objects.get(**{User.USERNAME_FIELD: name})]
                )
                writer.counts["users"] = writer.write_lines("data/users.jsonl", users)
                migrations = _latest_migrations()
            writer.counts["files"] = len(writer.media)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": timezone.now().isoformat(),
                "project": {"name": project.name, "slug": project.slug, "kind": project.kind},
                "versions": versions(),
                "migrations": migrations,
                "counts": writer.counts,
                "members": writer.members,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        log_action(
            actor,
            "project.archive",
            project,
            payload={"file": path.name, "sha256": _sha256_file(path), "counts": manifest["counts"]},
        )
    return manifest


# --- Reading ----------------------------------------------------------------------------------
def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"No archive at {path}.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{path.name} is not a readable zip (truncated or damaged?): {exc}") from None


def verify(zf: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, once every member matches it (names, sizes, SHA-256) and its format
    and migrations are ones this studio reads."""
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise ArchiveError("This zip has no manifest.json: it is not a project archive.") from None
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"The archive's manifest is damaged: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("This zip is not a Classifier Studio project archive.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            f"The archive has format version {manifest.get('format_version')!r}; this studio reads "
            f"version {FORMAT_VERSION} only (written by studio {manifest.get('versions', {}).get('studio')})."
        )
    known = _latest_migrations()
    recorder = {(a, n) for a, n in MigrationRecorder(connection).applied_migrations()}
    for app, name in (manifest.get("migrations") or {}).items():
        if (app, name) not in recorder:
            raise ArchiveError(
                f"The archive comes from a newer studio ({app} migration {name}; this database is at "
                f"{known.get(app, 'none')}): upgrade this studio first."
            )
    members = manifest.get("members")
    if not isinstance(members, dict):
        raise ArchiveError("The archive's manifest lists no members.")
    names = set(zf.namelist()) - {MANIFEST}
    if names != set(members):
        extra, missing = sorted(names - set(members)), sorted(set(members) - names)
        raise ArchiveError(
            f"The archive's members do not match its manifest (missing: {missing[:5]}, unlisted: {extra[:5]})."
        )
    for name, expected in sorted(members.items()):
        digest = hashlib.sha256()
        size = 0
        try:
            with zf.open(name) as f:
                for block in iter(lambda f=f: f.read(COPY_BLOCK), b""):
                    digest.update(block)
                    size += len(block)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"The archive member {name} is damaged: {exc}") from None
        if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
            raise ArchiveError(
                f"The archive member {name} does not match its SHA-256 in the manifest: refused."
            )
    return manifest


def _lines(zf: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with zf.open(name) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, manifest: dict, staging: Path, user_map: dict[str, str]) -> None:
        self.zf = zf
        self.manifest = manifest
        self.staging = staging
        self.user_map = user_map
        self.maps: dict[str, dict[int, int]] = {kind: {} for kind in REFS.values()}
        self.users: dict[str, Any] = {}
        self.created_users: list[str] = []
        self.project: Project | None = None
        self.old_project_id: int | None = None
        self.files: dict[str, str] = {}  # member -> new storage name
        self.staged: dict[str, Path] = {}  # new storage name -> staged file
        self.moved: list[Path] = []
        self.sidecars: dict[str, dict[str, Any]] = {}  # member -> rewritten sidecar info

    # Users -------------------------------------------------------------------------------
    def read_users(self) -> None:
        User = _user_model()
        field_name = User.USERNAME_FIELD
        for row in _lines(self.zf, "data/users.jsonl"):
            name = row["username"]
            target = self.user_map.get(name)
            if target is not None:
                user = User.objects.filter(**{field_name: target}).first()
                if user is None:
                    raise ArchiveError(f"--map-user {name}={target}: there is no user {target!r} here.")
            else:
                user = User.objects.filter(**{field_name: name}).first()
                if user is None:
                    # Not in this studio: an inactive account nobody can sign in to until an
                    # operator activates it and sets a password (the history keeps its name).
                    user = User(**{field_name: name})
                    for attr in ("email", "first_name", "last_name"):
                        if hasattr(user, attr):
                            setattr(user, attr, row.get(attr, ""))
                    user.is_active = False
                    user.set_unusable_password()
                    user.save()
                    self.created_users.append(name)
            self.users[name] = user

    def user_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        if name not in self.users:
            raise ArchiveError(f"The archive refers to user {name!r}, who is not in its users list.")
        return self.users[name].pk

    # Files -------------------------------------------------------------------------------
    def file_name(self, member: str) -> str:
        """The new storage name of an archive member (the file is staged, moved on success)."""
        if member in self.files:
            return self.files[member]
        if not member.startswith("media/") or member not in self.manifest["members"]:
            raise ArchiveError(f"The archive refers to a file it does not hold: {member!r}.")
        rel = _safe_relative(member[len("media/") :])
        name = f"projects/{self.project.pk}/{rel}"
        staged = self.staging / f"{len(self.staged)}"
        with self.zf.open(member) as src, open(staged, "wb") as dst:
            shutil.copyfileobj(src, dst, COPY_BLOCK)
        self.files[member] = name
        self.staged[name] = staged
        return name

    def sidecar(self, member: str) -> dict[str, Any]:
        """The snapshot sidecar with its document ids rewired (written as a new file)."""
        if member in self.sidecars:
            return self.sidecars[member]
        name = self.file_name(member)
        data = self.staged[name].read_bytes()
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        info: dict[str, Any] = {"name": name, "old_sha256": hashlib.sha256(data).hexdigest(), "payload": None}
        if isinstance(payload, dict):
            docs = self.maps["document"]
            new = {}
            for key, value in payload.items():
                if key.endswith("_ids") and isinstance(value, list):
                    value = [docs[i] for i in value if i in docs]
                elif key == "reviewed" and isinstance(value, list):
                    value = [[docs[i], m] for i, m in value if i in docs]
                new[key] = value
            data = json.dumps(new).encode()
            self.staged[name].write_bytes(data)
            info["payload"] = payload
            info["new_payload"] = new
        info["sha256"] = hashlib.sha256(data).hexdigest()
        self.sidecars[member] = info
        return info

    def move_files(self) -> None:
        root = Path(settings.MEDIA_ROOT)
        for name, staged in self.staged.items():
            target = root / name
            if target.exists():
                raise ArchiveError(f"{name} already exists in the media folder: refusing to overwrite it.")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            self.moved.append(target)

    def remove_moved(self) -> None:
        for target in self.moved:
            target.unlink(missing_ok=True)
        if self.project is not None and self.project.pk is not None:
            folder = Path(settings.MEDIA_ROOT) / f"projects/{self.project.pk}"
            # Only folders we emptied: a file someone else put there stays.
            for sub in (
                sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True) if folder.exists() else []
            ):
                if sub.is_dir():
                    with contextlib.suppress(OSError):
                        sub.rmdir()
            with contextlib.suppress(OSError):
                folder.rmdir()

    # Rows --------------------------------------------------------------------------------
    def build(self, part: Part, row: dict[str, Any], fields: list[models.Field], kinds: dict[str, str]):
        values: dict[str, Any] = {}
        for f in fields:
            kind = kinds.get(f.name)
            if kind == "project":
                values[f.attname] = self.project.pk
                continue
            if kind == "skip" or part.special.get(f.name) == "skip" or f.name not in row:
                continue
            value = row[f.name]
            if kind == "user":
                values[f.attname] = self.user_id(value)
            elif kind == "project_slug":
                values[f.attname] = (
                    Project.objects.filter(slug=value).values_list("pk", flat=True).first() if value else None
                )
            elif kind == "foreign_document":
                values[f.attname] = None  # resolved below, once the project is known
                if value and values.get("suggested_project_id"):
                    values[f.attname] = (
                        Document.objects.filter(
                            project=values["suggested_project_id"],
                            text_hash=value["text_hash"],
                            sha256=value["sha256"],
                        )
                        .order_by("id")
                        .values_list("pk", flat=True)
                        .first()
                    )
            elif kind is not None:
                if value is None:
                    values[f.attname] = None
                elif value in self.maps[kind]:
                    values[f.attname] = self.maps[kind][value]
                elif f.null:
                    values[f.attname] = None  # pointed at a row the archive does not carry
                else:
                    raise ArchiveError(
                        f"{part.model.__name__} {row.get('id')} refers to {kind} {value}, missing from the archive."
                    )
            elif isinstance(f, models.FileField):
                values[f.attname] = self.file_name(value) if value else ""
            else:
                values[f.attname] = _decode(f, value)
        return values

    def import_part(self, part: Part) -> int:
        fields = _fields(part)
        kinds = {f.name: _fk_kind(part, f) for f in fields if f.is_relation}
        times = _auto_times(part.model)
        ref = REFS.get(part.model)
        count = 0
        for chunk in _chunks(_lines(self.zf, f"data/{part.name}.jsonl")):
            objs = []
            for row in chunk:
                values = self.build(part, row, fields, kinds)
                values = self.adjust(part, row, values)
                objs.append(part.model(**values))
            if part.model is Label:
                objs = self.labels(objs)
            else:
                # ModelVersion too: bulk_create inserts every field at once (its save() would
                # refuse any later change: versions are immutable).
                part.model.objects.bulk_create(objs)
                if times:
                    # Django stamps auto_now(_add) fields on insert: put the archived times back.
                    for obj, row in zip(objs, chunk, strict=True):
                        for attname in times:
                            name = part.model._meta.get_field(attname).name
                            setattr(obj, attname, _decode(part.model._meta.get_field(attname), row[name]))
                    part.model.objects.bulk_update(objs, times)
            if ref is not None:
                for obj, row in zip(objs, chunk, strict=True):
                    self.maps[ref][row["id"]] = obj.pk
            count += len(chunk)
        expected = self.manifest["counts"].get(part.name)
        if expected != count:
            raise ArchiveError(f"data/{part.name}.jsonl holds {count} rows; the manifest says {expected}.")
        return count

    def labels(self, objs: list[Label]) -> list[Label]:
        """Labels are site-wide: one of the same name here is reused (left as it is)."""
        out = []
        for obj in objs:
            existing = Label.objects.filter(name__iexact=obj.name).first()
            if existing is None:
                when = obj.created_at
                obj.save()
                Label.objects.filter(pk=obj.pk).update(created_at=when)
                existing = obj
            out.append(existing)
        return out

    def adjust(self, part: Part, row: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        if part.model is SchemaVersion:
            classes = self.maps["class"]
            values["classes"] = [
                {**entry, "id": classes.get(entry.get("id"))} if isinstance(entry, dict) else entry
                for entry in values.get("classes") or []
            ]
        elif part.model is VersionComparison:
            docs = self.maps["document"]
            values["disagreements"] = [
                {**d, "document_id": docs.get(d.get("document_id"))} if isinstance(d, dict) else d
                for d in values.get("disagreements") or []
            ]
        elif part.model is ModelVersion:
            values["artifact"] = self.file_name(row["artifact"]) if row.get("artifact") else ""
            snapshot = values.get("snapshot")
            if isinstance(snapshot, dict) and snapshot.get("file"):
                values["snapshot"] = self.version_snapshot(values, snapshot)
        return values

    def version_snapshot(self, values: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
        info = self.sidecar(snapshot["file"])
        new = {**snapshot, "file": info["name"]}
        if snapshot.get("file_sha256") != info["old_sha256"] or info["payload"] is None:
            return new  # altered before it was archived: it stays as untrustworthy as it was
        new["file_sha256"] = info["sha256"]
        old_digest = snapshot.get("tags_sha256")
        if values.get("kind") == Project.Kind.TRAINABLE:
            keys = (
                "positive_ids",
                "negative_ids",
                "background_ids",
                "tagged_positive_ids",
                "feedback_ids",
                "reviewed",
            )
            if all(k in info["payload"] for k in keys):

                def digest(payload: dict) -> str:
                    return hashlib.sha256(
                        json.dumps({k: payload[k] for k in keys}, sort_keys=True).encode()
                    ).hexdigest()

                if digest(info["payload"]) == old_digest:
                    new["tags_sha256"] = digest(info["new_payload"])
            return new
        # Single- and multi-label: the hash of ids with their labels (classifiers.training).
        # Recomputed with the new ids when the restored tags still give the archived hash.
        labels = self.final_labels()
        docs = self.maps["document"]
        classes = set(values.get("classes") or [])
        multi = values.get("kind") == Project.Kind.MULTI_LABEL

        def lines(payload: dict, lookup: Callable[[int], int | None]) -> str:
            digest = hashlib.sha256()
            for part in ("train", "test"):
                for doc_id in payload.get(f"{part}_ids", []):
                    names = [n for n in labels.get(lookup(doc_id), []) if n in classes]
                    label: Any = names if multi else (names[0] if names else None)
                    digest.update(f"{part}:{doc_id}:{json.dumps(label, sort_keys=True)}\n".encode())
            return digest.hexdigest()

        if lines(info["payload"], docs.get) == old_digest:
            new["tags_sha256"] = lines(info["new_payload"], lambda i: i)
        return new

    def final_labels(self) -> dict[int, list[str]]:
        if not hasattr(self, "_final_labels"):
            from classifiers.labels import final_labels

            self._final_labels = final_labels(self.project)
        return self._final_labels

    def create_project(self, name: str, slug_hint: str) -> Project:
        from classifiers.actions.projects import _unique_slug

        rows = list(_lines(self.zf, "data/project.jsonl"))
        if len(rows) != 1:
            raise ArchiveError("The archive holds no project (data/project.jsonl is empty).")
        row = rows[0]
        self.old_project_id = row["id"]
        part = PARTS[0]
        fields = [f for f in _fields(part) if f.name != "slug"]
        kinds = {f.name: _fk_kind(part, f) for f in fields if f.is_relation}
        values = self.build(part, row, fields, kinds)
        values["name"] = name
        project = Project(**values)
        project.slug = (
            slug_hint if not Project.objects.filter(slug=slug_hint).exists() else _unique_slug(name)
        )
        project.full_clean(exclude=["slug"])
        project.save()
        Project.objects.filter(pk=project.pk).update(
            created_at=_decode(Project._meta.get_field("created_at"), row["created_at"]),
            updated_at=_decode(Project._meta.get_field("updated_at"), row["updated_at"]),
        )
        project.refresh_from_db()
        self.project = project
        return project


def read_archive(
    path: str | os.PathLike,
    *,
    as_name: str | None = None,
    actor: Any = None,
    user_map: dict[str, str] | None = None,
) -> Project:
    """Import the archive at ``path`` as a new project (named ``as_name`` when given). All or
    nothing: a refusal or an error leaves no rows and no files. Returns the new project."""
    from django.core.exceptions import ValidationError

    path = Path(path)
    with _open_zip(path) as zf:
        manifest = verify(zf)
        name = (as_name or manifest.get("project", {}).get("name") or "").strip()
        if as_name is not None:
            from classifiers.models import validate_project_name

            try:
                validate_project_name(name)
            except ValidationError as exc:
                raise ArchiveError(" ".join(exc.messages)) from None
        if Project.objects.filter(name__iexact=name).exists():
            raise ArchiveError(
                f"A project named “{name}” already exists here: restore it under another name (--as NAME)."
            )
        media = Path(settings.MEDIA_ROOT)
        staging = media / ".incoming" / f"restore-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        reader = _Reader(zf, manifest, staging, user_map or {})
        try:
            with transaction.atomic():
                reader.read_users()
                project = reader.create_project(name, manifest.get("project", {}).get("slug") or "")
                counts = {}
                for part in PARTS[1:]:
                    counts[part.name] = reader.import_part(part)
                reader.move_files()
                log_action(
                    actor,
                    "project.restore",
                    project,
                    payload={
                        "archive": path.name,
                        "archive_sha256": _sha256_file(path),
                        "from": manifest.get("project"),
                        "written_by": manifest.get("versions"),
                        "counts": counts,
                        "files": len(reader.staged),
                        "users_created": reader.created_users,
                    },
                )
        except IntegrityError as exc:
            reader.remove_moved()
            raise ArchiveError(
                f"The archive's rows clash with this database ({exc}); nothing was imported."
            ) from None
        except BaseException:
            reader.remove_moved()
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                staging.parent.rmdir()  # when no other restore is using it
    project.restore_info = {  # type: ignore[attr-defined]
        "users_created": reader.created_users,
        "written_by": manifest.get("versions", {}),
        "python": platform.python_version(),
    }
    return project
