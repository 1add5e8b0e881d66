from tests.helpers import login


def test_lists_only_my_projects(project, other_project, admin_user):
    response = login(admin_user).get("/projects/")
    assert response.status_code == 200
    assert "Contracts" in response.content.decode()
    assert "Secret HR cases" not in response.content.decode()


def test_member_sees_project_and_role(project, tagger_user):
    body = login(tagger_user).get("/projects/").content.decode()
    assert "Contracts" in body and "Tagger" in body
    assert "New project" not in body  # taggers are not in the Compliance admins group


def test_outsider_sees_nothing_of_it(project, outsider_user):
    body = login(outsider_user).get("/projects/").content.decode()
    assert "Contracts" not in body


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
