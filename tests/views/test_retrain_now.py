"""Retrain now: always available to Admins."""

from classifiers.models import TrainingRun
from tests.helpers import login


def test_admin_retrains(retrained, admin_user):
    project, _, _ = retrained
    before = TrainingRun.objects.filter(project=project).count()
    response = login(admin_user).post(f"/projects/{project.slug}/retraining/retrain/")
    assert response.status_code == 302 and "/training/runs/" in response["Location"]
    assert TrainingRun.objects.filter(project=project).count() == before + 1


def test_roles(retrained, tagger_user, outsider_user):
    project, _, _ = retrained
    before = TrainingRun.objects.count()
    assert login(tagger_user).post(f"/projects/{project.slug}/retraining/retrain/").status_code == 403
    assert login(outsider_user).post(f"/projects/{project.slug}/retraining/retrain/").status_code == 404
    assert TrainingRun.objects.count() == before
