"""Rolling the published version back: a confirmed step, Admins only."""

from classifiers.models import Classification
from classifiers.production import published_version
from tests.helpers import login


def test_confirmed_rollback(retrained, admin_user, django_capture_on_commit_callbacks):
    project, v1, comparison = retrained
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.slug}/retraining/{comparison.pk}/decide/", {"decision": "republish"})
    url = f"/projects/{project.slug}/history/{v1.pk}/rollback/"
    assert "Roll back to v" in client.get(url).content.decode()
    response = client.post(url)  # not confirmed
    assert response.status_code == 422 and published_version(project) == comparison.retrained
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302 and published_version(project) == v1
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        v1.pk
    }
    # A version that never was published cannot be "rolled back" to.
    never = f"/projects/{project.slug}/history/{comparison.retrained.pk}/rollback/"
    assert client.post(never, {"confirm": "yes"}).status_code in (302, 422)


def test_roles(retrained, tagger_user, outsider_user):
    project, v1, _ = retrained
    url = f"/projects/{project.slug}/history/{v1.pk}/rollback/"
    assert login(tagger_user).post(url, {"confirm": "yes"}).status_code == 403
    assert login(outsider_user).get(url).status_code == 404
