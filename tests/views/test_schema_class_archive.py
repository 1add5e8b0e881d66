import pytest

from classifiers.actions.schema import do_add_class
from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project, cls):
    return f"/projects/{project.slug}/schema/classes/{cls.pk}/archive/"


@pytest.fixture
def invoice(project, admin_user, tagger_user):
    cls = do_add_class(admin_user, project, name="Invoice", hotkey="i")
    doc = Document.objects.create(project=project, text="t", text_hash="0" * 64)
    Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=tagger_user)
    return cls


def test_archive_keeps_tags_and_restore(project, admin_user, invoice):
    client = login(admin_user)
    response = htmx(client, "post", url(project, invoice), {"archived": "1"})
    assert response.status_code == 200
    assert "archived: hidden from tagging, its tags kept" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.archived and invoice.tags.count() == 1
    version = project.schema_versions.get(number=2)
    assert version.change == "class.archive"
    assert version.classes == [{"id": invoice.pk, "name": "Invoice", "archived": True}]
    assert AuditEntry.objects.get(action="class.archive").payload == {"name": "Invoice", "schema_version": 2}
    # Without JS: plain POST, redirect; restore.
    response = client.post(url(project, invoice), {"archived": "0"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert not invoice.archived
    assert project.schema_versions.get(number=3).change == "class.unarchive"


def test_without_a_value_it_toggles(project, admin_user, invoice):
    client = login(admin_user)
    client.post(url(project, invoice))
    assert Class.objects.get(pk=invoice.pk).archived
    client.post(url(project, invoice))
    assert not Class.objects.get(pk=invoice.pk).archived


def test_repeated_archive_is_no_new_version(project, admin_user, invoice):
    client = login(admin_user)
    htmx(client, "post", url(project, invoice), {"archived": "1"})
    response = htmx(client, "post", url(project, invoice), {"archived": "1"})
    assert response.status_code == 200 and "already archived" in response.content.decode()
    assert project.schema_versions.count() == 2


def test_restore_refused_when_the_hotkey_was_taken(project, admin_user, invoice):
    client = login(admin_user)
    htmx(client, "post", url(project, invoice), {"archived": "1"})
    do_add_class(admin_user, project, name="Income", hotkey="i")
    response = htmx(client, "post", url(project, invoice), {"archived": "0"})
    assert response.status_code == 422
    assert "Hotkey “i” is now used by “Income”" in response.content.decode()
    assert Class.objects.get(pk=invoice.pk).archived


def test_trainable_category_cannot_be_archived(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    category = project.classes.get()
    response = htmx(login(admin_user), "post", url(project, category), {"archived": "1"})
    assert response.status_code == 422 and "cannot be archived" in response.content.decode()
    assert not Class.objects.get(pk=category.pk).archived


def test_forged_class_id_is_404(project, other_project, admin_user, outsider_user):
    theirs = do_add_class(outsider_user, other_project, name="Theirs")
    assert login(admin_user).post(url(project, theirs), {"archived": "1"}).status_code == 404
    assert not Class.objects.get(pk=theirs.pk).archived


def test_tagger_and_viewer_403_outsider_404(project, invoice, tagger_user, viewer_user, outsider_user):
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, invoice), {"archived": "1"}).status_code == 403
    assert login(outsider_user).post(url(project, invoice), {"archived": "1"}).status_code == 404
    assert not Class.objects.get(pk=invoice.pk).archived


def test_get_not_allowed(project, admin_user, invoice):
    assert login(admin_user).get(url(project, invoice)).status_code == 405
