import pytest

from classifiers.actions import training as training_actions
from classifiers.models import ModelVersion, Prediction
from studio.models import AuditEntry
from tests.helpers import login
from tests.test_evaluation import train_version
from tests.training_data import tagged_project


def url(project, version):
    return f"/projects/{project.slug}/models/{version.pk}/delete/"


@pytest.fixture
def version(project, admin_user, django_capture_on_commit_callbacks):
    tagged_project(project, admin_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_admin_deletes_an_unused_version(
    project, version, admin_user, settings, django_capture_on_commit_callbacks
):
    artifact = settings.MEDIA_ROOT / version.artifact
    assert artifact.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(url(project, version), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/training/"
    assert not ModelVersion.objects.filter(pk=version.pk).exists()
    assert not Prediction.objects.filter(model_version_id=version.pk).exists()
    assert not artifact.exists()
    assert AuditEntry.objects.filter(action="model_version.delete").exists()


def test_delete_needs_confirmation(project, version, admin_user):
    response = login(admin_user).post(url(project, version), follow=True)
    assert "Confirm the deletion" in response.content.decode()
    assert ModelVersion.objects.filter(pk=version.pk).exists()


def test_version_in_use_is_refused_with_the_reason(project, version, admin_user, monkeypatch):
    monkeypatch.setattr(
        training_actions, "USE_CHECKS", [lambda v: "it is published in the production slot" if v.pk else ""]
    )
    page = login(admin_user).get(f"/projects/{project.slug}/models/{version.pk}/").content.decode()
    assert (
        "cannot be deleted: it is published in the production slot" in page and "Delete version" not in page
    )
    response = login(admin_user).post(url(project, version), {"confirm": "yes"}, follow=True)
    assert "it is published in the production slot" in response.content.decode()
    assert ModelVersion.objects.filter(pk=version.pk).exists()
    assert not AuditEntry.objects.filter(action="model_version.delete").exists()


def test_roles_and_forged_ids(project, other_project, version, tagger_user, outsider_user, admin_user):
    assert login(tagger_user).post(url(project, version), {"confirm": "yes"}).status_code == 403
    assert login(outsider_user).post(url(project, version), {"confirm": "yes"}).status_code == 404
    assert login(admin_user).get(url(project, version)).status_code == 405
    theirs = ModelVersion.objects.create(
        project=other_project, number=1, kind="multi_label", artifact="x", artifact_sha256="0"
    )
    assert login(admin_user).post(url(project, theirs), {"confirm": "yes"}).status_code == 404
    assert ModelVersion.objects.count() == 2
