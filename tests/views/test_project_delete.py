from classifiers.models import Project
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_search import make_doc


def url(project) -> str:
    return f"/projects/{project.slug}/delete/"


def test_admin_sees_what_will_be_deleted(project, admin_user):
    make_doc(project, "one")
    make_doc(project, "two")
    response = login(admin_user).get(url(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>2</strong> documents" in body and "model versions" in body and "deployments" in body
    assert 'name="name"' in body and "Type the project's name" in body
    # The settings page links here from its danger zone.
    settings_page = login(admin_user).get(f"/projects/{project.slug}/settings/").content.decode()
    assert url(project) in settings_page and "Delete project" in settings_page


def test_admin_deletes_with_the_exact_name(project, admin_user, django_capture_on_commit_callbacks):
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(project), {"name": "Contracts"})
    assert response.status_code == 302 and response["Location"] == "/projects/"
    assert not Project.objects.filter(pk=project.pk).exists()
    page = client.get("/projects/").content.decode()
    assert "Contracts" in page and "deleted" in page  # the message
    entry = AuditEntry.objects.get(action="project.delete")
    assert entry.project_id is None and entry.project_name == "Contracts"


def test_htmx_post_redirects_the_whole_page(project, admin_user):
    response = htmx(login(admin_user), "post", url(project), {"name": "Contracts"})
    assert response.status_code == 200 and response["HX-Redirect"] == "/projects/"


def test_wrong_name_answers_422_and_keeps_everything(project, admin_user):
    make_doc(project, "kept")
    response = login(admin_user).post(url(project), {"name": "contracts"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "exactly" in body and "nothing was deleted" in body
    assert Project.objects.filter(pk=project.pk).exists() and project.documents.count() == 1
    assert not AuditEntry.objects.filter(action="project.delete").exists()


def test_tagger_and_viewer_get_403(project, tagger_user, viewer_user):
    for user in (tagger_user, viewer_user):
        client = login(user)
        response = client.get(url(project))
        assert response.status_code == 403 and "needs the Admin role" in response.content.decode()
        assert client.post(url(project), {"name": "Contracts"}).status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()


def test_outsider_404(project, outsider_user, other_project, admin_user):
    client = login(outsider_user)
    assert client.get(url(project)).status_code == 404
    assert client.post(url(project), {"name": "Contracts"}).status_code == 404
    assert Project.objects.filter(pk=project.pk).exists()
    # Nor may our Admin delete somebody else's project.
    assert login(admin_user).post(url(other_project), {"name": other_project.name}).status_code == 404
    assert Project.objects.filter(pk=other_project.pk).exists()
