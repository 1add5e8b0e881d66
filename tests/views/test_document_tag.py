import pytest

from classifiers.actions.tags import do_set_document_tags
from classifiers.models import Class, Tag
from tests.conftest import make_project
from tests.helpers import htmx, login
from tests.test_search import make_doc


def url(project, doc):
    return f"/projects/{project.slug}/documents/{doc.pk}/tags/"


@pytest.fixture
def classes(project):
    return [Class.objects.create(project=project, name=n) for n in ("Billing", "Legal")]


def test_tagger_sets_and_replaces_tag_single_label(project, tagger_user, classes):
    doc = make_doc(project, "x")
    client = login(tagger_user)
    response = htmx(client, "post", url(project, doc), {"op": "add", "class": classes[0].pk})
    assert response.status_code == 200 and "Tagged Billing" in response.content.decode()
    htmx(client, "post", url(project, doc), {"op": "add", "class": classes[1].pk})
    assert list(Tag.objects.values_list("tag_class__name", flat=True)) == ["Legal"]
    response = htmx(client, "post", url(project, doc), {"op": "remove", "class": classes[1].pk})
    assert "Removed Legal" in response.content.decode() and not Tag.objects.exists()


def test_multi_label_adds(admin_user):
    project = make_project(admin_user, name="Topics", kind="multi_label")
    a, b = (Class.objects.create(project=project, name=n) for n in "AB")
    doc = make_doc(project, "x")
    for cls in (a, b):
        htmx(login(admin_user), "post", url(project, doc), {"op": "add", "class": cls.pk})
    assert sorted(Tag.objects.values_list("tag_class__name", flat=True)) == ["A", "B"]


def test_trainable_match_then_not_match(admin_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    category = project.classes.get()
    doc = make_doc(project, "x")
    client = login(admin_user)
    htmx(client, "post", url(project, doc), {"op": "add", "class": category.pk, "positive": "1"})
    response = htmx(client, "post", url(project, doc), {"op": "add", "class": category.pk, "positive": "0"})
    assert "Tagged not a match" in response.content.decode()
    assert list(Tag.objects.values_list("positive", flat=True)) == [False]


def test_tagger_removes_only_own_admin_removes_all(project, admin_user, tagger_user, classes):
    doc = make_doc(project, "x")
    do_set_document_tags(admin_user, doc, [classes[0]])
    do_set_document_tags(tagger_user, doc, [classes[0]])
    htmx(login(tagger_user), "post", url(project, doc), {"op": "remove", "class": classes[0].pk})
    assert list(Tag.objects.values_list("tagger__username", flat=True)) == ["alice"]
    do_set_document_tags(tagger_user, doc, [classes[0]])
    htmx(login(admin_user), "post", url(project, doc), {"op": "remove", "class": classes[0].pk})
    assert not Tag.objects.exists()


def test_bad_input(project, other_project, admin_user, classes):
    doc = make_doc(project, "x")
    client = login(admin_user)
    assert htmx(client, "post", url(project, doc), {"op": "add", "class": "x"}).status_code == 422
    assert htmx(client, "post", url(project, doc), {"op": "smash", "class": classes[0].pk}).status_code == 422
    theirs = Class.objects.create(project=other_project, name="Theirs")
    assert htmx(client, "post", url(project, doc), {"op": "add", "class": theirs.pk}).status_code == 404
    archived = Class.objects.create(project=project, name="Old", archived=True)
    response = htmx(client, "post", url(project, doc), {"op": "add", "class": archived.pk})
    assert response.status_code == 422 and "archived" in response.content.decode()
    assert not Tag.objects.exists()


def test_viewer_403_outsider_404(project, other_project, viewer_user, outsider_user, admin_user, classes):
    doc = make_doc(project, "x")
    assert (
        login(viewer_user).post(url(project, doc), {"op": "add", "class": classes[0].pk}).status_code == 403
    )
    assert (
        login(outsider_user).post(url(project, doc), {"op": "add", "class": classes[0].pk}).status_code == 404
    )
    theirs = make_doc(other_project, "secret")
    assert (
        login(admin_user).post(url(project, theirs), {"op": "add", "class": classes[0].pk}).status_code == 404
    )
    assert not Tag.objects.exists()
