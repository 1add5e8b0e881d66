from studio.audit import log_action
from tests.helpers import htmx, login


def test_member_reads_activity_filtered(project, admin_user, viewer_user):
    for i in range(60):
        log_action(admin_user, "test.bulk", project, payload={"i": i})
    client = login(viewer_user)
    body = client.get(f"/projects/{project.slug}/activity/").content.decode()
    assert "Page 1 of 2" in body and "member.add" in body
    body = client.get(f"/projects/{project.slug}/activity/?action=member.add").content.decode()
    assert "test.bulk" not in body.split('id="entries"')[1]
    body = client.get(f"/projects/{project.slug}/activity/?user=nobody").content.decode()
    assert "No activity matches" in body


def test_htmx_gets_partial(project, admin_user):
    response = htmx(
        login(admin_user), "get", f"/projects/{project.slug}/activity/", {"action": "project.create"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="entries">')


def test_other_projects_entries_never_shown(project, other_project, admin_user):
    body = login(admin_user).get(f"/projects/{project.slug}/activity/").content.decode()
    assert "Secret HR cases" not in body


def test_outsider_404_bad_page_ok(project, outsider_user, admin_user):
    assert login(outsider_user).get(f"/projects/{project.slug}/activity/").status_code == 404
    assert login(admin_user).get(f"/projects/{project.slug}/activity/?page=abc").status_code == 200
