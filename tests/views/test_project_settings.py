from classifiers.models import Project
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import login


def test_admin_edits_project(project, admin_user):
    url = f"/projects/{project.slug}/settings/"
    response = login(admin_user).post(url, {"name": "Contracts v2", "description": "d", "language": "de"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.language) == ("Contracts v2", "de")
    entry = AuditEntry.objects.get(action="project.update")
    assert entry.payload["before"]["name"] == "Contracts" and entry.payload["after"]["name"] == "Contracts v2"


def test_rename_to_taken_name_is_refused(project, admin_user):
    make_project(admin_user, name="Invoices")
    response = login(admin_user).post(
        f"/projects/{project.slug}/settings/", {"name": "invoices", "description": "", "language": "en"}
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Project.objects.get(pk=project.pk).name == "Contracts"


def test_tagger_gets_readable_403(project, tagger_user):
    response = login(tagger_user).get(f"/projects/{project.slug}/settings/")
    assert response.status_code == 403
    assert "needs the Admin role" in response.content.decode()


def test_viewer_cannot_post(project, viewer_user):
    response = login(viewer_user).post(
        f"/projects/{project.slug}/settings/", {"name": "Hacked", "description": "", "language": "en"}
    )
    assert response.status_code == 403
    assert Project.objects.get(pk=project.pk).name == "Contracts"


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(f"/projects/{project.slug}/settings/").status_code == 404
