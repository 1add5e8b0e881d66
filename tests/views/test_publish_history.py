"""The timeline of published versions."""

from tests.helpers import login


def test_history_lists_publishes(retrained, admin_user, viewer_user, django_capture_on_commit_callbacks):
    project, v1, comparison = retrained
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_user).post(
            f"/projects/{project.slug}/retraining/{comparison.pk}/decide/", {"decision": "republish"}
        )
    page = login(admin_user).get(f"/projects/{project.slug}/history/").content.decode()
    assert f"Roll back to v{v1.number}" in page and "published now" in page
    viewer = login(viewer_user).get(f"/projects/{project.slug}/history/").content.decode()
    assert "published now" in viewer and "Roll back to" not in viewer


def test_outsider(retrained, outsider_user):
    project, _, _ = retrained
    assert login(outsider_user).get(f"/projects/{project.slug}/history/").status_code == 404
