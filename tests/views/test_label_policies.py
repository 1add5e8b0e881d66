"""A project's label policies: members read them, Admins add and remove them."""

from classifiers.actions.production import do_create_label
from classifiers.models import AppliedLabel, Class, LabelPolicy
from tests.helpers import login


def url(project):
    return f"/projects/{project.slug}/labels/"


def test_admin_adds_and_removes_a_policy(project, admin_user, django_capture_on_commit_callbacks):
    from tests.production.helpers import classified_project

    classified_project(project, admin_user, django_capture_on_commit_callbacks)
    label = do_create_label(admin_user, "Tech retention")
    Class.objects.get_or_create(project=project, name="tech")
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(project), {"label": label.pk, "class_name": "tech"})
    assert response.status_code == 302
    policy = LabelPolicy.objects.get()
    applied = AppliedLabel.objects.filter(policy=policy)
    assert applied.count() == project.documents.filter(classification__classes_key__contains="|tech|").count()
    assert client.post(url(project), {"label": label.pk, "class_name": "nope"}).status_code == 422
    assert client.post(url(project), {"label": 999, "class_name": "tech"}).status_code == 422
    assert (
        client.post(url(project), {"label": label.pk, "class_name": "tech", "min_score": "7"}).status_code
        == 422
    )
    assert client.post(url(project), {"label": label.pk, "class_name": "tech"}).status_code == 422  # twice
    assert "Tech retention" in client.get(url(project)).content.decode()
    delete = f"/projects/{project.slug}/labels/{policy.pk}/delete/"
    assert client.post(delete).status_code == 302
    assert not LabelPolicy.objects.exists() and not AppliedLabel.objects.exists()


def test_roles(project, admin_user, tagger_user, viewer_user, outsider_user):
    label = do_create_label(admin_user, "Retain")
    Class.objects.get_or_create(project=project, name="tech")
    assert login(viewer_user).get(url(project)).status_code == 200
    assert login(tagger_user).post(url(project), {"label": label.pk, "class_name": "tech"}).status_code == 403
    assert login(outsider_user).get(url(project)).status_code == 404
    assert not LabelPolicy.objects.exists()
