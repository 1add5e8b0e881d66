import pytest

from classifiers.models import ModelVersion, VersionAnalysis
from tests.helpers import htmx, login
from tests.test_evaluation import flagged_training_document, mistagged_project, train_version


def url(project, version):
    return f"/projects/{project.slug}/models/{version.pk}/mistakes/"


@pytest.fixture
def version(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    mistagged_project(project, tagger_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_lists_flagged_documents_with_actions(project, version, tagger_user):
    document, item = flagged_training_document(version)
    body = login(tagger_user).get(url(project, version)).content.decode()
    assert f'id="mistake-{document.pk}"' in body
    assert f"Re-tag as {item['suggested']}" in body and "Keep the tags" in body
    assert document.text[:30] in body and "confidence" in body


def test_viewer_reads_without_actions(project, version, viewer_user):
    body = login(viewer_user).get(url(project, version)).content.decode()
    assert "Re-tag as" not in body and "Keep the tags" not in body and "model suggests" in body


def test_polls_while_the_analysis_runs(project, version, admin_user):
    VersionAnalysis.objects.filter(model_version=version).update(state="running")
    body = login(admin_user).get(url(project, version)).content.decode()
    assert "Being worked out" in body and "every 2s" in body
    running = htmx(login(admin_user), "get", url(project, version), {"part": "list"})
    assert running.status_code == 200
    VersionAnalysis.objects.filter(model_version=version).update(state="done")
    done = htmx(login(admin_user), "get", url(project, version), {"part": "list"})
    assert done.status_code == 286 and "Keep the tags" in done.content.decode()


def test_outsider_and_forged(project, other_project, version, outsider_user, admin_user):
    assert login(outsider_user).get(url(project, version)).status_code == 404
    theirs = ModelVersion.objects.create(
        project=other_project, number=1, kind="multi_label", artifact="x", artifact_sha256="0"
    )
    assert login(admin_user).get(url(project, theirs)).status_code == 404
