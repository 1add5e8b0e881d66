"""The (re-)classification progress line, polled while a run is active."""

from tests.helpers import htmx, login
from tests.production.helpers import classified_project


def test_status_and_poll_end(
    project, admin_user, viewer_user, outsider_user, django_capture_on_commit_callbacks
):
    url = f"/projects/{project.slug}/production/status/"
    assert login(viewer_user).get(url).status_code == 200  # nothing yet: empty
    classified_project(project, admin_user, django_capture_on_commit_callbacks)
    page = login(viewer_user).get(url).content.decode()
    assert "All items classified by v1" in page
    assert htmx(login(viewer_user), "get", url).status_code == 286
    assert login(outsider_user).get(url).status_code == 404
