"""The give-feedback queue: one item at a time, Taggers and Admins."""

import pytest

from tests.helpers import login
from tests.production.helpers import classified_project


def url(project):
    return f"/projects/{project.slug}/feedback/"


def test_queue_shows_an_item_then_runs_dry(
    project, admin_user, tagger_user, django_capture_on_commit_callbacks
):
    page = login(tagger_user).get(url(project)).content.decode()
    assert "Nothing is published yet" in page
    docs = classified_project(project, admin_user, django_capture_on_commit_callbacks, items=1)[1]
    page = login(tagger_user).get(url(project)).content.decode()
    assert "Open the item" in page and f"/documents/{docs[0].pk}/feedback/" in page
    login(tagger_user).post(f"/projects/{project.slug}/documents/{docs[0].pk}/feedback/", {"answer": "match"})
    assert "No item is waiting for feedback" in login(tagger_user).get(url(project)).content.decode()


@pytest.mark.parametrize("user,status", [("viewer_user", 403), ("outsider_user", 404)])
def test_roles(project, request, user, status):
    assert login(request.getfixturevalue(user)).get(url(project)).status_code == status
