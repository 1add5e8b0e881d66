"""A model version's artifact is altered on disk (bit rot, a bad restore, tampering).

Its SHA-256 no longer matches: nothing loads it. The version page says so, the API answers
a JSON error (never a 500), a classify job ends failed with a code, deploying it is refused,
and the background tasks that read it (analysis, test-item scoring) stop with a clear
reason. No server path reaches a user.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from classifiers import serving
from classifiers.actions.base import ActionError
from classifiers.actions.deployments import do_deploy
from classifiers.analysis import ModelUnavailable, analyse
from classifiers.models import ClassifyJob, Document, DocumentSet, ModelVersion, VersionAnalysis
from classifiers.scoring import score_test_items
from tests.helpers import login
from tests.test_api_support import Api, assert_error, docs

pytestmark = pytest.mark.faults


def tamper(version: ModelVersion) -> None:
    """Flip bytes in the middle of the artifact; its size stays the same."""
    path = settings.MEDIA_ROOT / version.artifact
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))


@pytest.fixture
def api(project, admin_user):
    api = Api(project, admin_user, scopes=("classify", "read"))
    assert api.classify({"documents": docs(2)}).status_code == 200
    tamper(api.version)
    # A process that has not loaded the model yet: a restarted server, another worker. (One
    # that loaded it before the change keeps serving the copy it verified.)
    serving.clear_cache()
    yield api
    serving.clear_cache()


def no_paths(text: str) -> None:
    assert str(settings.MEDIA_ROOT) not in text and ".model" not in text, text


def test_api_classify_answers_json_error(api):
    response = api.classify({"documents": docs(3)})
    error = assert_error(response, 503, "ModelUnavailable", "deployment")
    no_paths(error["message"])


def test_classify_job_fails_with_a_code(api, django_capture_on_commit_callbacks):
    url = f"/api/v1/projects/{api.project.slug}/deployments/production/jobs"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url, {"documents": docs(5)})
    assert response.status_code == 202
    job = ClassifyJob.objects.get()
    body = api.get(f"/api/v1/projects/{api.project.slug}/jobs/{job.job_id}").json()
    assert body["status"] == "failed" and body["error"]["code"] == "ModelUnavailable", body
    assert "cannot be loaded" in body["error"]["message"]
    no_paths(body["error"]["message"])


def test_version_page_says_the_model_file_is_damaged(api, admin_user, viewer_user):
    url = reverse("model_version", args=[api.project.slug, api.version.pk])
    for user in (admin_user, viewer_user):
        for tab in ("overview", "try"):
            response = login(user).get(url, {"tab": tab})
            assert response.status_code == 200
            page = response.content.decode()
            assert "failed its integrity check" in page, (user, tab)
            no_paths(page)


def test_deploying_it_is_refused(api, admin_user):
    with pytest.raises(ActionError, match=r"cannot be loaded|cannot be used|integrity"):
        do_deploy(admin_user, api.project, "staging", api.version)


def test_tasks_reading_it_stop_with_a_reason(api):
    version = api.version
    analyse(version.pk)  # the analysis task: records the failure, raises nothing
    analysis = VersionAnalysis.objects.get(model_version=version)
    assert analysis.state == VersionAnalysis.State.FAILED and "cannot be loaded" in analysis.error
    # Scoring test items: the task fails (django-q2 records it) with the reason, writes nothing.
    text = "invoice payment budget"
    Document.objects.create(
        project=api.project, set=DocumentSet.TEST, text=text, text_chars=len(text), text_hash="t1"
    )
    with pytest.raises(ModelUnavailable, match="does not match its recorded sha256"):
        score_test_items(version.pk)
    assert not version.predictions.exists()
