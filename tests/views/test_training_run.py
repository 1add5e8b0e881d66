from classifiers.models import TrainingRun
from tests.helpers import htmx, login
from tests.training_data import tagged_project


def test_status_polls_then_redirects_to_the_version(
    project, admin_user, viewer_user, django_capture_on_commit_callbacks
):
    tagged_project(project, admin_user)
    run = TrainingRun.objects.create(project=project, requested_by=admin_user, state="running", progress=0.4,
                                     stage="fitting")  # fmt: skip
    url = f"/projects/{project.slug}/training/runs/{run.pk}/"
    response = htmx(login(viewer_user), "get", url, {"part": "status"})
    assert (
        response.status_code == 200
        and "fitting" in response.content.decode()
        and "40%" in response.content.decode()
    )
    TrainingRun.objects.filter(pk=run.pk).update(state="queued")
    from classifiers.tasks import train_project

    with django_capture_on_commit_callbacks(execute=True):
        train_project(run.pk)
    response = htmx(login(viewer_user), "get", url, {"part": "status"})
    assert response["HX-Redirect"].startswith(f"/projects/{project.slug}/models/")


def test_failed_run_shows_error_and_stops_polling(project, admin_user):
    run = TrainingRun.objects.create(project=project, state="failed", error="Tag at least 10 documents first")
    url = f"/projects/{project.slug}/training/runs/{run.pk}/"
    assert "Tag at least 10 documents first" in login(admin_user).get(url).content.decode()
    assert htmx(login(admin_user), "get", url, {"part": "status"}).status_code == 286


def test_outsider_and_forged(project, other_project, outsider_user, admin_user):
    mine = TrainingRun.objects.create(project=project)
    theirs = TrainingRun.objects.create(project=other_project)
    assert login(outsider_user).get(f"/projects/{project.slug}/training/runs/{mine.pk}/").status_code == 404
    assert login(admin_user).get(f"/projects/{project.slug}/training/runs/{theirs.pk}/").status_code == 404
