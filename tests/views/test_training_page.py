from classifiers.models import TrainingRun
from tests.helpers import htmx, login
from tests.training_data import tagged_project


def test_admin_sees_train_button_and_data(project, admin_user):
    tagged_project(project, admin_user)
    body = login(admin_user).get(f"/projects/{project.slug}/training/").content.decode()
    assert "Train a new version" in body and "disabled" not in body.split("Train a new version")[0][-200:]
    assert "draws a seeded, stratified 20% test set" in body


def test_too_little_data_disables_the_button(project, admin_user):
    body = login(admin_user).get(f"/projects/{project.slug}/training/").content.decode()
    assert "Tag at least 10 documents first" in body and "disabled" in body


def test_viewer_reads_without_button(project, viewer_user):
    body = login(viewer_user).get(f"/projects/{project.slug}/training/").content.decode()
    assert "Recent runs" in body and "Train a new version" not in body


def test_runs_poll_stops_when_idle(project, admin_user):
    TrainingRun.objects.create(project=project, requested_by=admin_user, state="succeeded")
    response = htmx(login(admin_user), "get", f"/projects/{project.slug}/training/", {"part": "runs"})
    assert response.status_code == 286
    TrainingRun.objects.create(project=project, requested_by=admin_user, state="running")
    response = htmx(login(admin_user), "get", f"/projects/{project.slug}/training/", {"part": "runs"})
    assert response.status_code == 200 and "every 2s" in response.content.decode()


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(f"/projects/{project.slug}/training/").status_code == 404
