from classifiers.models import ModelVersion, TrainingRun
from tests.helpers import login
from tests.training_data import tagged_project


def url(project):
    return f"/projects/{project.slug}/training/start/"


def test_admin_starts_a_run(project, admin_user, django_capture_on_commit_callbacks):
    tagged_project(project, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(url(project))
    run = TrainingRun.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/projects/{project.slug}/training/runs/{run.pk}/"
    )
    run.refresh_from_db()
    assert run.state == "succeeded" and ModelVersion.objects.filter(project=project).count() == 1


def test_refused_without_data(project, admin_user):
    response = login(admin_user).post(url(project), follow=True)
    assert "Tag at least 10 documents first" in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_tagger_403_outsider_404_get_405(project, admin_user, tagger_user, outsider_user):
    tagged_project(project, admin_user)
    assert login(tagger_user).post(url(project)).status_code == 403
    assert login(outsider_user).post(url(project)).status_code == 404
    assert login(admin_user).get(url(project)).status_code == 405
    assert not TrainingRun.objects.exists()
