from tests.helpers import login


def test_admin_sees_overview_with_settings_link(project, admin_user):
    body = login(admin_user).get(f"/projects/{project.slug}/").content.decode()
    assert "Manage members" in body and "tom" in body and "vera" in body


def test_viewer_sees_overview_without_settings(project, viewer_user):
    response = login(viewer_user).get(f"/projects/{project.slug}/")
    assert response.status_code == 200
    assert "Manage members" not in response.content.decode()
    assert f"/projects/{project.slug}/settings/" not in response.content.decode()


def test_outsider_gets_404(project, outsider_user):
    response = login(outsider_user).get(f"/projects/{project.slug}/")
    assert response.status_code == 404
    assert "Contracts" not in response.content.decode()


def test_unknown_project_404(admin_user):
    assert login(admin_user).get("/projects/does-not-exist/").status_code == 404
