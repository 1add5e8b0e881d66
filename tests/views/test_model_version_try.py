import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers import evaluation as ev
from tests.helpers import htmx, login
from tests.test_evaluation import train_version
from tests.training_data import tagged_project
from tests.uploads import docx_bytes, png_bytes


def url(project, version):
    return f"/projects/{project.slug}/models/{version.pk}/try/"


@pytest.fixture
def version(project, admin_user, django_capture_on_commit_callbacks):
    ev.clear_caches()
    tagged_project(project, admin_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_text_is_classified_and_explained(project, version, admin_user):
    text = "invoice payment budget bank loan <script>alert(1)</script>"
    response = htmx(login(admin_user), "post", url(project, version), {"text": text})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Model version 1 predicts for the pasted text" in body
    assert '<span class="chip chip-strong">finance</span>' in body
    assert '<mark class="pos-' in body and "<script>alert" not in body and "&lt;script&gt;" in body
    assert "Towards finance" in body


def test_explaining_another_class(project, version, viewer_user):
    # Any member may try a version: nothing is stored.
    body = htmx(login(viewer_user), "post", url(project, version), {"text": "goal team", "explain": "tech"})
    assert "the words for tech" in body.content.decode()


def test_files(project, version, tagger_user):
    client = login(tagger_user)
    doc = SimpleUploadedFile(
        "memo.docx", docx_bytes("The league match: goal by the team player, coach happy.")
    )
    body = htmx(client, "post", url(project, version), {"file": doc}).content.decode()
    assert "for the file memo.docx" in body and '<span class="chip chip-strong">sport</span>' in body
    txt = SimpleUploadedFile("note.txt", b"server network laptop code database cloud")
    assert 'chip-strong">tech' in htmx(client, "post", url(project, version), {"file": txt}).content.decode()


def test_bad_input_is_explained(project, version, admin_user, settings):
    client = login(admin_user)
    fake = SimpleUploadedFile("report.pdf", b"this is not a pdf at all")
    response = htmx(client, "post", url(project, version), {"file": fake})
    assert response.status_code == 422 and "report.pdf:" in response.content.decode()
    image = SimpleUploadedFile("scan.png", png_bytes())
    response = htmx(client, "post", url(project, version), {"file": image})
    assert response.status_code == 422 and "no text" in response.content.decode().lower()
    response = htmx(client, "post", url(project, version), {"text": "   "})
    assert response.status_code == 422 and "Paste some text or choose a file." in response.content.decode()
    settings.STUDIO_MAX_TEXT_CHARS = 1000
    response = htmx(client, "post", url(project, version), {"text": "x" * 1001})
    assert response.status_code == 422 and "the limit is 1,000" in response.content.decode()
    settings.STUDIO_MAX_FILE_BYTES = 1024
    big = SimpleUploadedFile("big.txt", b"a " * 1000)
    response = htmx(client, "post", url(project, version), {"file": big})
    assert response.status_code == 422 and "the limit is" in response.content.decode()


def test_without_htmx_the_page_shows_the_result(project, version, admin_user):
    response = login(admin_user).post(url(project, version), {"text": "software server network"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and "Model version 1 predicts" in body
    assert 'aria-current="page">Try it' in body


def test_tampered_artifact_is_a_clear_message(project, version, admin_user, settings):
    path = settings.MEDIA_ROOT / version.artifact
    path.write_bytes(path.read_bytes() + b"tampered")
    ev.clear_caches()
    client = login(admin_user)
    response = htmx(client, "post", url(project, version), {"text": "bank loan"})
    body = response.content.decode()
    assert response.status_code == 200 and "failed its integrity check" in body
    assert str(settings.MEDIA_ROOT) not in body  # no server paths
    page = client.get(f"/projects/{project.slug}/models/{version.pk}/", {"tab": "try"}).content.decode()
    assert "failed its integrity check" in page and "<textarea" not in page


def test_roles(project, other_project, version, outsider_user, admin_user):
    assert login(outsider_user).post(url(project, version), {"text": "x"}).status_code == 404
    assert login(admin_user).get(url(project, version)).status_code == 405
    from classifiers.models import ModelVersion

    theirs = ModelVersion.objects.create(
        project=other_project, number=1, kind="multi_label", artifact="x", artifact_sha256="0"
    )
    assert login(admin_user).post(url(project, theirs), {"text": "x"}).status_code == 404


def test_trainable_classifier(admin_user, settings):
    """A trainable classifier's version (fitted by the engine directly: its seed training is
    another area): match / close match / no match, P(match), and "not a match" explained."""
    import random

    from classifiers import ml
    from classifiers.models import ModelVersion
    from tests.conftest import make_project
    from tests.training_data import make_text

    project = make_project(admin_user, name="Invoices", kind="trainable")
    rng = random.Random(0)
    texts = [make_text(rng, "finance") for _ in range(30)] + [make_text(rng, "sport") for _ in range(30)]
    labels = ["match"] * 30 + ["not_match"] * 30
    model = ml.train(texts, labels, ml.KIND_BINARY, ["match", "not_match"], ml.TrainingConfig(seed=1))
    path = settings.MEDIA_ROOT / "projects" / "invoices.model"
    path.parent.mkdir(parents=True)
    version = ModelVersion.objects.create(
        project=project, number=1, kind="trainable", classes=model.classes, artifact="projects/invoices.model",
        artifact_sha256=ml.save_model(model, path), threshold=model.threshold, params=model.params,
    )  # fmt: skip
    client = login(admin_user)
    body = htmx(client, "post", url(project, version), {"text": "invoice bank loan tax"}).content.decode()
    assert '<span class="chip chip-strong">Match</span>' in body and "match at a score of" in body
    body = htmx(
        client, "post", url(project, version), {"text": "goal team", "explain": "not_match"}
    ).content.decode()
    assert "No match" in body and "the words for Not a match" in body
