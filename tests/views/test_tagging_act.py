"""Tag, skip and undo in the studio: one POST, answered with the next card."""

import pytest
from django.db import connection

from classifiers.actions import do_add_member
from classifiers.models import Lease, Tag, TaggingAction
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login
from tests.test_search import make_doc
from tests.test_tagging_queue import add_classes, card_doc, make_docs, studio_url

QUEUE = {"scope": "pool", "order": "shuffle", "mode": "queue"}


def act(client, project, **data):
    return htmx(client, "post", studio_url(project, "tagging_act"), {**QUEUE, **data})


def first_card(client, project) -> int:
    return card_doc(client.get(studio_url(project, "tagging_queue"), {"scope": "pool"}))


def test_tag_and_next(project, tagger_user, django_assert_max_num_queries):
    a, _b, _c = add_classes(project)
    make_docs(project, 4)
    client = login(tagger_user)
    doc = first_card(client, project)
    # Auth (3), the document and classes (2), the tags action (role, lock, read, write,
    # audit, re-read), the step and the lease release, the next document with its lease,
    # today's count; 6 are the test transaction's savepoints. PostgreSQL adds two row locks.
    budget = 25 + (2 if connection.features.has_select_for_update else 0)
    with django_assert_max_num_queries(budget):
        response = act(client, project, op="tag", document=doc, **{"class": a.pk})
    assert response.status_code == 200
    nxt = card_doc(response)
    assert nxt not in (None, doc)
    assert Tag.objects.get(document_id=doc, tagger=tagger_user).tag_class == a
    assert TaggingAction.objects.get(document_id=doc).kind == "tag"
    assert list(Lease.objects.filter(tagger=tagger_user).values_list("document_id", flat=True)) == [nxt]
    body = response.content.decode()
    assert "Saved “A”" in body and "Today <strong>1</strong>" in body


def test_skip_with_reason_then_undo(project, tagger_user):
    add_classes(project)
    make_docs(project, 3)
    client = login(tagger_user)
    doc = first_card(client, project)
    response = act(client, project, op="skip", document=doc, reason="Foreign language")
    assert response.status_code == 200 and card_doc(response) != doc
    assert TaggingAction.objects.get(document_id=doc).reason == "Foreign language"
    response = act(client, project, op="undo")
    assert response.status_code == 200 and card_doc(response) == doc
    assert "Undone: your skip" in response.content.decode()
    assert TaggingAction.objects.get(document_id=doc).undone


def test_undo_a_tag_shows_the_document_again(project, tagger_user):
    a, _b, _c = add_classes(project)
    make_docs(project, 3)
    client = login(tagger_user)
    doc = first_card(client, project)
    act(client, project, op="tag", document=doc, **{"class": a.pk})
    response = act(client, project, op="undo")
    assert card_doc(response) == doc and not Tag.objects.exists()
    # Tagging it now continues the queue from there.
    nxt = card_doc(act(client, project, op="tag", document=doc, **{"class": a.pk}))
    assert nxt not in (None, doc)
    response = act(client, project, op="undo")
    response = act(client, project, op="undo")
    assert response.status_code == 422 and "Nothing to undo" in response.content.decode()


def test_multi_label_toggles_and_enter(admin_user, tagger_user):
    project = make_project(admin_user, name="Topics", kind="multi_label")
    do_add_member(admin_user, project, tagger_user, "tagger")
    a, _b, c = add_classes(project)
    make_docs(project, 2)
    client = login(tagger_user)
    doc = first_card(client, project)
    refused = act(client, project, op="tag", document=doc)
    assert refused.status_code == 422 and card_doc(refused) == doc
    assert "Pick at least one class" in refused.content.decode()
    response = act(client, project, op="tag", document=doc, classes=[a.pk, c.pk])
    assert response.status_code == 200
    assert sorted(Tag.objects.filter(document_id=doc).values_list("tag_class__name", flat=True)) == ["A", "C"]


def test_trainable_match_and_not(admin_user, tagger_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    do_add_member(admin_user, project, tagger_user, "tagger")
    make_docs(project, 3)
    client = login(tagger_user)
    first = first_card(client, project)
    second = card_doc(act(client, project, op="tag", document=first, match="1"))
    act(client, project, op="tag", document=second, match="0")
    assert Tag.objects.get(document_id=first).positive is True
    assert Tag.objects.get(document_id=second).positive is False
    assert act(client, project, op="tag", document=second, match="maybe").status_code == 422


def test_bad_input(project, other_project, tagger_user):
    a, _b, _c = add_classes(project)
    make_docs(project, 2)
    client = login(tagger_user)
    doc = first_card(client, project)
    assert act(client, project, op="explode").status_code == 422
    theirs = make_doc(other_project, "secret")
    response = act(client, project, op="tag", document=theirs.pk, **{"class": a.pk})
    assert response.status_code == 422 and "no longer in the project" in response.content.decode()
    response = act(client, project, op="tag", document=doc, **{"class": 999999})
    assert response.status_code == 422 and card_doc(response) == doc
    response = act(client, project, op="skip", document=doc, reason="x" * 400)
    assert response.status_code == 422
    assert not Tag.objects.exists() and not TaggingAction.objects.exists()


def test_without_htmx_redirects_to_the_queue(project, tagger_user):
    a, _b, _c = add_classes(project)
    make_docs(project, 2)
    client = login(tagger_user)
    doc = first_card(client, project)
    response = client.post(
        studio_url(project, "tagging_act"), {**QUEUE, "op": "tag", "document": doc, "class": a.pk}
    )
    assert response.status_code == 302 and response["Location"].startswith(
        studio_url(project, "tagging_queue")
    )
    assert card_doc(client.get(response["Location"])) not in (None, doc)


def test_tagging_from_history_goes_back_to_the_queue(project, tagger_user):
    a, b, _c = add_classes(project)
    make_docs(project, 4)
    client = login(tagger_user)
    first = first_card(client, project)
    current = card_doc(act(client, project, op="tag", document=first, **{"class": a.pk}))
    action = TaggingAction.objects.get()
    response = act(
        client, project, op="tag", document=first, mode="history", pos=action.pk, **{"class": b.pk}
    )
    assert card_doc(response) == current  # the document the tagger held before going back
    assert Tag.objects.get(document_id=first).tag_class == b  # last write wins
    assert AuditEntry.objects.filter(action="tag.set", object_id=str(first)).count() == 2


@pytest.mark.parametrize("role_user", ["viewer_user", "outsider_user"])
def test_viewer_forbidden_outsider_404(project, request, role_user):
    a, _b, _c = add_classes(project)
    (doc,) = make_docs(project, 1)
    user = request.getfixturevalue(role_user)
    response = act(login(user), project, op="tag", document=doc.pk, **{"class": a.pk})
    assert response.status_code == (403 if role_user == "viewer_user" else 404)
    assert not Tag.objects.exists()
