import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.models import Document, UploadBatch, UploadResult
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.uploads import mixed_zip, txt


def url(project):
    return f"/projects/{project.slug}/upload/"


def test_page_shows_form_to_tagger(project, tagger_user):
    body = login(tagger_user).get(url(project)).content.decode()
    assert "Drop files here" in body and 'name="set"' in body


def test_upload_files_processed(project, tagger_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(tagger_user).post(
            url(project), {"files": [txt("a.txt", "first text"), txt("b.txt", "second text")], "set": "test"}
        )
    batch = UploadBatch.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/projects/{project.slug}/uploads/{batch.pk}/"
    )
    batch.refresh_from_db()
    assert (batch.status, batch.imported, batch.rejected) == ("done", 2, 0)
    assert set(Document.objects.values_list("set", flat=True)) == {"test"}
    assert AuditEntry.objects.filter(action="upload.create").exists()
    assert AuditEntry.objects.filter(action="upload.finish", actor_name="system").exists()


def test_mixed_zip_gives_a_result_per_file(project, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = htmx(
            login(admin_user), "post", url(project),
            {"files": [SimpleUploadedFile("mixed.zip", mixed_zip())], "set": "training"},
        )  # fmt: skip
    assert response.status_code == 200 and "HX-Redirect" in response
    batch = UploadBatch.objects.get()
    results = {r.path: r for r in UploadResult.objects.filter(batch=batch)}
    assert results["mixed.zip/mail/renewal.eml"].status == "imported"
    assert results["mixed.zip/contracts/msa.docx"].status == "imported"
    assert results["mixed.zip/web/page.html"].status == "imported"
    assert results["mixed.zip/scans/stamp.png"].status == "imported"
    assert results["mixed.zip/notes/copy-of-meeting.txt"].status == "duplicate"
    assert (
        results["mixed.zip/notes/copy-of-meeting.txt"].duplicate_of
        == results["mixed.zip/notes/meeting.txt"].document
    )
    assert results["mixed.zip/broken/report.pdf"].reason in ("type_mismatch", "corrupt")
    assert results["mixed.zip/empty.txt"].reason == "empty_text"
    assert any(r.reason == "unsafe_path" for r in results.values())
    assert results["mixed.zip/program.exe"].reason == "unsupported_type"
    html = Document.objects.get(filename="page.html")
    assert "Holiday rota" in html.text and "alert" not in html.text
    mail = Document.objects.get(filename="renewal.eml")
    assert (mail.metadata["subject"] == "Contract renewal" and mail.file_created) or mail.file_modified
    image = Document.objects.get(filename="stamp.png")
    assert image.thumbnail.name and image.original.name
    batch.refresh_from_db()
    assert batch.status == "done" and batch.processed == len(results)
    assert batch.imported + batch.duplicates + batch.rejected == len(results)


def test_bad_input(project, tagger_user):
    client = login(tagger_user)
    response = htmx(client, "post", url(project), {"set": "training"})
    assert response.status_code == 422 and "Choose at least one file" in response.content.decode()
    response = htmx(client, "post", url(project), {"files": [txt("a.txt", "x")], "set": "seed"})
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    assert not UploadBatch.objects.exists()


def test_too_many_files(project, tagger_user, settings):
    settings.STUDIO_MAX_FILES_PER_BATCH = 2
    files = [txt(f"{i}.txt", f"text {i}") for i in range(3)]
    response = login(tagger_user).post(url(project), {"files": files, "set": "training"})
    assert response.status_code == 422 and "At most 2 files" in response.content.decode()


@pytest.mark.parametrize("who, status", [("viewer_user", 403), ("outsider_user", 404)])
def test_forbidden(project, request, who, status):
    user = request.getfixturevalue(who)
    response = login(user).post(url(project), {"files": [txt("a.txt", "x")], "set": "training"})
    assert response.status_code == status
    assert not UploadBatch.objects.exists()
