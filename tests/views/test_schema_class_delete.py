import pytest

from classifiers.actions.schema import do_add_class
from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project, cls):
    return f"/projects/{project.slug}/schema/classes/{cls.pk}/delete/"


@pytest.fixture
def used(project, admin_user, tagger_user):
    """A class with 3 tags on 2 documents."""
    cls = do_add_class(admin_user, project, name="Used")
    first = Document.objects.create(project=project, text="a", text_hash="1" * 64)
    second = Document.objects.create(project=project, text="b", text_hash="2" * 64)
    for document, tagger in ((first, tagger_user), (first, admin_user), (second, tagger_user)):
        Tag.objects.create(project=project, document=document, tag_class=cls, tagger=tagger)
    return cls


def test_unused_class_is_deleted_at_once(project, admin_user):
    cls = do_add_class(admin_user, project, name="Unused")
    response = htmx(login(admin_user), "post", url(project, cls))
    assert response.status_code == 200 and "“Unused” deleted. Schema version 2." in response.content.decode()
    assert not Class.objects.filter(pk=cls.pk).exists()
    assert project.schema_versions.get(number=2).classes == []
    assert AuditEntry.objects.get(action="class.delete").payload == {
        "name": "Unused", "tags": 0, "documents": 0, "schema_version": 2,
    }  # fmt: skip


def test_used_class_asks_with_the_counts_then_deletes(project, admin_user, used):
    client = login(admin_user)
    response = htmx(client, "post", url(project, used))
    body = response.content.decode()
    assert response.status_code == 200
    assert "3 tags on 2 documents will be deleted with it" in body
    assert 'name="confirm" value="3"' in body
    assert Tag.objects.filter(tag_class=used).count() == 3 and project.schema_versions.count() == 1
    response = htmx(client, "post", url(project, used), {"confirm": "3"})
    assert response.status_code == 200 and "deleted with its 3 tags" in response.content.decode()
    assert not Class.objects.filter(pk=used.pk).exists() and not Tag.objects.exists()
    assert AuditEntry.objects.get(action="class.delete").payload["tags"] == 3


def test_used_class_without_js(project, admin_user, used):
    client = login(admin_user)
    response = client.post(url(project, used))
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "3 tags on 2 documents will be deleted with it" in response.content.decode()
    assert client.post(url(project, used), {"confirm": "3"}).status_code == 302
    assert not Class.objects.filter(pk=used.pk).exists()


@pytest.mark.parametrize("confirm", ["2", "0", "4", "three", "-3"])
def test_a_wrong_count_refuses(project, admin_user, used, confirm):
    response = htmx(login(admin_user), "post", url(project, used), {"confirm": confirm})
    assert response.status_code == 422
    body = response.content.decode()
    assert "now has 3 tags" in body and "3 tags on 2 documents will be deleted with it" in body
    assert Tag.objects.filter(tag_class=used).count() == 3


def test_a_tag_added_after_the_question_asks_again(project, admin_user, viewer_user, used):
    client = login(admin_user)
    htmx(client, "post", url(project, used))
    Tag.objects.create(project=project, document=Document.objects.first(), tag_class=used, tagger=viewer_user)
    response = htmx(client, "post", url(project, used), {"confirm": "3"})
    assert response.status_code == 422 and "now has 4 tags, not 3" in response.content.decode()
    assert Class.objects.filter(pk=used.pk).exists()


def test_trainable_category_cannot_be_deleted(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    category = project.classes.get()
    response = htmx(login(admin_user), "post", url(project, category), {"confirm": "0"})
    assert response.status_code == 422 and "cannot be deleted" in response.content.decode()
    assert Class.objects.filter(pk=category.pk).exists()


def test_forged_class_id_is_404(project, other_project, admin_user, outsider_user):
    theirs = do_add_class(outsider_user, other_project, name="Theirs")
    assert login(admin_user).post(url(project, theirs)).status_code == 404
    assert Class.objects.filter(pk=theirs.pk).exists()


def test_tagger_and_viewer_403_outsider_404(project, used, tagger_user, viewer_user, outsider_user):
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, used), {"confirm": "3"}).status_code == 403
    assert login(outsider_user).post(url(project, used), {"confirm": "3"}).status_code == 404
    assert Tag.objects.filter(tag_class=used).count() == 3
