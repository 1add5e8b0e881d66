import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from classifiers.actions.documents import do_delete_documents
from tests.helpers import login
from tests.test_search import make_doc

HTML = b"<html><script>alert(document.cookie)</script></html>"


def url(project, doc):
    return f"/projects/{project.slug}/documents/{doc.pk}/original/"


@pytest.fixture
def doc(project):
    doc = make_doc(project, "alert", filename='evil "name".html', content_type="text/html", sha256="cd" * 32)
    doc.original.save("ignored.html", ContentFile(HTML))
    return doc


def test_download_is_an_attachment_never_inline(project, viewer_user, doc):
    response = login(viewer_user).get(url(project, doc))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "evil _name_.html" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == HTML


def test_no_original_or_missing_file_is_404(project, admin_user, doc):
    plain = make_doc(project, "no file")
    assert login(admin_user).get(url(project, plain)).status_code == 404
    default_storage.delete(doc.original.name)
    assert login(admin_user).get(url(project, doc)).status_code == 404


def test_outsider_and_forged(project, other_project, admin_user, outsider_user, doc):
    assert login(outsider_user).get(url(project, doc)).status_code == 404
    theirs = make_doc(other_project, "theirs", sha256="ef" * 32)
    theirs.original.save("x.txt", ContentFile(b"secret"))
    assert login(admin_user).get(url(project, theirs)).status_code == 404


def test_delete_removes_the_file_only_when_unshared(
    project, admin_user, doc, django_capture_on_commit_callbacks
):
    twin = make_doc(project, "same file", sha256=doc.sha256, original=doc.original.name)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        do_delete_documents(admin_user, project, [doc.pk], 1)
    assert default_storage.exists(twin.original.name)  # the twin still needs it
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_documents(admin_user, project, [twin.pk], 1)
    assert not default_storage.exists(twin.original.name)
