"""The retrained-versus-published overview."""

from tests.helpers import htmx, login


def url(project):
    return f"/projects/{project.slug}/retraining/"


def test_overview_shows_both_versions_and_the_rule(retrained, admin_user, viewer_user):
    project, v1, comparison = retrained
    page = login(admin_user).get(url(project)).content.decode()
    assert f"v{comparison.retrained.number} (retrained) against v{v1.number} (published" in page
    assert "Feedback items" in page and "Recommended:" in page and "0.005" in page
    assert "Re-publish" in page and "Keep the published version" in page
    viewer = login(viewer_user).get(url(project)).content.decode()
    assert "Recommended:" in viewer and "Re-publish v" not in viewer and "Retrain now" not in viewer
    poll = htmx(login(viewer_user), "get", url(project) + "?poll=1")
    assert poll.status_code == 286  # nothing running: the poll stops
    assert login(admin_user).get(url(project), {"comparison": "x"}).status_code == 200
    assert login(admin_user).get(url(project), {"comparison": "99999"}).status_code == 404


def test_before_anything_is_published(project, admin_user):
    page = login(admin_user).get(url(project)).content.decode()
    assert "Nothing is published yet" in page


def test_outsider(retrained, outsider_user):
    project, _, _ = retrained
    assert login(outsider_user).get(url(project)).status_code == 404
