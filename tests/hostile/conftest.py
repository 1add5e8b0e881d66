"""The world every hostile test attacks: our project (alice is its Admin) full of objects,
a trainable project of alice's, and somebody else's project whose objects must never change.

``fingerprint(project)`` is every row that belongs to a project (all models with a
``project`` foreign key, the project itself, its audit entries), so a test can prove that a
refused request wrote nothing and that another project's objects were not touched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from classifiers import models as m
from classifiers.actions.deployments import do_deploy
from classifiers.actions.projects import do_add_member
from studio.models import AuditEntry
from tests.conftest import make_project, make_user
from tests.test_api_support import make_token, make_version
from tests.training_data import tagged_project

# Rows that a read or a refusal may legitimately write: the tagging queue leases the
# document it shows (also on a refusal's answer, which shows the next card).
VOLATILE = {"Lease"}
# Fields that using an object legitimately changes: a token used (even on a URL of another
# project, where it gets a 404) records when.
USAGE_FIELDS = {"ApiToken": ("last_used_at",)}


def _project_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if any(f.name == "project" and f.is_relation for f in model._meta.fields)
    ]


def fingerprint(project_id: int, *, skip: set[str] = frozenset()) -> dict[str, Any]:
    state: dict[str, Any] = {
        "project": list(m.Project.objects.filter(pk=project_id).values()),
    }
    for model in _project_models():
        if model.__name__ in skip:
            continue
        rows = list(model.objects.filter(project_id=project_id).order_by("pk").values())
        for row in rows:
            for name in USAGE_FIELDS.get(model.__name__, ()):
                row.pop(name, None)
        state[model.__name__] = rows
    state["AuditEntry#"] = AuditEntry.objects.filter(project_id=project_id).count()
    return state


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [key for key in before if before[key] != after.get(key)]


@dataclass
class World:
    project: m.Project
    trainable: m.Project
    other: m.Project
    admin: Any
    own: dict[str, list[int]] = field(default_factory=dict)
    forged: dict[str, list[int]] = field(default_factory=dict)
    plain: str = ""
    other_plain: str = ""
    client: Client | None = None

    @property
    def forged_ids(self) -> list[int]:
        return sorted({i for ids in self.forged.values() for i in ids})

    def ids(self, kind: str) -> list[int]:
        """Ids to put in a URL or a field meant for ``kind``: ours, forged ones, nonsense."""
        return [*self.own.get(kind, []), *self.forged.get(kind, []), *self.forged_ids[:5], 0, 2**31, 2**63]

    def snapshot(self) -> tuple[dict, dict]:
        return fingerprint(self.project.pk, skip=VOLATILE), fingerprint(self.other.pk)


def _ids(model: type, project: m.Project) -> list[int]:
    return list(model.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))


def _fill(project: m.Project, admin, tagger, *, per_class: int, seed: int) -> str:
    """Classes, tagged documents, a batch, an export, a run, a real deployed version, a
    token, an assignment and an async job. Returns the token."""
    if project.kind == m.Project.Kind.TRAINABLE:
        cls = m.Class.objects.create(project=project, name="Contract")
        for i in range(per_class * 2):
            text = f"contract agreement party clause {i}" if i % 2 else f"weather holiday lunch {i}"
            doc = m.Document.objects.create(
                project=project, text=text, text_chars=len(text), text_hash=f"t{seed}-{i}",
                set=m.DocumentSet.TEST if i % 3 == 0 else m.DocumentSet.SEED,
            )  # fmt: skip
            if doc.set == m.DocumentSet.SEED:
                m.Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=tagger)
    else:
        tagged_project(project, tagger, per_class=per_class, seed=seed)
    batch = m.UploadBatch.objects.create(project=project, created_by=admin)
    m.Document.objects.create(
        project=project, text="from a batch", text_chars=12, text_hash=f"b{seed}", batch=batch,
        filename="batch.txt",
    )  # fmt: skip
    m.ExportJob.objects.create(project=project, created_by=admin, format="jsonl")
    m.TrainingRun.objects.create(project=project, requested_by=admin)
    version = make_version(project, seed=seed)
    do_deploy(admin, project, "production", version)
    token, plain = make_token(admin, project, scopes=("classify", "read"))
    m.Assignment.objects.create(project=project, tagger=tagger, created_by=admin, description="hostile")
    m.ClassifyJob.objects.create(
        project=project, job_id=uuid.uuid4(), token=token, slot="production", model_version=version,
        expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    _production(project, admin, version, seed)
    return plain


def _production(project: m.Project, admin, version: m.ModelVersion, seed: int) -> None:
    """Classified production items with a label policy, feedback and a comparison."""
    from classifiers.production import classify_run

    for i in range(4):
        text = f"contract clause goal team invoice {seed} {i}"
        m.Document.objects.create(project=project, set=m.DocumentSet.PRODUCTION, text=text,
                                  text_chars=len(text), text_hash=f"p{seed}-{i}")  # fmt: skip
    run = m.ClassificationRun.objects.create(project=project, model_version=version)
    classify_run(run.pk)
    doc = m.Classification.objects.filter(project=project).first()
    label = m.Label.objects.create(name=f"Retain {seed}", created_by=admin)
    cls = project.classes.first()
    m.LabelPolicy.objects.create(label=label, project=project, class_name="" if project.is_trainable else cls.name)
    m.Feedback.objects.create(project=project, document_id=doc.document_id, model_version=version, user=admin,
                              answer="match", predicted=doc.labels)  # fmt: skip
    retrained = make_version(project, seed=seed + 10)
    m.VersionComparison.objects.create(
        project=project, retrained=retrained, published=version, state="ready",
        disagreements=[{"document_id": doc.document_id, "set": "feedback", "published": doc.labels,
                        "retrained": [], "truth": None}],
    )  # fmt: skip


KINDS = {
    "membership": m.Membership, "class": m.Class, "document": m.Document, "batch": m.UploadBatch,
    "export": m.ExportJob, "run": m.TrainingRun, "version": m.ModelVersion, "deployment": m.Deployment,
    "token": m.ApiToken, "assignment": m.Assignment, "tag": m.Tag, "policy": m.LabelPolicy,
    "feedback": m.Feedback, "comparison": m.VersionComparison,
}  # fmt: skip


@pytest.fixture
def world(project, admin_user, tagger_user, settings) -> World:
    settings.STUDIO_API_RATE_LIMIT = 0
    outsider = make_user("mallory", creator=True)
    other = make_project(outsider, name="Secret HR cases", kind="multi_label")
    do_add_member(outsider, other, make_user("eve"), "tagger")
    trainable = make_project(admin_user, name="Contracts finder", kind="trainable")
    do_add_member(admin_user, trainable, tagger_user, "tagger")
    plain = _fill(project, admin_user, tagger_user, per_class=4, seed=0)
    _fill(trainable, admin_user, tagger_user, per_class=6, seed=1)
    other_plain = _fill(other, outsider, outsider, per_class=3, seed=2)
    world = World(project=project, trainable=trainable, other=other, admin=admin_user, plain=plain)
    world.other_plain = other_plain
    for kind, model in KINDS.items():
        world.own[kind] = _ids(model, project) + _ids(model, trainable)
        world.forged[kind] = _ids(model, other)
    # Labels are site-wide: alice's own, and mallory's (which alice may use but not change).
    world.own["label"] = list(m.Label.objects.filter(created_by=admin_user).values_list("pk", flat=True))
    world.forged["label"] = list(m.Label.objects.filter(created_by=outsider).values_list("pk", flat=True))
    client = Client()
    client.force_login(admin_user)
    world.client = client
    return world
