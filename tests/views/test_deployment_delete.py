"""Delete a slot, after a confirmation page (Admins)."""

from classifiers.models import Deployment, DeploymentEvent
from tests.helpers import login
from tests.test_api_support import Api


def url(project, deployment):
    return f"/projects/{project.slug}/deployments/{deployment.pk}/delete/"


def test_admin_confirms_then_deletes(project, admin_user):
    deployment = Api(project, admin_user).project.deployments.get()
    client = login(admin_user)
    page = client.get(url(project, deployment)).content.decode()
    assert "Delete the slot" in page and "get <code>404</code>" in page
    response = client.post(url(project, deployment))
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/deployments/"
    assert not Deployment.objects.exists()
    assert DeploymentEvent.objects.filter(action="delete").count() == 1


def test_roles_and_forged_ids(project, admin_user, tagger_user, viewer_user, outsider_user, other_project):
    deployment = Api(project, admin_user).project.deployments.get()
    for user in (tagger_user, viewer_user):
        assert login(user).get(url(project, deployment)).status_code == 403
        assert login(user).post(url(project, deployment)).status_code == 403
    assert login(outsider_user).post(url(project, deployment)).status_code == 404
    foreign = Api(other_project, outsider_user).project.deployments.get()
    assert login(admin_user).post(url(project, foreign)).status_code == 404
    assert Deployment.objects.count() == 2
