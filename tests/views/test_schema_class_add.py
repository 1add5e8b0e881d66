import pytest

from classifiers.actions.schema import do_add_class
from classifiers.models import Class, SchemaVersion
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project):
    return f"/projects/{project.slug}/schema/classes/add/"


def data(**fields):
    return {"name": "Invoice", "description": "", "colour": "#2f5d8a", "hotkey": "", **fields}


def test_admin_adds_class_without_js(project, admin_user):
    response = login(admin_user).post(url(project), data(description="Bills we sent", hotkey="I"))
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/schema/"
    cls = Class.objects.get(project=project)
    assert (cls.name, cls.description, cls.hotkey, cls.archived) == ("Invoice", "Bills we sent", "i", False)
    version = SchemaVersion.objects.get(project=project)
    assert (version.number, version.change, version.created_by) == (1, "class.add", admin_user)
    assert version.classes == [{"id": cls.pk, "name": "Invoice", "archived": False}]
    assert AuditEntry.objects.get(action="class.add").payload["schema_version"] == 1


def test_admin_adds_class_over_htmx(project, admin_user):
    client = login(admin_user)
    response = htmx(client, "post", url(project), data())
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Class “Invoice” added: schema version 1." in body and 'id="class-' in body
    assert 'hx-swap-oob="true"' in body  # the versions list comes along
    htmx(client, "post", url(project), data(name="Contract"))
    assert list(project.schema_versions.values_list("number", flat=True)) == [2, 1]


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": ""}, "name", "A class needs a name."),
        ({"name": "   "}, "name", "A class needs a name."),
        ({"name": "Line\nbreak"}, "name", "cannot contain control characters"),
        ({"name": "x" * 101}, "name", "at most 100 characters (this one has 101)"),
        ({"name": "taken"}, "name", "This project already has a class named “Taken”."),
        ({"colour": "blue"}, "colour", "A colour is written #rrggbb"),
        ({"colour": ""}, "colour", "A colour is written #rrggbb"),
        ({"hotkey": "7"}, "hotkey", "Digits cannot be hotkeys: 1 to 9 already pick a class by its position"),
        ({"hotkey": " "}, "hotkey", "Space cannot be a hotkey"),
        ({"hotkey": "m"}, "hotkey", "“m” is kept for match in the tagging view"),
        ({"hotkey": "n"}, "hotkey", "“n” is kept for not a match"),
        ({"hotkey": "u"}, "hotkey", "“u” is kept for undo"),
        ({"hotkey": "xy"}, "hotkey", "A hotkey is one key: a single letter."),
        ({"hotkey": "T"}, "hotkey", "Hotkey “t” is already used by “Taken”."),
        ({"description": "d" * 5001}, "description", "at most 5000 characters"),
    ],
)
def test_bad_input_is_explained(project, admin_user, fields, field, message):
    do_add_class(admin_user, project, name="Taken", hotkey="t")
    response = htmx(login(admin_user), "post", url(project), data(**fields))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert field in response.context["add_form"].errors
    assert project.classes.count() == 1 and project.schema_versions.count() == 1


def test_several_errors_at_once_without_js(project, admin_user):
    response = login(admin_user).post(url(project), data(name="", colour="x", hotkey="1"))
    assert response.status_code == 422
    assert set(response.context["add_form"].errors) == {"name", "colour", "hotkey"}
    assert "<html" in response.content.decode()


def test_trainable_project_refuses_a_second_class(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    response = htmx(login(admin_user), "post", url(project), data())
    assert response.status_code == 422 and "exactly one category" in response.content.decode()
    assert project.classes.count() == 1


def test_tagger_and_viewer_may_not_add(project, tagger_user, viewer_user):
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project), data()).status_code == 403
    assert not Class.objects.filter(project=project).exists()


def test_outsider_gets_404(project, outsider_user):
    assert login(outsider_user).post(url(project), data()).status_code == 404
    assert not Class.objects.filter(project=project).exists()


def test_get_not_allowed(project, admin_user):
    assert login(admin_user).get(url(project)).status_code == 405
