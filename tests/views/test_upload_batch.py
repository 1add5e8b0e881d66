from classifiers.models import UploadBatch
from tests.helpers import htmx, login
from tests.uploads import txt


def make_batch(project, user, django_capture_on_commit_callbacks, files=None):
    with django_capture_on_commit_callbacks(execute=True):
        login(user).post(
            f"/projects/{project.slug}/upload/",
            {"files": files or [txt("a.txt", "alpha text"), txt("b.txt", "alpha text")], "set": "training"},
        )
    return UploadBatch.objects.get()


def test_batch_page_lists_results(project, admin_user, viewer_user, django_capture_on_commit_callbacks):
    batch = make_batch(project, admin_user, django_capture_on_commit_callbacks)
    url = f"/projects/{project.slug}/uploads/{batch.pk}/"
    body = login(viewer_user).get(url).content.decode()
    assert "a.txt" in body and "b.txt" in body and "The same file is already in this project" in body
    body = login(viewer_user).get(url + "?status=duplicate").content.decode()
    assert "b.txt" in body and "a.txt" not in body.split('id="results"')[1]


def test_progress_poll_stops_when_done(project, admin_user, django_capture_on_commit_callbacks):
    batch = make_batch(project, admin_user, django_capture_on_commit_callbacks)
    response = htmx(
        login(admin_user), "get", f"/projects/{project.slug}/uploads/{batch.pk}/", {"part": "progress"}
    )
    assert response.status_code == 286 and response["HX-Refresh"] == "true"


def test_progress_poll_continues_while_processing(project, admin_user):
    batch = UploadBatch.objects.create(project=project, created_by=admin_user, status="processing", total=10)
    response = htmx(
        login(admin_user), "get", f"/projects/{project.slug}/uploads/{batch.pk}/", {"part": "progress"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in body and "0 of 10" in body


def test_outsider_and_other_projects_batch(project, other_project, outsider_user, admin_user):
    mine = UploadBatch.objects.create(project=project, created_by=admin_user)
    theirs = UploadBatch.objects.create(project=other_project, created_by=outsider_user)
    assert login(outsider_user).get(f"/projects/{project.slug}/uploads/{mine.pk}/").status_code == 404
    # Another project's batch through my project: 404.
    assert login(admin_user).get(f"/projects/{project.slug}/uploads/{theirs.pk}/").status_code == 404


def test_retry_only_failed_and_admin(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    batch = UploadBatch.objects.create(
        project=project, created_by=admin_user, status="failed", error="disk full"
    )
    url = f"/projects/{project.slug}/uploads/{batch.pk}/retry/"
    assert login(tagger_user).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert login(admin_user).post(url).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "done"
