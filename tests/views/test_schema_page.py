import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classifiers.actions.schema import do_add_class, do_archive_class, do_update_guidelines
from classifiers.models import Document, Tag
from tests.conftest import make_project
from tests.helpers import htmx, login


def url(project):
    return f"/projects/{project.slug}/schema/"


@pytest.fixture
def classes(project, admin_user, tagger_user):
    invoice = do_add_class(
        admin_user, project, name="Invoice", description="Bills <b>we</b> sent", colour="#aa3300", hotkey="i"
    )
    old = do_add_class(admin_user, project, name="Old")
    do_archive_class(admin_user, old, True)
    for n in range(3):
        doc = Document.objects.create(project=project, text=f"t{n}", text_hash=f"{n:064d}")
        Tag.objects.create(project=project, document=doc, tag_class=invoice, tagger=tagger_user)
    return invoice, old


def test_viewer_reads_classes_versions_and_guidelines(project, viewer_user, classes, admin_user):
    do_update_guidelines(admin_user, project, "# Rules\n\nTag **every** page.<script>alert(1)</script>")
    response = login(viewer_user).get(url(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["section"] == "schema" and response.context["project"] == project
    assert "Invoice" in body and "Bills &lt;b&gt;we&lt;/b&gt; sent" in body and "<kbd>i</kbd>" in body
    assert '<rect width="14" height="14" rx="3" fill="#aa3300"/>' in body
    assert "Archived" in body
    invoice = next(c for c in response.context["classes"] if c.name == "Invoice")
    assert invoice.tag_count == 3
    assert "<h1>Rules</h1>" in body and "<strong>every</strong>" in body and "alert(1)" not in body
    assert "class.archive" in body  # the schema versions list
    # Readers get no edit controls.
    assert "Add a class" not in body and "/edit/" not in body and "Edit guidelines" not in body
    assert " style=" not in body  # strict CSP: the swatch's colour is an SVG attribute


def test_tagger_reads_the_page(project, tagger_user, classes):
    assert login(tagger_user).get(url(project)).status_code == 200


def test_admin_sees_edit_controls(project, admin_user, classes):
    invoice, old = classes
    body = login(admin_user).get(url(project)).content.decode()
    assert "Add a class" in body and "Edit guidelines" in body
    assert f"/schema/classes/{invoice.pk}/edit/" in body and f"/schema/classes/{old.pk}/archive/" in body
    assert "Restore" in body  # the archived class
    assert 'type="color"' in body


def test_htmx_get_answers_the_partial(project, admin_user, classes):
    response = htmx(login(admin_user), "get", url(project))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert (
        'id="schema"' in body
        and 'id="schema-versions" aria-labelledby="versions-title" hx-swap-oob="true"' in body
    )


def test_tag_counts_take_one_query_whatever_the_number_of_classes(project, admin_user, tagger_user):
    client = login(admin_user)
    do_add_class(admin_user, project, name="One")
    client.get(url(project))
    with CaptureQueriesContext(connection) as few:
        client.get(url(project))
    for n in range(10):
        cls = do_add_class(admin_user, project, name=f"Class {n}")
        doc = Document.objects.create(project=project, text=f"t{n}", text_hash=f"{n:064d}")
        Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=tagger_user)
    with CaptureQueriesContext(connection) as many:
        client.get(url(project))
    assert len(many) == len(few)


def test_trainable_page_explains_the_single_category(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    body = login(admin_user).get(url(project)).content.decode()
    assert "has one category" in body and "Add a class" not in body
    assert "Merge" not in body and "Archive" not in body and "Delete" not in body and "Hotkey" not in body
    assert "/edit/" in body


def test_outsider_404_anonymous_to_login(client, project, outsider_user):
    assert login(outsider_user).get(url(project)).status_code == 404
    response = client.get(url(project))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_post_not_allowed(project, admin_user):
    assert login(admin_user).post(url(project)).status_code == 405
