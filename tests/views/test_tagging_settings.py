"""The Admin's tagging settings: overlap and suggestions."""

from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_tagging_queue import studio_url


def post(client, project, **data):
    return htmx(client, "post", studio_url(project, "tagging_settings"), data)


def test_admin_turns_on_double_tagging_and_suggestions(project, admin_user):
    response = post(login(admin_user), project, overlap=2, show_suggestions="on")
    assert response.status_code == 200 and "Tagging settings saved." in response.content.decode()
    project.refresh_from_db()
    assert project.overlap == 2 and project.show_suggestions
    assert AuditEntry.objects.get(action="tagging.settings").payload["after"] == {
        "overlap": 2,
        "show_suggestions": True,
    }
    response = post(login(admin_user), project, overlap=2, show_suggestions="on")
    assert "Nothing changed." in response.content.decode()


def test_bad_overlap(project, admin_user):
    response = post(login(admin_user), project, overlap=9)
    assert response.status_code == 422 and 'id="tagging-settings"' in response.content.decode()
    response = post(login(admin_user), project, overlap="two")
    assert response.status_code == 422
    project.refresh_from_db()
    assert project.overlap == 1 and not AuditEntry.objects.filter(action="tagging.settings").exists()


def test_without_htmx_redirects(project, admin_user):
    response = login(admin_user).post(studio_url(project, "tagging_settings"), {"overlap": 3})
    assert response.status_code == 302 and response["Location"] == studio_url(project, "tagging")


def test_tagger_forbidden_outsider_404(project, tagger_user, outsider_user):
    assert post(login(tagger_user), project, overlap=3).status_code == 403
    assert post(login(outsider_user), project, overlap=3).status_code == 404
    project.refresh_from_db()
    assert project.overlap == 1
