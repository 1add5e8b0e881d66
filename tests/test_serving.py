"""classifiers.serving: results per kind, warnings, the process-wide model cache."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.conf import settings

from classifiers import serving
from classifiers.models import ModelVersion
from classifiers.serving import DocumentIn
from tests.conftest import make_project
from tests.test_api_support import make_version
from tests.training_data import WORDS


@pytest.fixture(autouse=True)
def _cold_cache():
    serving.clear_cache()
    yield
    serving.clear_cache()


def sport(n: int = 8) -> str:
    return " ".join(WORDS["sport"].split()[:n])


def test_single_label_results(project):
    version = make_version(project)
    results = serving.classify(
        version, [DocumentIn("a", sport()), DocumentIn("b", "invoice payment budget bank")]
    )
    assert [r["id"] for r in results] == ["a", "b"]
    assert results[0]["classes"][0]["category"] == "sport"
    assert results[1]["classes"][0]["category"] == "finance"
    for r in results:
        assert len(r["classes"]) == 1 and r["warnings"] == []
        assert set(r["scores"]) == {"finance", "sport", "tech"}
        assert abs(sum(r["scores"].values()) - 1) < 1e-3
        assert r["classes"][0]["confidenceScore"] == max(r["scores"].values())
        assert "match" not in r


def test_multi_label_results(admin_user):
    project = make_project(admin_user, name="Multi", kind="multi_label")
    version = make_version(project)
    (result,) = serving.classify(version, [DocumentIn("1", sport(10) + " software server network code")])
    names = [c["category"] for c in result["classes"]]
    assert "sport" in names
    scores = [c["confidenceScore"] for c in result["classes"]]
    assert scores == sorted(scores, reverse=True)


def test_trainable_match_uses_the_versions_threshold(admin_user):
    project = make_project(admin_user, name="Finance docs", kind="trainable")
    version = make_version(project)
    text = "invoice payment budget bank account loan interest tax"
    (result,) = serving.classify(version, [DocumentIn("1", text)])
    assert result["match"] == "match" and result["classes"][0]["category"] == "match"
    assert result["confidenceScore"] == result["scores"]["match"]
    (other,) = serving.classify(version, [DocumentIn("2", sport())])
    assert other["match"] in ("no_match", "close_match") and other["classes"] == []
    # A version with a higher threshold (same artifact) says otherwise for the same text.
    strict = ModelVersion.objects.create(
        project=project,
        number=2,
        kind=project.kind,
        classes=version.classes,
        artifact=version.artifact,
        artifact_sha256=version.artifact_sha256,
        threshold=0.99999,
        close_match_lower=0.0,
    )
    (again,) = serving.classify(strict, [DocumentIn("1", text)])
    assert again["match"] == "close_match" and again["confidenceScore"] == result["confidenceScore"]


def test_warnings(project, settings):
    version = make_version(project)
    project.language = "en"
    long_text = (sport() + " ") * 3000
    results = serving.classify(
        version,
        [DocumentIn("e", "   "), DocumentIn("t", long_text), DocumentIn("l", sport(), language="de-DE")],
        project_language="en",
    )
    assert results[0]["warnings"][0]["code"] == "EmptyText" and results[0]["classes"] == []
    assert results[1]["warnings"][0]["code"] == "DocumentTruncated"
    assert "20,000" in results[1]["warnings"][0]["message"]
    assert results[2]["warnings"][0]["code"] == "LanguageMismatch"
    assert results[2]["classes"]  # a warning, not a refusal
    (same_language,) = serving.classify(version, [DocumentIn("x", sport(), "en-GB")], project_language="en")
    assert same_language["warnings"] == []


def test_trainable_empty_text_has_no_match(admin_user):
    project = make_project(admin_user, name="Finance docs", kind="trainable")
    (result,) = serving.classify(make_version(project), [DocumentIn("1", "")])
    assert result["match"] is None and result["confidenceScore"] is None


def test_cache_loads_once_and_evicts_least_recent(project, settings, monkeypatch):
    settings.STUDIO_API_MODEL_CACHE_SIZE = 2
    loads = []
    real = serving.load_version_model

    def counting(version):
        loads.append(version.pk)
        return real(version)

    monkeypatch.setattr(serving, "load_version_model", counting)
    v1, v2, v3 = (make_version(project, seed=s) for s in (0, 1, 2))
    first = serving.get_model(v1)
    assert serving.get_model(v1) is first and loads == [v1.pk]
    serving.get_model(v2)
    serving.get_model(v1)  # v1 is now the most recent
    serving.get_model(v3)  # evicts v2
    assert serving.is_cached(v1) and serving.is_cached(v3) and not serving.is_cached(v2)
    serving.get_model(v2)
    assert loads == [v1.pk, v2.pk, v3.pk, v2.pk]


def test_cache_key_includes_the_artifact_hash(project):
    version = make_version(project)
    serving.get_model(version)
    changed = ModelVersion.objects.get(pk=version.pk)
    changed.artifact_sha256 = "0" * 64  # as if the row pointed at other bytes
    assert not serving.is_cached(changed)
    with pytest.raises(serving.ModelUnavailable):
        serving.get_model(changed)


def test_concurrent_cold_requests_load_once(project, monkeypatch):
    version = make_version(project)
    loads = []
    real = serving.load_version_model
    gate = threading.Event()

    def slow(v):
        loads.append(v.pk)
        gate.wait(2)
        return real(v)

    monkeypatch.setattr(serving, "load_version_model", slow)
    got = []
    threads = [threading.Thread(target=lambda: got.append(serving.get_model(version))) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert len(got) == 8 and all(m is got[0] for m in got)
    assert loads == [version.pk]


def test_tampered_artifact_is_refused(project):
    version = make_version(project)
    path = Path(settings.MEDIA_ROOT) / version.artifact
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(serving.ModelUnavailable):
        serving.classify(version, [DocumentIn("1", "text")])


def test_classify_response_shape(project):
    version = make_version(project)
    body = serving.classify_response(
        version, [DocumentIn("1", sport())], project_slug=project.slug, deployment="staging"
    )
    assert body["project"] == project.slug and body["deployment"] == "staging"
    assert body["modelVersion"] == version.number and body["kind"] == "single_label"
    assert len(body["documents"]) == 1
