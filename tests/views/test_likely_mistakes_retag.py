import pytest

from classifiers.labels import final_labels
from classifiers.models import Class, Document
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_evaluation import flagged_training_document, mistagged_project, train_version


def url(project, version, document):
    return f"/projects/{project.slug}/models/{version.pk}/mistakes/{document.pk}/retag/"


@pytest.fixture
def version(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    mistagged_project(project, tagger_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_retag_changes_the_tag_and_writes_the_audit(project, version, tagger_user):
    document, item = flagged_training_document(version)
    client = login(tagger_user)
    response = htmx(client, "post", url(project, version, document))
    assert (
        response.status_code == 200
        and f"Re-tagged {document.title} as {item['suggested']}" in response.content.decode()
    )
    assert final_labels(project, [document.pk])[document.pk] == [item["suggested"]]
    entry = AuditEntry.objects.filter(action="tag.set", object_id=str(document.pk)).latest("id")
    assert entry.payload["source"] == "review" and entry.actor == tagger_user
    page = client.get(f"/projects/{project.slug}/models/{version.pk}/mistakes/").content.decode()
    assert f'id="mistake-{document.pk}"' not in page  # its tags changed: no longer listed


def test_retag_by_another_tagger_warns_of_the_conflict(project, version, admin_user):
    document, _item = flagged_training_document(version)
    body = htmx(login(admin_user), "post", url(project, version, document)).content.decode()
    assert "now a conflict" in body and "message warning" in body


def test_archived_suggestion_is_refused_in_the_row(project, version, tagger_user):
    document, item = flagged_training_document(version)
    Class.objects.filter(project=project, name=item["suggested"]).update(archived=True)
    response = htmx(login(tagger_user), "post", url(project, version, document))
    assert response.status_code == 422 and "archived" in response.content.decode()
    assert f'id="mistake-{document.pk}"' in response.content.decode()


def test_roles(project, other_project, version, viewer_user, outsider_user, admin_user):
    document, item = flagged_training_document(version)
    assert login(viewer_user).post(url(project, version, document)).status_code == 403
    assert login(outsider_user).post(url(project, version, document)).status_code == 404
    theirs = Document.objects.create(project=other_project, text="x", text_chars=1, text_hash="x")
    assert login(admin_user).post(url(project, version, theirs)).status_code == 404
    assert final_labels(project, [document.pk])[document.pk] == [item["given"]]
