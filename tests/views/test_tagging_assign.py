"""Admins assign work to taggers (and end assignments)."""

from classifiers.actions import do_add_member
from classifiers.models import AssignedDocument, Assignment, UploadBatch
from studio.models import AuditEntry
from tests.conftest import make_user
from tests.helpers import htmx, login
from tests.test_tagging_queue import add_classes, make_docs, studio_url


def assign(client, project, **data):
    return htmx(client, "post", studio_url(project, "tagging_assign"), {"op": "create", **data})


def test_admin_assigns_a_number_of_documents(project, admin_user, tagger_user):
    add_classes(project)
    make_docs(project, 5)
    response = assign(login(admin_user), project, taggers=[tagger_user.pk], count=3)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="assignments"' in body
    assert "Assigned 3 documents to tom." in body and "0 / 3" in body
    assert AssignedDocument.objects.filter(tagger=tagger_user).count() == 3
    entry = AuditEntry.objects.get(action="tagging.assign")
    assert entry.payload["documents"] == 3 and entry.payload["taggers"] == {"tom": 3}


def test_admin_assigns_an_upload_batch_to_two_taggers(project, admin_user, tagger_user):
    add_classes(project)
    batch = UploadBatch.objects.create(project=project, created_by=admin_user)
    make_docs(project, 4, prefix="batch", batch=batch)
    make_docs(project, 3, prefix="other")
    response = assign(login(admin_user), project, taggers=[tagger_user.pk, admin_user.pk], batch=batch.pk)
    assert response.status_code == 200
    counts = {a.tagger.username: a.items.count() for a in Assignment.objects.all()}
    assert counts == {"tom": 2, "alice": 2}  # overlap 1: each document to one of them
    assert set(AssignedDocument.objects.values_list("document__batch_id", flat=True)) == {batch.pk}


def test_end_an_assignment(project, admin_user, tagger_user):
    add_classes(project)
    make_docs(project, 2)
    client = login(admin_user)
    assign(client, project, taggers=[tagger_user.pk])
    assignment = Assignment.objects.get()
    response = htmx(
        client, "post", studio_url(project, "tagging_assign"), {"op": "end", "assignment": assignment.pk}
    )
    assert response.status_code == 200 and "back in the pool" in response.content.decode()
    assignment.refresh_from_db()
    assert not assignment.active
    assert AuditEntry.objects.filter(action="tagging.assignment_end").count() == 1


def test_bad_assignments(project, other_project, admin_user, viewer_user, outsider_user):
    make_docs(project, 2)
    client = login(admin_user)
    assert assign(client, project).status_code == 422  # no tagger chosen
    response = assign(client, project, taggers=[viewer_user.pk])  # a Viewer cannot tag
    assert response.status_code == 422
    response = assign(client, project, taggers=[outsider_user.pk])
    assert response.status_code == 422
    response = assign(client, project, taggers=[admin_user.pk], set="test")
    assert response.status_code == 422 and "No documents in that selection" in response.content.decode()
    theirs = Assignment.objects.create(project=other_project, tagger=outsider_user)
    response = htmx(
        client, "post", studio_url(project, "tagging_assign"), {"op": "end", "assignment": theirs.pk}
    )
    assert response.status_code == 404
    assert not Assignment.objects.filter(project=project).exists()


def test_tagger_forbidden_outsider_404(project, tagger_user, outsider_user):
    make_docs(project, 2)
    helper = make_user("helen")
    do_add_member(project.memberships.get(role="admin").user, project, helper, "tagger")
    assert assign(login(tagger_user), project, taggers=[helper.pk]).status_code == 403
    assert assign(login(outsider_user), project, taggers=[helper.pk]).status_code == 404
    assert not Assignment.objects.exists()
