"""Walk every URL pattern as an anonymous user and as an outsider.

Fails when any answer is a 500, or a 200 that shows the project's data. A new URL
kwarg must be given a value in URL_VALUES below, or the walk fails: nothing is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.helpers import login

# Pages that anyone may see.
PUBLIC = {"login", "home", "api_openapi"}
# The HTTP API authenticates by token, never by session: without one it answers 401 (JSON).
TOKEN_ONLY = ("api_", "azure_")


def iter_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns == "admin":
                continue  # Django's own admin: covered by the staff checks in test_admin
            yield from iter_patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


# URL kwarg -> the model whose first object in the project fills it. A view with a new
# kwarg adds it here; test_walk_fills_every_kwarg fails until it does.
KWARG_MODELS = {
    "membership_id": "Membership",
    "class_id": "Class",
    "document_id": "Document",
    "batch_id": "UploadBatch",
    "export_id": "ExportJob",
    "tag_id": "Tag",
    "run_id": "TrainingRun",
    "version_id": "ModelVersion",
    "deployment_id": "Deployment",
    "token_id": "ApiToken",
    "slot": "Deployment",
    "job_id": "ClassifyJob",
    "label_id": "Label",  # site-wide: the first label
    "policy_id": "LabelPolicy",
    "feedback_id": "Feedback",
    "comparison_id": "VersionComparison",
}


def populate(project) -> None:
    """One object of each kind in the project, so every URL has something to point at."""
    from classifiers import models as m

    admin = project.memberships.get(role="admin").user
    cls = m.Class.objects.create(project=project, name="Walk class")
    batch = m.UploadBatch.objects.create(project=project, created_by=admin)
    doc = m.Document.objects.create(
        project=project, text="walk text", text_chars=9, text_hash="0" * 64, batch=batch
    )
    m.Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=admin)
    m.ExportJob.objects.create(project=project, created_by=admin, format="jsonl")
    run = m.TrainingRun.objects.create(project=project, requested_by=admin)
    version = m.ModelVersion.objects.create(
        project=project,
        number=1,
        training_run=run,
        kind=project.kind,
        artifact="none",
        artifact_sha256="0" * 64,
    )
    from datetime import timedelta

    from django.utils import timezone

    m.Deployment.objects.create(
        project=project, name="production", model_version=version, deployed_at=timezone.now()
    )
    token = m.ApiToken.objects.create(project=project, name="walk", prefix="cs_walk", token_hash="1" * 64)
    m.ClassifyJob.objects.create(
        project=project, job_id="00000000-0000-0000-0000-00000000000a", token=token, slot="production",
        model_version=version, expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    doc.set = "production"
    doc.save(update_fields=["set"])
    m.Classification.objects.create(
        document=doc, project=project, model_version=version, outcome="predicted", labels=["Walk class"],
        classes_key="|Walk class|", score=0.9, received_at=timezone.now(), classified_at=timezone.now(),
    )  # fmt: skip
    label = m.Label.objects.create(name="Walk label")
    m.LabelPolicy.objects.create(label=label, project=project, class_name="Walk class")
    m.Feedback.objects.create(project=project, document=doc, model_version=version, user=admin, answer="match")
    m.VersionComparison.objects.create(project=project, retrained=version, published=version, state="ready")


def url_values(project) -> dict[str, object]:
    from classifiers import models as m

    values: dict[str, object] = {"slug": project.slug}
    for kwarg, model_name in KWARG_MODELS.items():
        model = getattr(m, model_name)
        scoped = any(f.name == "project" for f in model._meta.get_fields())
        obj = (model.objects.filter(project=project) if scoped else model.objects).order_by("id").first()
        if obj is not None:
            values[kwarg] = obj.pk
    return values


def build(route: str, values: dict[str, object]) -> str:
    import re

    def sub(match: re.Match) -> str:
        name = match.group(2)
        if name not in values:
            pytest.fail(f"URL kwarg <{name}> in {route!r} has no value in tests/test_url_walk.py: add one")
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def all_urls(project) -> list[tuple[str, str]]:
    values = url_values(project)
    return [(pattern.name or route, build(route, values)) for route, pattern in iter_patterns()]


@pytest.fixture
def project(project):
    populate(project)
    return project


def test_walk_covers_project_urls(project):
    names = {name for name, _ in all_urls(project)}
    assert {"project_overview", "project_settings", "member_add", "project_activity"} <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous(client, project, method):
    for name, url in all_urls(project):
        response = getattr(client, method)(url)
        assert response.status_code != 500, url
        if name in PUBLIC:
            continue
        allowed = (302, 404, 405, 401) if name.startswith(TOKEN_ONLY) else (302, 404, 405)
        assert response.status_code in allowed, f"{method} {url} -> {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider(project, other_project, outsider_user, method):
    client = login(outsider_user)
    for name, url in all_urls(project):
        response = getattr(client, method)(url)
        assert response.status_code != 500, url
        body = response.content.decode(errors="replace")
        if response.status_code == 200:
            assert project.name not in body, f"{method} {url} shows the project to an outsider"
            if name in PUBLIC and name.startswith(TOKEN_ONLY):  # JSON: "tom" is in "Custom..."
                assert not re.search(r"\b(alice|tom)\b", body), url
            else:
                assert "alice" not in body and "tom" not in body, url
        elif name not in PUBLIC:
            allowed = (302, 403, 404, 405, 401) if name.startswith(TOKEN_ONLY) else (302, 403, 404, 405)
            assert response.status_code in allowed, f"{method} {url} -> {response.status_code}"
