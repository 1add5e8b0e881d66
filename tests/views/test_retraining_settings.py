"""How much feedback starts a retrain, and how many a day."""

from tests.helpers import login


def url(project):
    return f"/projects/{project.slug}/retraining/settings/"


def test_admin_sets_and_bad_values(project, admin_user):
    client = login(admin_user)
    client.post(url(project), {"retrain_after": "50", "per_day": "3"})
    project.refresh_from_db()
    assert (project.feedback_retrain_after, project.retrains_per_day) == (50, 3)
    for data in ({"retrain_after": "x", "per_day": "1"}, {"retrain_after": "0", "per_day": "1"},
                 {"retrain_after": "10", "per_day": "99"}, {"retrain_after": "1e9", "per_day": "1"}, {}):  # fmt: skip
        page = client.post(url(project), data, follow=True).content.decode()
        assert "error" in page
    project.refresh_from_db()
    assert (project.feedback_retrain_after, project.retrains_per_day) == (50, 3)


def test_roles(project, tagger_user, outsider_user):
    assert login(tagger_user).post(url(project), {"retrain_after": "5", "per_day": "1"}).status_code == 403
    assert login(outsider_user).post(url(project), {"retrain_after": "5", "per_day": "1"}).status_code == 404
    project.refresh_from_db()
    assert project.feedback_retrain_after == 30
