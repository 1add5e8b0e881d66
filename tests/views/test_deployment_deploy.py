"""Deploy or re-point a slot (Admins)."""

from classifiers.models import Deployment, DeploymentEvent
from tests.helpers import login
from tests.test_api_support import make_version


def url(project):
    return f"/projects/{project.slug}/deployments/deploy/"


def test_admin_deploys_then_repoints(project, admin_user):
    v1, v2 = make_version(project, seed=0), make_version(project, seed=1)
    client = login(admin_user)
    response = client.post(url(project), {"slot": "staging", "version": v1.pk})
    deployment = Deployment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.slug}/deployments/{deployment.pk}/"
    client.post(url(project), {"slot": "staging", "version": v2.pk})
    deployment.refresh_from_db()
    assert deployment.model_version == v2 and DeploymentEvent.objects.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "now serves v1" not in page or "now serves" in page


def test_bad_input_answers_422_and_changes_nothing(project, admin_user, other_project):
    v1 = make_version(project)
    foreign = make_version(other_project)
    client = login(admin_user)
    response = client.post(url(project), {"slot": "Bad Name", "version": v1.pk})
    assert response.status_code == 422 and "lower-case" in response.content.decode()
    response = client.post(url(project), {"slot": "staging", "version": foreign.pk})
    assert response.status_code == 422  # another project's version is not a choice
    client.post(url(project), {"slot": "staging", "version": v1.pk})
    response = client.post(url(project), {"slot": "staging", "version": v1.pk})
    assert response.status_code == 422 and "already serves v1" in response.content.decode()
    assert Deployment.objects.count() == 1


def test_tagger_403_viewer_403_outsider_404_get_405(
    project, admin_user, tagger_user, viewer_user, outsider_user
):
    v1 = make_version(project)
    data = {"slot": "staging", "version": v1.pk}
    assert login(tagger_user).post(url(project), data).status_code == 403
    assert login(viewer_user).post(url(project), data).status_code == 403
    assert login(outsider_user).post(url(project), data).status_code == 404
    assert login(admin_user).get(url(project)).status_code == 405
    assert not Deployment.objects.exists()
