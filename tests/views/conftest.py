"""Fixtures of the view tests: a published trainable classifier with a retrained version."""

import pytest

from classifiers.actions import do_add_member
from classifiers.actions.production import do_give_feedback, do_retrain_now
from classifiers.models import Document
from classifiers.retraining import latest_comparison
from tests.production.helpers import published_sport_classifier


@pytest.fixture
def retrained(admin_user, tagger_user, viewer_user, django_capture_on_commit_callbacks):
    project, v1 = published_sport_classifier(admin_user, django_capture_on_commit_callbacks)
    do_add_member(admin_user, project, tagger_user, "tagger")
    do_add_member(admin_user, project, viewer_user, "viewer")
    docs = Document.objects.filter(project=project, set="production").order_by("id")
    with django_capture_on_commit_callbacks(execute=True):
        for doc in docs[:6]:
            number = int(doc.text.rsplit("p", 1)[1])
            do_give_feedback(tagger_user, project, doc, "match" if number % 3 == 0 else "not_match")
        do_retrain_now(admin_user, project)
    return project, v1, latest_comparison(project)
