"""A canonical JSON of one project, with database ids replaced by natural keys, so a project
and its restored copy (in another database, under other ids) compare field by field.

Used in-process for the original and by ``manage.py shell`` against the fresh database of
tests/test_archive_roundtrip.py: ``from tests.archive_canon import dump; dump(slug, path)``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from classifiers.models import (
    Class,
    Document,
    Label,
    LabelPolicy,
    ModelVersion,
    Project,
    SchemaVersion,
    TrainingRun,
    UploadBatch,
    VersionComparison,
)

# Every model an archive carries, and its rows in one project.
MODELS = [
    "Membership", "Class", "SchemaVersion", "Document", "Tag", "TrainingRun", "ModelVersion",
    "Prediction", "Review", "LabelPolicy", "Deployment", "DeploymentEvent", "Classification",
    "AppliedLabel", "Feedback", "VersionComparison",
]  # fmt: skip
# Fields that differ by design: ids, the project (the restored one), the upload batch (not
# carried), the slug (may be taken), and the name (restored under --as).
PROJECT_SKIP = {"id", "slug"}


def _file(name: str) -> dict[str, Any] | str:
    if not name:
        return ""
    path = Path(settings.MEDIA_ROOT) / name
    parts = name.split("/")
    rel = "/".join(parts[2:]) if parts[0] == "projects" else name
    return {"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None}


class Canon:
    def __init__(self, project: Project) -> None:
        self.project = project
        User = get_user_model()
        self.users = dict(User.objects.values_list("pk", User.USERNAME_FIELD))
        self.docs = {
            d.pk: f"{d.set}|{d.text_hash}|{d.sha256}|{d.filename}"
            for d in Document.objects.filter(project=project)
        }
        assert len(set(self.docs.values())) == len(self.docs), "document keys must be unique in the test data"
        self.classes = dict(Class.objects.filter(project=project).values_list("pk", "name"))
        self.versions = dict(ModelVersion.objects.filter(project=project).values_list("pk", "number"))
        self.runs = {
            r.pk: f"{r.created_at.isoformat()}|{r.reason}"
            for r in TrainingRun.objects.filter(project=project)
        }
        self.labels = dict(Label.objects.values_list("pk", "name"))
        self.policies = {
            p.pk: f"{p.label.name}|{p.class_name}" for p in LabelPolicy.objects.filter(project=project)
        }
        self.final_labels: dict[int, list[str]] | None = None

    def ref(self, f: models.Field, value: Any) -> Any:
        if value is None:
            return None
        target = f.related_model
        if target is get_user_model():
            return self.users[value]
        if target is Project:
            return Project.objects.get(pk=value).slug
        if target is Document:
            return self.docs.get(value) or "foreign:" + Document.objects.get(pk=value).text_hash
        table = {Class: self.classes, ModelVersion: self.versions, TrainingRun: self.runs,
                 Label: self.labels, LabelPolicy: self.policies}  # fmt: skip
        return table[target][value]

    def row(self, obj: models.Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in obj._meta.concrete_fields:
            if f.primary_key or f.name == "project" or f.related_model is UploadBatch:
                continue
            value = getattr(obj, f.attname)
            if f.is_relation:
                out[f.name] = self.ref(f, value)
            elif isinstance(f, models.FileField):
                out[f.name] = _file(value.name if value else "")
            elif isinstance(value, (models.Model,)):
                raise AssertionError(f.name)
            elif hasattr(value, "isoformat"):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = value
        if isinstance(obj, SchemaVersion):
            out["classes"] = [{**c, "id": self.classes.get(c["id"])} for c in obj.classes]
        elif isinstance(obj, VersionComparison):
            out["disagreements"] = [
                {**d, "document_id": self.docs.get(d["document_id"])} for d in obj.disagreements
            ]
        elif isinstance(obj, ModelVersion):
            out["artifact"] = _file(obj.artifact)
            out["snapshot"] = self.snapshot(obj)
        return out

    def snapshot(self, version: ModelVersion) -> dict[str, Any]:
        """The snapshot's own fields, plus the sidecar with document keys for ids, whether the
        sidecar matches its hash and whether the tags still give ``tags_sha256``."""
        snap = dict(version.snapshot)
        name, file_sha, tags_sha = (
            snap.pop("file", ""),
            snap.pop("file_sha256", ""),
            snap.pop("tags_sha256", ""),
        )
        if not name:
            return snap
        data = (Path(settings.MEDIA_ROOT) / name).read_bytes()
        payload = json.loads(data)
        sidecar = {}
        for key, value in payload.items():
            if key.endswith("_ids"):
                value = [self.docs[i] for i in value]
            elif key == "reviewed":
                value = [[self.docs[i], m] for i, m in value]
            sidecar[key] = value
        snap["file"] = _file(name)["path"]
        snap["file_matches_hash"] = hashlib.sha256(data).hexdigest() == file_sha
        snap["sidecar"] = sidecar
        snap["tags_hash_matches"] = tags_sha == self.tags_digest(version, payload)
        return snap

    def tags_digest(self, version: ModelVersion, payload: dict) -> str:
        if version.kind == Project.Kind.TRAINABLE:
            keys = (
                "positive_ids",
                "negative_ids",
                "background_ids",
                "tagged_positive_ids",
                "feedback_ids",
                "reviewed",
            )
            return hashlib.sha256(
                json.dumps({k: payload[k] for k in keys}, sort_keys=True).encode()
            ).hexdigest()
        from classifiers.labels import final_labels

        if self.final_labels is None:
            self.final_labels = final_labels(self.project)
        digest = hashlib.sha256()
        for part in ("train", "test"):
            for doc_id in payload[f"{part}_ids"]:
                names = [n for n in self.final_labels.get(doc_id, []) if n in version.classes]
                label: Any = names if version.kind == "multi_label" else (names[0] if names else None)
                digest.update(f"{part}:{doc_id}:{json.dumps(label, sort_keys=True)}\n".encode())
        return digest.hexdigest()

    def rows(self, model_name: str) -> list[dict[str, Any]]:
        from django.apps import apps

        model = apps.get_model("classifiers", model_name)
        rows = [self.row(o) for o in model.objects.filter(project=self.project)]
        return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))

    def project_row(self) -> dict[str, Any]:
        row = self.row(self.project)
        return {k: v for k, v in row.items() if k not in PROJECT_SKIP}


def canonical(project: Project) -> dict[str, Any]:
    canon = Canon(project)
    out: dict[str, Any] = {"project": canon.project_row()}
    for name in MODELS:
        out[name] = canon.rows(name)
    out["Label"] = sorted(
        (canon.row(label) for label in Label.objects.filter(policies__project=project).distinct()),
        key=lambda r: r["name"],
    )
    User = get_user_model()
    out["users"] = sorted(
        (u.get_username(), u.email, u.first_name, u.last_name)
        for u in User.objects.filter(pk__in=project.memberships.values("user"))
    )
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def predictions(project: Project, texts: list[str]) -> dict[str, Any]:
    """Each version's scores on ``texts``, read through the checked loader."""
    from classifiers.analysis import load_version_model

    out = {}
    for version in ModelVersion.objects.filter(project=project).order_by("number"):
        scores = load_version_model(version).predict_scores(texts)
        out[str(version.number)] = scores.tolist()
    return out


def dump(slug: str, path: str, texts: list[str] | None = None) -> None:
    project = Project.objects.get(slug=slug)
    data = {"canonical": canonical(project), "predictions": predictions(project, texts or [])}
    Path(path).write_text(json.dumps(data, sort_keys=True))
