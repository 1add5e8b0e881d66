from classifiers.models import TrainingRun
from studio.models import AuditEntry
from tests.helpers import login


def url(project, run):
    return f"/projects/{project.slug}/training/runs/{run.pk}/cancel/"


def test_admin_cancels_running_and_queued(project, admin_user):
    running = TrainingRun.objects.create(project=project, state="running")
    login(admin_user).post(url(project, running))
    running.refresh_from_db()
    assert running.cancel_requested and running.state == "running"  # the worker stops it
    queued = TrainingRun.objects.create(project=project, state="queued")
    login(admin_user).post(url(project, queued))
    queued.refresh_from_db()
    assert queued.state == "cancelled"
    assert AuditEntry.objects.filter(action="training.cancel").count() == 2


def test_ended_run_cannot_be_cancelled(project, admin_user):
    run = TrainingRun.objects.create(project=project, state="succeeded")
    response = login(admin_user).post(url(project, run), follow=True)
    assert "already ended" in response.content.decode()


def test_roles(project, tagger_user, outsider_user):
    run = TrainingRun.objects.create(project=project, state="running")
    assert login(tagger_user).post(url(project, run)).status_code == 403
    assert login(outsider_user).post(url(project, run)).status_code == 404
    run.refresh_from_db()
    assert not run.cancel_requested
