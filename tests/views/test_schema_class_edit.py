import pytest

from classifiers.actions.schema import do_add_class, do_archive_class
from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project, cls):
    return f"/projects/{project.slug}/schema/classes/{cls.pk}/edit/"


@pytest.fixture
def invoice(project, admin_user, tagger_user):
    cls = do_add_class(admin_user, project, name="Invoce", hotkey="i")
    for n in range(2):
        doc = Document.objects.create(project=project, text=f"t{n}", text_hash=f"{n:064d}")
        Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=tagger_user)
    return cls


def data(cls, **fields):
    return {
        "name": cls.name,
        "description": cls.description,
        "colour": cls.colour,
        "hotkey": cls.hotkey,
        **fields,
    }


def test_rename_keeps_every_tag_and_is_a_schema_version(project, admin_user, invoice):
    response = htmx(login(admin_user), "post", url(project, invoice), data(invoice, name="Invoice"))
    assert response.status_code == 200
    assert "Renamed to “Invoice”; its tags are kept. Schema version 2." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.name == "Invoice" and invoice.tags.count() == 2
    version = project.schema_versions.get(number=2)
    assert version.change == "class.rename"
    assert version.classes == [{"id": invoice.pk, "name": "Invoice", "archived": False}]
    entry = AuditEntry.objects.get(action="class.rename")
    assert entry.payload == {"before": {"name": "Invoce"}, "after": {"name": "Invoice"}, "schema_version": 2}


def test_description_colour_hotkey_without_js(project, admin_user, invoice):
    response = login(admin_user).post(
        url(project, invoice), data(invoice, description="Bills we sent", colour="#FF0000", hotkey="v")
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.description, invoice.colour, invoice.hotkey) == ("Bills we sent", "#ff0000", "v")
    assert project.schema_versions.count() == 1  # not a schema version
    assert AuditEntry.objects.filter(action="class.edit").count() == 1


def test_case_only_rename_is_allowed(project, admin_user, invoice):
    htmx(login(admin_user), "post", url(project, invoice), data(invoice, name="INVOCE"))
    invoice.refresh_from_db()
    assert invoice.name == "INVOCE"


def test_get_opens_the_row_as_a_form(project, admin_user, invoice):
    client = login(admin_user)
    page = client.get(url(project, invoice))
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert f'id="edit-{invoice.pk}-name"' in page.content.decode()
    partial = htmx(client, "get", url(project, invoice)).content.decode()
    assert "<html" not in partial and 'value="Invoce"' in partial


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "A class needs a name."),
        ({"name": "contract"}, "This project already has a class named “Contract”."),
        ({"name": "Tab\tname"}, "cannot contain control characters"),
        ({"name": "y" * 101}, "at most 100 characters"),
        ({"colour": "#12345g"}, "#rrggbb"),
        ({"hotkey": "c"}, "Hotkey “c” is already used by “Contract”."),
        ({"hotkey": "?"}, "“?” is kept for the shortcuts help"),
        ({"hotkey": "5"}, "Digits cannot be hotkeys"),
    ],
)
def test_bad_input_is_explained(project, admin_user, invoice, fields, message):
    do_add_class(admin_user, project, name="Contract", hotkey="c")
    response = htmx(login(admin_user), "post", url(project, invoice), data(invoice, **fields))
    assert response.status_code == 422 and message in response.content.decode()
    assert response.context["editing"] == invoice.pk  # the row stays open with its errors
    invoice.refresh_from_db()
    assert (invoice.name, invoice.hotkey) == ("Invoce", "i")


def test_archived_class_may_share_a_hotkey(project, admin_user, invoice):
    do_archive_class(admin_user, invoice, True)
    do_add_class(admin_user, project, name="Contract", hotkey="c")
    response = htmx(login(admin_user), "post", url(project, invoice), data(invoice, hotkey="c"))
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.hotkey == "c"


def test_trainable_category_rename_yes_hotkey_no(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    category = project.classes.get()
    client = login(admin_user)
    response = htmx(
        client, "post", url(project, category), {"name": "Bullying", "description": "d", "colour": "#00aa00"}
    )
    assert response.status_code == 200
    category.refresh_from_db()
    assert (category.name, category.description, category.colour) == ("Bullying", "d", "#00aa00")
    # The form has no hotkey field; a forged one is ignored.
    htmx(client, "post", url(project, category), {"name": "Bullying", "colour": "#00aa00", "hotkey": "b"})
    category.refresh_from_db()
    assert category.hotkey == ""


def test_forged_class_id_of_another_project_is_404(project, other_project, admin_user, outsider_user):
    theirs = do_add_class(outsider_user, other_project, name="Theirs")
    response = login(admin_user).post(url(project, theirs), data(theirs, name="Mine"))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert login(admin_user).get(f"/projects/{project.slug}/schema/classes/999999/edit/").status_code == 404


def test_tagger_and_viewer_403_outsider_404(project, invoice, tagger_user, viewer_user, outsider_user):
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, invoice), data(invoice, name="Hacked")).status_code == 403
        assert login(user).get(url(project, invoice)).status_code == 403
    assert login(outsider_user).post(url(project, invoice), data(invoice, name="Hacked")).status_code == 404
    assert Class.objects.get(pk=invoice.pk).name == "Invoce"
