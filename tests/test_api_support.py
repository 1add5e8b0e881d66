"""Helpers for the API, serving and deployment tests: real small model versions made in a
fraction of a second (the engine trains once per kind and seed per test session; each test
writes the artifact into its own MEDIA_ROOT and records a ModelVersion row by hand), tokens,
and JSON requests. The checks at the bottom keep the helpers honest."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

from django.conf import settings

from classifiers import ml
from classifiers.actions.deployments import do_create_token, do_deploy
from classifiers.models import ApiToken, Deployment, ModelVersion, Project
from tests.training_data import WORDS, make_text

CLASSES = ("finance", "sport", "tech")


@functools.lru_cache(maxsize=16)
def trained(kind: str, seed: int = 0) -> ml.TrainedModel:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(90):
        name = CLASSES[i % 3]
        texts.append(make_text(rng, name, n=14))
        if kind == ml.KIND_MULTI:
            labels.append([name] if i % 5 else [name, CLASSES[(i + 1) % 3]])
        elif kind == ml.KIND_BINARY:
            labels.append("match" if name == "finance" else "not_match")
        else:
            labels.append(name)
    classes = ["match", "not_match"] if kind == ml.KIND_BINARY else list(CLASSES)
    config = ml.TrainingConfig(seed=seed, select_candidates=False, n_jobs=1, min_df=1)
    return ml.train(texts, labels, kind, classes, config)


def make_version(project: Project, *, seed: int = 0, number: int | None = None) -> ModelVersion:
    """A real, loadable model version of the project's kind."""
    model = trained(project.kind, seed)
    number = number or (ModelVersion.objects.filter(project=project).count() + 1)
    folder = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/models"
    path = folder / f"test-{number}.model"
    sha = ml.save_model(model, path)
    metrics = {"macro": {"f1": 0.9}, "micro": {"f1": 0.91}}
    if project.kind == Project.Kind.TRAINABLE:
        metrics = {"per_class": {"match": {"precision": 0.9, "recall": 0.8, "f1": 0.85}}, "accuracy": 0.9}
    return ModelVersion.objects.create(
        project=project,
        number=number,
        kind=project.kind,
        classes=list(model.classes),
        artifact=str(path.relative_to(settings.MEDIA_ROOT)),
        artifact_sha256=sha,
        artifact_size=path.stat().st_size,
        metrics=metrics,
        test_size=30,
        threshold=getattr(model, "threshold", None),
        close_match_lower=getattr(model, "close_match_lower", None),
    )


def deploy(
    actor, project: Project, slot: str = "production", version: ModelVersion | None = None
) -> Deployment:
    return do_deploy(actor, project, slot, version or make_version(project))


def make_token(actor, project: Project, scopes=("classify",), name: str = "app") -> tuple[ApiToken, str]:
    return do_create_token(actor, project, name, list(scopes))


def bearer(plain: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def post_json(client, url: str, body, plain: str | None = None, **extra):
    headers = bearer(plain) if plain else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **headers, **extra)


def classify_url(project: Project, slot: str = "production") -> str:
    return f"/api/v1/projects/{project.slug}/deployments/{slot}/classify"


def docs(n: int, cls: str = "sport", seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": str(i), "text": make_text(rng, cls, n=20)} for i in range(n)]


# --- The helpers themselves ----------------------------------------------------------------------
def test_every_kind_trains_and_predicts():
    for kind in (ml.KIND_SINGLE, ml.KIND_MULTI, ml.KIND_BINARY):
        model = trained(kind)
        assert len(model.predict_scores(["invoice payment budget"])) == 1
    assert trained(ml.KIND_SINGLE).predict([" ".join(WORDS["sport"].split()[:6])]) == ["sport"]


def test_make_version_is_loadable(project):
    from classifiers.analysis import load_version_model

    version = make_version(project)
    assert load_version_model(version).classes == list(CLASSES)


class Api:
    """A project with a deployed version and a token, and a client that speaks JSON."""

    def __init__(self, project: Project, admin, scopes=("classify",)) -> None:
        from django.test import Client

        self.project = project
        self.admin = admin
        self.version = make_version(project)
        do_deploy(admin, project, "production", self.version)
        self.token, self.plain = make_token(admin, project, scopes)
        self.client = Client()

    def post(self, url: str, body, plain: str | None = None, **extra):
        return post_json(self.client, url, body, plain or self.plain, **extra)

    def get(self, url: str, plain: str | None = None, **extra):
        return self.client.get(url, **bearer(plain or self.plain), **extra)

    def classify(self, body, slot: str = "production", **extra):
        return self.post(classify_url(self.project, slot), body, **extra)


def assert_error(response, status: int, code: str | None = None, target: str | None = None) -> dict:
    """Every API failure has one JSON shape."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    if target is not None:
        assert body["error"].get("target") == target, body
    return body["error"]
