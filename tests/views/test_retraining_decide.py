"""Re-publish, keep, more feedback, recompute: Admins only, once per comparison."""

from classifiers.models import Classification
from classifiers.production import published_version
from tests.helpers import login


def url(project, comparison):
    return f"/projects/{project.slug}/retraining/{comparison.pk}/decide/"


def test_republish(retrained, admin_user, django_capture_on_commit_callbacks):
    project, _v1, comparison = retrained
    with django_capture_on_commit_callbacks(execute=True):
        page = login(admin_user).post(url(project, comparison), {"decision": "republish"}, follow=True)
    assert f"Version {comparison.retrained.number} is published" in page.content.decode()
    assert published_version(project) == comparison.retrained
    assert set(Classification.objects.filter(project=project).values_list("model_version", flat=True)) == {
        comparison.retrained_id
    }
    again = (
        login(admin_user).post(url(project, comparison), {"decision": "keep"}, follow=True).content.decode()
    )
    assert "published version changed" in again or "already decided" in again


def test_more_feedback_goes_to_the_queue(retrained, admin_user):
    project, v1, comparison = retrained
    response = login(admin_user).post(url(project, comparison), {"decision": "more_feedback"})
    assert response["Location"] == f"/projects/{project.slug}/feedback/"
    assert published_version(project) == v1


def test_recompute_and_nonsense(retrained, admin_user, django_capture_on_commit_callbacks):
    project, v1, comparison = retrained
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_user).post(url(project, comparison), {"decision": "recompute"})
    comparison.refresh_from_db()
    assert comparison.state == "ready"
    page = login(admin_user).post(url(project, comparison), {"decision": "delete-all"}, follow=True)
    assert "Choose Keep the published version or Give more feedback" in page.content.decode()
    assert published_version(project) == v1


def test_roles(retrained, tagger_user, outsider_user):
    project, v1, comparison = retrained
    assert login(tagger_user).post(url(project, comparison), {"decision": "republish"}).status_code == 403
    assert login(outsider_user).post(url(project, comparison), {"decision": "republish"}).status_code == 404
    assert published_version(project) == v1
