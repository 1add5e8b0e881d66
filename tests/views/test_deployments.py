"""The deployments page: slots with their versions, figures and calls; the Admin's forms."""

from classifiers.actions.deployments import do_deploy
from tests.conftest import make_project
from tests.helpers import login
from tests.test_api_support import Api, docs, make_version


def url(project):
    return f"/projects/{project.slug}/deployments/"


def test_admin_sees_slots_and_forms(project, admin_user):
    api = Api(project, admin_user)
    api.classify({"documents": docs(2)})
    do_deploy(admin_user, project, "staging", make_version(project, seed=1))
    body = login(admin_user).get(url(project)).content.decode()
    assert "production" in body and "staging" in body and "v1" in body and "v2" in body
    assert "Macro F1" in body and "0.900" in body
    assert "Deploy or re-point a slot" in body and "Swap two slots" in body
    assert 'aria-current="page">Deployments' in body


def test_viewer_reads_without_forms(project, admin_user, viewer_user, tagger_user):
    Api(project, admin_user)
    for user in (viewer_user, tagger_user):
        body = login(user).get(url(project)).content.decode()
        assert "production" in body and "Deploy or re-point" not in body and "Swap two" not in body


def test_empty_states(project, admin_user):
    body = login(admin_user).get(url(project)).content.decode()
    assert "Train a model version first" in body and "Deploy or re-point" not in body
    make_version(project)
    body = login(admin_user).get(url(project)).content.decode()
    assert "Deploy a version below" in body and "Swap two slots" not in body


def test_trainable_production_is_published(admin_user):
    project = make_project(admin_user, name="Finance docs", kind="trainable")
    Api(project, admin_user)
    body = login(admin_user).get(url(project)).content.decode()
    assert "published" in body and "Precision" in body and "Recall" in body


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(url(project)).status_code == 404
