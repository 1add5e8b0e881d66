from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.models import Class, Document, SchemaVersion, Tag, UploadBatch
from tests.helpers import login

CSV = b"id,body,label\n1,Invoice for March,finance\n2,Team lunch on Friday,social\n3,Overdue payment,finance\n4,,finance\n"


def upload_csv(project, user, data=CSV, name="rows.csv"):
    login(user).post(
        f"/projects/{project.slug}/upload/", {"files": [SimpleUploadedFile(name, data)], "set": "training"}
    )
    return UploadBatch.objects.get()


def test_csv_waits_for_columns_then_imports(project, tagger_user, django_capture_on_commit_callbacks):
    batch = upload_csv(project, tagger_user)
    assert batch.status == "options" and batch.source == "csv"
    page = login(tagger_user).get(f"/projects/{project.slug}/uploads/{batch.pk}/").content.decode()
    assert "Choose the columns" in page and 'value="body"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = login(tagger_user).post(
            f"/projects/{project.slug}/uploads/{batch.pk}/columns/",
            {"text_column": "body", "label_columns": ["label"], "id_column": "id"},
        )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.imported, batch.rejected, batch.tags_created) == ("done", 3, 1, 3)
    assert set(Class.objects.filter(project=project).values_list("name", flat=True)) == {"finance", "social"}
    assert SchemaVersion.objects.filter(project=project).count() == 2  # one per new class
    doc = Document.objects.get(external_id="3")
    assert Tag.objects.get(document=doc).tag_class.name == "finance"
    assert batch.results.get(path="rows.csv#5").reason == "empty_text"


def test_same_column_twice_refused(project, tagger_user):
    batch = upload_csv(project, tagger_user)
    response = login(tagger_user).post(
        f"/projects/{project.slug}/uploads/{batch.pk}/columns/",
        {"text_column": "body", "label_columns": ["body"]},
    )
    assert response.status_code == 422 and "must be different columns" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "options"


def test_unknown_column_refused(project, tagger_user):
    batch = upload_csv(project, tagger_user)
    response = login(tagger_user).post(
        f"/projects/{project.slug}/uploads/{batch.pk}/columns/", {"text_column": "nope"}
    )
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()


def test_single_label_row_with_two_labels_rejected(project, tagger_user, django_capture_on_commit_callbacks):
    batch = upload_csv(project, tagger_user, b"text,label\nhello there,a;b\n")
    with django_capture_on_commit_callbacks(execute=True):
        login(tagger_user).post(
            f"/projects/{project.slug}/uploads/{batch.pk}/columns/",
            {"text_column": "text", "label_columns": ["label"], "label_separator": ";"},
        )
    result = UploadBatch.objects.get().results.get()
    assert result.status == "rejected" and "one class per document" in result.message


def test_other_tagger_may_not_choose(project, tagger_user, admin_user, viewer_user, outsider_user):
    batch = upload_csv(project, admin_user)
    url = f"/projects/{project.slug}/uploads/{batch.pk}/columns/"
    assert login(tagger_user).post(url, {"text_column": "body"}).status_code == 403
    assert login(viewer_user).post(url, {"text_column": "body"}).status_code == 403
    assert login(outsider_user).post(url, {"text_column": "body"}).status_code == 404


def test_broken_csv_is_explained(project, tagger_user):
    batch = upload_csv(project, tagger_user, b"\xff\xfe\x00\x00garbage\x00\x00\x00", name="bad.csv")
    body = login(tagger_user).get(f"/projects/{project.slug}/uploads/{batch.pk}/").content.decode()
    assert "cannot be imported" in body
