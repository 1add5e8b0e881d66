import json

from classifiers.models import Class, Document, ExportJob, Tag
from studio.models import AuditEntry
from tests.helpers import login


def seed(project, user):
    cls = Class.objects.create(project=project, name="finance")
    for i in range(3):
        doc = Document.objects.create(project=project, text=f"text {i}", text_hash=f"{i:064d}", text_chars=6)
        if i < 2:
            Tag.objects.create(project=project, document=doc, tag_class=cls, tagger=user)


def test_admin_exports_jsonl_and_downloads(project, admin_user, django_capture_on_commit_callbacks):
    seed(project, admin_user)
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.slug}/exports/", {"format": "jsonl"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.rows) == ("done", 3)
    download = client.get(f"/projects/{project.slug}/exports/{job.pk}/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    lines = [json.loads(line) for line in b"".join(download.streaming_content).decode().splitlines()]
    assert [r["classes"] for r in lines] == [["finance"], ["finance"], []]
    assert AuditEntry.objects.filter(action="export.finish").exists()


def test_csv_export(project, admin_user, django_capture_on_commit_callbacks):
    seed(project, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_user).post(f"/projects/{project.slug}/exports/", {"format": "csv"})
    job = ExportJob.objects.get()
    content = job.file.open("rb").read().decode()
    assert content.splitlines()[0] == "id,text,classes,set,filename,external_id,created_at"


def test_bad_format_and_roles(project, admin_user, tagger_user, outsider_user):
    response = login(admin_user).post(f"/projects/{project.slug}/exports/", {"format": "xml"})
    assert response.status_code == 422 and not ExportJob.objects.exists()
    assert login(tagger_user).get(f"/projects/{project.slug}/exports/").status_code == 403
    assert (
        login(outsider_user).post(f"/projects/{project.slug}/exports/", {"format": "csv"}).status_code == 404
    )


def test_download_not_ready_and_forged(project, other_project, admin_user, outsider_user):
    job = ExportJob.objects.create(project=project, created_by=admin_user, format="jsonl")
    assert login(admin_user).get(f"/projects/{project.slug}/exports/{job.pk}/download/").status_code == 404
    theirs = ExportJob.objects.create(
        project=other_project, created_by=outsider_user, format="jsonl", status="done"
    )
    assert login(admin_user).get(f"/projects/{project.slug}/exports/{theirs.pk}/download/").status_code == 404


def test_export_limited_to_the_browser_filter(project, admin_user, django_capture_on_commit_callbacks):
    seed(project, admin_user)
    cls = project.classes.get(name="finance")
    page = login(admin_user).get(f"/projects/{project.slug}/documents/?class={cls.pk}").content.decode()
    assert f"/projects/{project.slug}/exports/?class={cls.pk}" in page
    form = login(admin_user).get(f"/projects/{project.slug}/exports/?class={cls.pk}").content.decode()
    assert f'value="class={cls.pk}"' in form
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_user).post(
            f"/projects/{project.slug}/exports/", {"format": "jsonl", "filters": f"class={cls.pk}"}
        )
    job = ExportJob.objects.get()
    assert (job.status, job.rows, job.filters) == ("done", 2, {"class": str(cls.pk)})
