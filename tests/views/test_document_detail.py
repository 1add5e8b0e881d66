from datetime import UTC, datetime

import pytest

from classifiers.actions.documents import do_assign_set
from classifiers.actions.tags import do_bulk_tag, do_set_document_tags
from classifiers.models import Class, UploadBatch
from classifiers.views import documents as document_views
from tests.helpers import login
from tests.test_search import make_doc


def url(project, doc, query=""):
    return f"/projects/{project.slug}/documents/{doc.pk}/" + (f"?{query}" if query else "")


@pytest.fixture
def doc(project, admin_user):
    batch = UploadBatch.objects.create(project=project, created_by=admin_user)
    return make_doc(
        project,
        "<script>alert(1)</script>\nSecond line",
        filename="mail.eml",
        content_type="message/rfc822",
        sha256="ab" * 32,
        external_id="ext-7",
        metadata={"subject": "Quarterly <b>report</b>", "from": "x@example.com", "pages": 3},
        file_modified=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        batch=batch,
    )


def test_admin_sees_text_escaped_metadata_and_tags(project, admin_user, tagger_user, doc):
    cls = Class.objects.create(project=project, name="Reports")
    do_set_document_tags(tagger_user, doc, [cls])
    response = login(admin_user).get(url(project, doc))
    assert response.status_code == 200
    body = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert 'class="doctext"' in body
    assert "Quarterly &lt;b&gt;report&lt;/b&gt;" in body  # the title from metadata, escaped
    assert "message/rfc822" in body and "ab" * 32 in body and "ext-7" in body and "2025-03-01" in body
    assert f"/uploads/{doc.batch_id}/" in body  # the upload batch page
    assert "Reports" in body and "tom" in body  # tag with who
    assert "tag.set" in body  # history
    assert response.context["section"] == "documents"


def test_viewer_reads_without_controls(project, viewer_user, doc):
    response = login(viewer_user).get(url(project, doc))
    body = response.content.decode()
    assert response.status_code == 200 and 'name="set"' not in body and 'name="op"' not in body


def test_tagger_gets_controls(project, tagger_user, doc):
    body = login(tagger_user).get(url(project, doc)).content.decode()
    assert 'name="set"' in body and 'value="add"' in body


def test_outsider_and_forged_id(project, other_project, admin_user, outsider_user, doc):
    assert login(outsider_user).get(url(project, doc)).status_code == 404
    theirs = make_doc(other_project, "secret")
    assert login(admin_user).get(url(project, theirs)).status_code == 404


def test_long_text_is_cut_for_display(project, admin_user, monkeypatch):
    monkeypatch.setattr(document_views, "DISPLAY_CHARS", 100)
    long = make_doc(project, "x" * 150 + "TAILMARK")
    body = login(admin_user).get(url(project, long)).content.decode()
    assert "TAILMARK" not in body and "Showing the first 100 of 158 characters" in body


def test_history_lists_single_and_bulk_entries(project, admin_user, doc):
    other = make_doc(project, "other")
    cls = Class.objects.create(project=project, name="Reports")
    do_assign_set(admin_user, project, [doc.pk], "test")  # object = the document
    do_bulk_tag(admin_user, project, [doc.pk, other.pk], cls)  # payload lists the ids
    do_assign_set(admin_user, project, [other.pk], "test")  # not about this document
    history = list(login(admin_user).get(url(project, doc)).context["history"])
    assert [e.action for e in history] == ["tag.bulk_add", "document.assign_set"]


def test_prev_next_within_the_filter(project, admin_user):
    docs = [make_doc(project, f"{'keep' if i != 2 else 'skip'} {i}") for i in range(5)]
    ctx = login(admin_user).get(url(project, docs[3], "q=keep&sort=oldest")).context
    assert (ctx["prev_id"], ctx["next_id"]) == (docs[1].pk, docs[4].pk)
    body = login(admin_user).get(url(project, docs[3], "q=keep&sort=oldest")).content.decode()
    assert f"/documents/{docs[1].pk}/?q=keep&amp;sort=oldest" in body


def test_trainable_page_has_match_buttons(admin_user):
    from tests.conftest import make_project

    project = make_project(admin_user, name="Spotter", kind="trainable")
    doc = make_doc(project, "x")
    body = login(admin_user).get(url(project, doc)).content.decode()
    assert 'name="positive" value="1"' in body and 'name="positive" value="0"' in body
