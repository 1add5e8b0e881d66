"""Roll a slot back to a version it served before (Admins)."""

from classifiers.actions.deployments import do_deploy
from tests.helpers import login
from tests.test_api_support import Api, make_version


def url(project, deployment):
    return f"/projects/{project.slug}/deployments/{deployment.pk}/rollback/"


def test_admin_rolls_back(project, admin_user):
    api = Api(project, admin_user)
    deployment = do_deploy(admin_user, project, "production", make_version(project, seed=1))
    response = login(admin_user).post(url(project, deployment), {"version": api.version.pk}, follow=True)
    assert "Rolled back: production serves v1 again." in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.model_version == api.version


def test_refusals(project, admin_user, other_project, outsider_user):
    api = Api(project, admin_user)
    deployment = project.deployments.get()
    client = login(admin_user)
    page = client.post(url(project, deployment), {"version": api.version.pk}, follow=True).content.decode()
    assert "already serves v1" in page
    never = make_version(project, seed=2)
    page = client.post(url(project, deployment), {"version": never.pk}, follow=True).content.decode()
    assert "never served the production slot" in page
    page = client.post(url(project, deployment), {"version": "x"}, follow=True).content.decode()
    assert "Pick a version" in page
    foreign = Api(other_project, outsider_user).version
    assert client.post(url(project, deployment), {"version": foreign.pk}).status_code == 404


def test_roles(project, admin_user, tagger_user, viewer_user, outsider_user):
    api = Api(project, admin_user)
    deployment = project.deployments.get()
    data = {"version": api.version.pk}
    assert login(tagger_user).post(url(project, deployment), data).status_code == 403
    assert login(viewer_user).post(url(project, deployment), data).status_code == 403
    assert login(outsider_user).post(url(project, deployment), data).status_code == 404
    assert login(admin_user).get(url(project, deployment)).status_code == 405
