"""The Admin's switch for keeping API texts in the log (an audited action)."""

from studio.models import AuditEntry
from tests.helpers import login


def url(project):
    return f"/projects/{project.slug}/deployments/log/texts/"


def test_admin_turns_it_on_and_off(project, admin_user):
    client = login(admin_user)
    response = client.post(url(project), {"enabled": "1"}, follow=True)
    assert "now keep their texts" in response.content.decode()
    project.refresh_from_db()
    assert project.log_api_texts
    client.post(url(project), {"enabled": "0"})
    project.refresh_from_db()
    assert not project.log_api_texts
    assert AuditEntry.objects.filter(project=project, action="project.log_api_texts").count() == 2


def test_roles(project, tagger_user, viewer_user, outsider_user, admin_user):
    assert login(tagger_user).post(url(project), {"enabled": "1"}).status_code == 403
    assert login(viewer_user).post(url(project), {"enabled": "1"}).status_code == 403
    assert login(outsider_user).post(url(project), {"enabled": "1"}).status_code == 404
    assert login(admin_user).get(url(project)).status_code == 405
    project.refresh_from_db()
    assert not project.log_api_texts
