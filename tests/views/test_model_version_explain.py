import pytest

from classifiers import evaluation as ev
from classifiers.models import Document, ModelVersion, Prediction
from tests.helpers import htmx, login
from tests.test_evaluation import train_version
from tests.training_data import tagged_project


def url(project, version, document):
    return f"/projects/{project.slug}/models/{version.pk}/documents/{document.pk}/explain/"


@pytest.fixture
def version(project, admin_user, django_capture_on_commit_callbacks):
    ev.clear_caches()
    tagged_project(project, admin_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_test_document_is_explained(project, version, viewer_user):
    prediction = Prediction.objects.filter(model_version=version).exclude(outcome="").first()
    body = login(viewer_user).get(url(project, version, prediction.document)).content.decode()
    assert "Why version 1 predicts" in body and "Stored prediction of version 1" in body
    assert '<mark class="pos-' in body and "style=" not in body
    assert f'<option value="{prediction.labels[0]}" selected>' in body


def test_document_text_is_escaped(project, version, admin_user):
    text = "<script>alert('x')</script> invoice payment bank <img src=x onerror=alert(1)> loan"
    doc = Document.objects.create(project=project, text=text, text_chars=len(text), text_hash="evil")
    body = login(admin_user).get(url(project, version, doc)).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert '<mark class="pos-' in body


def test_class_picker_is_an_htmx_partial(project, version, admin_user):
    doc = Document.objects.filter(project=project).first()
    response = htmx(login(admin_user), "get", url(project, version, doc), {"class": "sport"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "the words for sport" in body
    unknown = htmx(login(admin_user), "get", url(project, version, doc), {"class": "<nope>"})
    assert unknown.status_code == 200 and "<nope>" not in unknown.content.decode()


def test_long_text_shows_what_the_model_reads(project, version, admin_user, settings):
    settings.STUDIO_MODEL_PREFIX_CHARS = 100
    text = "bank loan " * 50
    doc = Document.objects.create(project=project, text=text, text_chars=len(text), text_hash="long")
    body = login(admin_user).get(url(project, version, doc)).content.decode()
    assert "reads only the first 100 of the 101" in body  # the page reads one character more, to know


def test_document_without_text(project, version, admin_user):
    doc = Document.objects.create(project=project, text="", has_text=False, text_hash="img")
    assert "no text" in login(admin_user).get(url(project, version, doc)).content.decode()


def test_tampered_artifact(project, version, admin_user, settings):
    path = settings.MEDIA_ROOT / version.artifact
    path.write_bytes(b"not the model")
    ev.clear_caches()
    doc = Document.objects.filter(project=project).first()
    response = login(admin_user).get(url(project, version, doc))
    assert response.status_code == 200 and "failed its integrity check" in response.content.decode()


def test_outsider_and_forged_ids(project, other_project, version, outsider_user, admin_user):
    doc = Document.objects.filter(project=project).first()
    assert login(outsider_user).get(url(project, version, doc)).status_code == 404
    theirs = Document.objects.create(project=other_project, text="secret", text_chars=6, text_hash="s")
    assert login(admin_user).get(url(project, version, theirs)).status_code == 404
    their_version = ModelVersion.objects.create(
        project=other_project, number=1, kind="multi_label", artifact="x", artifact_sha256="0"
    )
    assert login(admin_user).get(url(project, their_version, doc)).status_code == 404
