from classifiers.actions.schema import do_add_class
from classifiers.models import Class
from studio.models import AuditEntry
from tests.helpers import htmx, login


def url(project, cls):
    return f"/projects/{project.slug}/schema/classes/{cls.pk}/move/"


def names(project):
    return list(project.classes.values_list("name", flat=True))


def test_admin_moves_a_class_up_and_down(project, admin_user):
    a, _, c = (do_add_class(admin_user, project, name=n) for n in "ABC")
    client = login(admin_user)
    response = htmx(client, "post", url(project, c), {"direction": "up"})
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert names(project) == ["A", "C", "B"]
    assert client.post(url(project, a), {"direction": "down"}).status_code == 302
    assert names(project) == ["C", "A", "B"]
    assert [c["name"] for c in project.schema_versions.get(number=5).classes] == ["C", "A", "B"]
    assert AuditEntry.objects.filter(action="class.move").first().payload == {
        "name": "A", "direction": "down", "position": 2, "schema_version": 5,
    }  # fmt: skip


def test_edges_and_bad_directions_are_explained(project, admin_user):
    a, b = (do_add_class(admin_user, project, name=n) for n in "AB")
    client = login(admin_user)
    response = htmx(client, "post", url(project, a), {"direction": "up"})
    assert response.status_code == 422 and "“A” is already first." in response.content.decode()
    response = htmx(client, "post", url(project, b), {"direction": "left"})
    assert response.status_code == 422 and "moves up or down" in response.content.decode()
    assert names(project) == ["A", "B"] and project.schema_versions.count() == 2


def test_forged_class_id_is_404(project, other_project, admin_user, outsider_user):
    do_add_class(outsider_user, other_project, name="X")
    theirs = do_add_class(outsider_user, other_project, name="Y")
    assert login(admin_user).post(url(project, theirs), {"direction": "up"}).status_code == 404
    assert names(other_project) == ["X", "Y"]


def test_tagger_and_viewer_403_outsider_404(project, admin_user, tagger_user, viewer_user, outsider_user):
    do_add_class(admin_user, project, name="A")
    b = do_add_class(admin_user, project, name="B")
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, b), {"direction": "up"}).status_code == 403
    assert login(outsider_user).post(url(project, b), {"direction": "up"}).status_code == 404
    assert names(project) == ["A", "B"]
    assert Class.objects.count() == 2
