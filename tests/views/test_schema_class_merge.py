import pytest

from classifiers.actions.schema import do_add_class, do_archive_class
from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project, cls):
    return f"/projects/{project.slug}/schema/classes/{cls.pk}/merge/"


def doc(project, n):
    return Document.objects.create(project=project, text=f"t{n}", text_hash=f"{n:064d}")


@pytest.fixture
def bill_and_invoice(project, admin_user, tagger_user):
    bill = do_add_class(admin_user, project, name="Bill")
    invoice = do_add_class(admin_user, project, name="Invoice")
    shared = doc(project, 1)
    Tag.objects.create(project=project, document=shared, tag_class=bill, tagger=tagger_user)
    Tag.objects.create(project=project, document=shared, tag_class=invoice, tagger=tagger_user)
    Tag.objects.create(project=project, document=shared, tag_class=bill, tagger=admin_user)
    Tag.objects.create(project=project, document=doc(project, 2), tag_class=bill, tagger=tagger_user)
    return bill, invoice


def test_merge_moves_tags_and_drops_the_same_taggers_duplicate(
    project, admin_user, tagger_user, bill_and_invoice
):
    bill, invoice = bill_and_invoice
    response = htmx(login(admin_user), "post", url(project, bill), {"target": invoice.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "“Bill” merged into “Invoice”: 2 tags moved (1 tag dropped: the same tagger had both)" in body
    assert not Class.objects.filter(pk=bill.pk).exists()
    assert invoice.tags.count() == 3
    assert invoice.tags.filter(tagger=tagger_user).count() == 2
    version = project.schema_versions.get(number=3)
    assert version.change == "class.merge"
    assert version.classes == [{"id": invoice.pk, "name": "Invoice", "archived": False}]
    assert AuditEntry.objects.get(action="class.merge").payload["schema_version"] == 3


def test_merge_without_js_redirects(project, admin_user, bill_and_invoice):
    bill, invoice = bill_and_invoice
    response = login(admin_user).post(url(project, bill), {"target": invoice.pk})
    assert response.status_code == 302 and not Class.objects.filter(pk=bill.pk).exists()


@pytest.mark.parametrize(
    "target, message",
    [("", "Pick the class to merge “Bill” into."), ("abc", "Pick the class"), ("self", "into itself")],
)
def test_bad_target_is_explained(project, admin_user, bill_and_invoice, target, message):
    bill, _ = bill_and_invoice
    if target == "self":
        target = bill.pk
    response = htmx(login(admin_user), "post", url(project, bill), {"target": target})
    assert response.status_code == 422 and message in response.content.decode()
    assert bill.tags.count() == 3


def test_merge_into_an_archived_class_is_refused(project, admin_user, bill_and_invoice):
    bill, invoice = bill_and_invoice
    do_archive_class(admin_user, invoice, True)
    response = htmx(login(admin_user), "post", url(project, bill), {"target": invoice.pk})
    assert response.status_code == 422
    assert "“Invoice” is archived: restore it first" in response.content.decode()
    assert bill.tags.count() == 3


def test_forged_ids_are_404(project, other_project, admin_user, outsider_user, bill_and_invoice):
    bill, _ = bill_and_invoice
    theirs = do_add_class(outsider_user, other_project, name="Theirs")
    client = login(admin_user)
    assert client.post(url(project, bill), {"target": theirs.pk}).status_code == 404  # target elsewhere
    assert client.post(url(project, theirs), {"target": bill.pk}).status_code == 404  # source elsewhere
    assert client.post(url(project, bill), {"target": 10**30}).status_code == 404
    assert bill.tags.count() == 3 and Class.objects.filter(pk=theirs.pk).exists()


def test_trainable_category_cannot_be_merged(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    category = project.classes.get()
    response = htmx(login(admin_user), "post", url(project, category), {"target": category.pk})
    assert response.status_code == 422 and "cannot be merged" in response.content.decode()


def test_tagger_and_viewer_403_outsider_404(
    project, bill_and_invoice, tagger_user, viewer_user, outsider_user
):
    bill, invoice = bill_and_invoice
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, bill), {"target": invoice.pk}).status_code == 403
    assert login(outsider_user).post(url(project, bill), {"target": invoice.pk}).status_code == 404
    assert Class.objects.filter(pk=bill.pk).exists()
