"""A slot's page: the version it serves since when, its figures and calls, its history."""

from classifiers.actions.deployments import do_deploy
from tests.helpers import login
from tests.test_api_support import Api, docs, make_version


def url(project, deployment):
    return f"/projects/{project.slug}/deployments/{deployment.pk}/"


def test_admin_sees_history_with_rollback(project, admin_user):
    api = Api(project, admin_user)
    api.classify({"documents": docs(3)})
    deployment = do_deploy(admin_user, project, "production", make_version(project, seed=1))
    body = login(admin_user).get(url(project, deployment)).content.decode()
    assert "v2" in body and "deployed by alice" in body
    assert "Roll back to v1" in body and "Roll back to v2" not in body  # v2 serves now
    assert "Macro F1" in body and "Delete this slot" in body
    assert "Last 24 h" in body


def test_viewer_reads_without_buttons(project, admin_user, viewer_user):
    api = Api(project, admin_user)
    deployment = api.project.deployments.get()
    body = login(viewer_user).get(url(project, deployment)).content.decode()
    assert "v1" in body and "Roll back" not in body and "Delete this slot" not in body


def test_outsider_and_forged_ids_404(project, admin_user, outsider_user, other_project):
    api = Api(project, admin_user)
    deployment = api.project.deployments.get()
    assert login(outsider_user).get(url(project, deployment)).status_code == 404
    foreign = Api(other_project, outsider_user).project.deployments.get()
    assert login(admin_user).get(url(project, foreign)).status_code == 404
