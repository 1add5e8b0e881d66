"""Feedback on one production item, from its page or the queue; suggest another classifier."""

import pytest

from classifiers.models import Feedback
from tests.helpers import login
from tests.production.helpers import classified_project


def url(project, doc):
    return f"/projects/{project.slug}/documents/{doc.pk}/feedback/"


@pytest.fixture
def docs(project, admin_user, django_capture_on_commit_callbacks):
    return classified_project(project, admin_user, django_capture_on_commit_callbacks)[1]


def test_confirm_and_correct(project, tagger_user, docs):
    from classifiers.models import Class

    Class.objects.get_or_create(project=project, name="finance")
    client = login(tagger_user)
    page = client.post(url(project, docs[0]), {"answer": "match"}, follow=True).content.decode()
    assert "feedback recorded" in page and "Withdraw" in page
    client.post(url(project, docs[1]), {"answer": "not_match", "corrected": "finance"})
    assert Feedback.objects.get(document=docs[1]).corrected == ["finance"]
    page = client.post(url(project, docs[2]), {"answer": "not_match", "corrected": "nope"}, follow=True)
    assert "Not a class of this project" in page.content.decode()
    page = client.post(url(project, docs[2]), {"answer": "x"}, follow=True).content.decode()
    assert "Answer Match or Not a match" in page
    page = client.post(url(project, docs[2]), {"answer": "match", "suggest": "not-mine"}, follow=True)
    assert "Suggest a classifier of a project where you tag" in page.content.decode()
    assert Feedback.objects.count() == 2


def test_queue_returns_to_the_queue(project, tagger_user, docs):
    response = login(tagger_user).post(url(project, docs[0]), {"answer": "match", "from": "queue"})
    assert response["Location"] == f"/projects/{project.slug}/feedback/"


def test_roles(project, viewer_user, outsider_user, docs, other_project):
    assert login(viewer_user).post(url(project, docs[0]), {"answer": "match"}).status_code == 403
    assert login(outsider_user).post(url(project, docs[0]), {"answer": "match"}).status_code == 404
    foreign = f"/projects/{other_project.slug}/documents/{docs[0].pk}/feedback/"
    assert login(outsider_user).post(foreign, {"answer": "match"}).status_code == 404
    assert not Feedback.objects.exists()
