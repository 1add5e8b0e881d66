"""The site-wide content explorer: only the user's projects, filters, keyset pages."""

import pytest

from classifiers.models import Classification
from tests.helpers import htmx, login
from tests.production.helpers import classified_project

URL = "/explorer/"


@pytest.fixture
def classified(project, admin_user, django_capture_on_commit_callbacks):
    return classified_project(project, admin_user, django_capture_on_commit_callbacks, items=60)


def test_members_see_their_classifiers(classified, project, admin_user, viewer_user):
    for user in (admin_user, viewer_user):
        page = login(user).get(URL).content.decode()
        assert project.name in page and "60 items" in page
    # Viewers read, but get no feedback buttons.
    assert "With the ticked items" not in login(viewer_user).get(URL).content.decode()
    assert "With the ticked items" in login(admin_user).get(URL).content.decode()


def test_outsider_sees_nothing_of_the_project(classified, project, outsider_user, other_project):
    client = login(outsider_user)
    page = client.get(URL).content.decode()
    assert project.name not in page
    assert client.get(URL, {"classifier": project.slug}).status_code == 404


def test_filters_and_pages(classified, project, admin_user):
    client = login(admin_user)
    base = {"classifier": project.slug}
    some = Classification.objects.filter(project=project).first()
    page = client.get(URL, {**base, "cls": some.labels[0]}).content.decode()
    n = Classification.objects.filter(project=project, classes_key__contains=f"|{some.labels[0]}|").count()
    assert f"{n} item" in page
    # Keyset pages: 50, then the rest.
    first = client.get(URL, base).content.decode()
    assert 'rel="next"' in first
    last_id = sorted(Classification.objects.filter(project=project).values_list("document_id", flat=True))[10]
    rest = client.get(URL, {**base, "after": last_id}).content.decode()
    assert rest.count('name="document"') == 10
    # Bad values: a message, the other filters still apply, never a 500.
    bad = client.get(URL, {**base, "score_min": "abc", "date_from": "2026-13-45", "after": "-1"})
    assert bad.status_code == 200 and "Score from" in bad.content.decode()
    swapped = client.get(URL, {**base, "score_min": "0.9", "score_max": "0.1"}).content.decode()
    assert "upper score is below" in swapped
    partial = htmx(client, "get", URL, base)
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert client.get(URL, {**base, "q": 'AND ( " NEAR('}).status_code == 200


def test_anonymous_is_sent_to_login(client):
    assert client.get(URL).status_code == 302


def test_counts_are_capped_and_cached(
    classified, project, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from classifiers import explorer
    from classifiers.models import Document

    monkeypatch.setattr(explorer, "COUNT_CAP", 5)
    client = login(admin_user)
    page = client.get(URL, {"classifier": project.slug, "score_min": "0"}).content.decode()
    assert "more than 5 items" in page
    # The per-classifier counts are cached, and a change of the items clears them.
    assert explorer.counts_per_classifier([project])[project.pk]["total"] == 60
    doc = Document.objects.filter(project=project, set="production").first()
    from classifiers.actions.documents import do_assign_set

    with django_capture_on_commit_callbacks(execute=True):
        do_assign_set(admin_user, project, [doc.pk], "test")
    assert explorer.counts_per_classifier([project])[project.pk]["total"] == 59
