import pytest

from classifiers.models import Document, TagConfirmation, VersionAnalysis
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_evaluation import flagged_training_document, mistagged_project, train_version


def url(project, version, document):
    return f"/projects/{project.slug}/models/{version.pk}/mistakes/{document.pk}/confirm/"


@pytest.fixture
def version(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    mistagged_project(project, tagger_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_confirm_hides_the_item(project, version, tagger_user):
    document, _item = flagged_training_document(version)
    client = login(tagger_user)
    response = htmx(client, "post", url(project, version, document))
    body = response.content.decode()
    assert response.status_code == 200 and 'hx-swap-oob="true"' in body and "Kept the tags" in body
    assert f'id="mistake-{document.pk}"' not in body  # the row is swapped for nothing
    assert TagConfirmation.objects.filter(document=document).exists()
    assert AuditEntry.objects.filter(action="mistake.confirm", object_id=str(document.pk)).exists()
    page = client.get(f"/projects/{project.slug}/models/{version.pk}/mistakes/").content.decode()
    assert f'id="mistake-{document.pk}"' not in page and "1 confirmed" in page


def test_confirm_without_htmx_redirects(project, version, admin_user):
    document, _item = flagged_training_document(version)
    response = login(admin_user).post(url(project, version, document), follow=True)
    assert "Kept the tags" in response.content.decode()


def test_not_flagged_document_is_404(project, version, tagger_user):
    flagged = {m["document_id"] for m in VersionAnalysis.objects.get(model_version=version).mistakes}
    other = Document.objects.filter(project=project).exclude(pk__in=flagged).first()
    assert login(tagger_user).post(url(project, version, other)).status_code == 404
    assert not TagConfirmation.objects.exists()


def test_roles(project, other_project, version, viewer_user, outsider_user, admin_user):
    document, _item = flagged_training_document(version)
    assert login(viewer_user).post(url(project, version, document)).status_code == 403
    assert login(outsider_user).post(url(project, version, document)).status_code == 404
    assert login(admin_user).get(url(project, version, document)).status_code == 405
    theirs = Document.objects.create(project=other_project, text="x", text_chars=1, text_hash="x")
    assert login(admin_user).post(url(project, version, theirs)).status_code == 404
    assert not TagConfirmation.objects.exists()
