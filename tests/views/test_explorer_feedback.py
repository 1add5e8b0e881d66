"""Bulk feedback from the explorer (Taggers and Admins)."""

import pytest

from classifiers.models import Feedback
from tests.helpers import login
from tests.production.helpers import classified_project


def url(project):
    return f"/projects/{project.slug}/explorer/feedback/"


@pytest.fixture
def docs(project, admin_user, django_capture_on_commit_callbacks):
    return classified_project(project, admin_user, django_capture_on_commit_callbacks)[1]


def test_tagger_gives_bulk_feedback(project, tagger_user, docs):
    response = login(tagger_user).post(url(project), {"answer": "match", "document": [d.pk for d in docs[:3]]},
                                       follow=True)  # fmt: skip
    assert "recorded on 3 items" in response.content.decode()
    assert Feedback.objects.filter(project=project, answer="match").count() == 3


def test_bad_input_writes_nothing(project, tagger_user, docs, other_project):
    client = login(tagger_user)
    for data in ({"answer": "match"}, {"answer": "perhaps", "document": [docs[0].pk]},
                 {"answer": "match", "document": ["x"]}, {"answer": "match", "document": [docs[0].pk, 99999]}):  # fmt: skip
        page = client.post(url(project), data, follow=True).content.decode()
        assert 'class="message error' in page or "error" in page
    assert not Feedback.objects.exists()


def test_roles(project, viewer_user, outsider_user, docs):
    data = {"answer": "match", "document": [docs[0].pk]}
    assert login(viewer_user).post(url(project), data).status_code == 403
    assert login(outsider_user).post(url(project), data).status_code == 404
    assert login(viewer_user).get(url(project)).status_code == 405
    assert not Feedback.objects.exists()
