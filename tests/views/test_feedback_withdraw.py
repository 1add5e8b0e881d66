"""Withdrawing feedback: its giver or a project Admin."""

import pytest

from classifiers.actions.production import do_give_feedback
from tests.helpers import login
from tests.production.helpers import classified_project


@pytest.fixture
def feedback(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    docs = classified_project(project, admin_user, django_capture_on_commit_callbacks)[1]
    return do_give_feedback(tagger_user, project, docs[0], "match")[0]


def url(project, feedback):
    return f"/projects/{project.slug}/feedback/{feedback.pk}/withdraw/"


def test_giver_withdraws(project, tagger_user, feedback):
    page = login(tagger_user).post(url(project, feedback), follow=True).content.decode()
    assert "Feedback withdrawn" in page
    feedback.refresh_from_db()
    assert feedback.withdrawn_at is not None
    page = login(tagger_user).post(url(project, feedback), follow=True).content.decode()
    assert "already withdrawn" in page


def test_roles(project, admin_user, viewer_user, outsider_user, feedback):
    assert login(viewer_user).post(url(project, feedback)).status_code == 403
    assert login(outsider_user).post(url(project, feedback)).status_code == 404
    feedback.refresh_from_db()
    assert feedback.withdrawn_at is None
    assert login(admin_user).post(url(project, feedback)).status_code == 302
    feedback.refresh_from_db()
    assert feedback.withdrawn_by == admin_user
