"""Swap two slots (Admins)."""

from classifiers.actions.deployments import do_deploy
from classifiers.models import Deployment
from tests.helpers import login
from tests.test_api_support import make_version


def url(project):
    return f"/projects/{project.slug}/deployments/swap/"


def setup_slots(project, admin_user):
    v1, v2 = make_version(project, seed=0), make_version(project, seed=1)
    do_deploy(admin_user, project, "production", v1)
    do_deploy(admin_user, project, "staging", v2)
    return v1, v2


def test_admin_swaps(project, admin_user):
    _v1, v2 = setup_slots(project, admin_user)
    response = login(admin_user).post(
        url(project), {"slot_a": "staging", "slot_b": "production"}, follow=True
    )
    assert "Swapped: staging serves v1, production serves v2." in response.content.decode()
    assert Deployment.objects.get(name="production").model_version == v2


def test_same_or_unknown_slot_is_422(project, admin_user):
    v1, _ = setup_slots(project, admin_user)
    client = login(admin_user)
    response = client.post(url(project), {"slot_a": "staging", "slot_b": "staging"})
    assert response.status_code == 422 and "two different slots" in response.content.decode()
    response = client.post(url(project), {"slot_a": "staging", "slot_b": "nope"})
    assert response.status_code == 422
    assert Deployment.objects.get(name="production").model_version == v1


def test_roles(project, admin_user, tagger_user, viewer_user, outsider_user):
    v1, _ = setup_slots(project, admin_user)
    data = {"slot_a": "staging", "slot_b": "production"}
    assert login(tagger_user).post(url(project), data).status_code == 403
    assert login(viewer_user).post(url(project), data).status_code == 403
    assert login(outsider_user).post(url(project), data).status_code == 404
    assert login(admin_user).get(url(project)).status_code == 405
    assert Deployment.objects.get(name="production").model_version == v1
