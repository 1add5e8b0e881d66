import pytest

from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_search import make_doc


def url(project, query: str = ""):
    return f"/projects/{project.slug}/documents/bulk/" + (f"?{query}" if query else "")


@pytest.fixture
def docs(project):
    return [make_doc(project, f"{'apple' if i % 2 else 'pear'} {i}") for i in range(6)]


@pytest.fixture
def billing(project):
    return Class.objects.create(project=project, name="Billing")


def test_assign_selection_to_test(project, tagger_user, docs):
    response = htmx(
        login(tagger_user),
        "post",
        url(project),
        {"action": "set", "target_set": "test", "ids": [docs[0].pk, docs[1].pk]},
    )
    assert response.status_code == 200 and 'id="results"' in response.content.decode()
    assert "2 documents moved to Test" in response.content.decode()
    assert set(Document.objects.filter(set="test").values_list("id", flat=True)) == {docs[0].pk, docs[1].pk}
    entry = AuditEntry.objects.get(action="document.assign_set")
    assert entry.payload == {
        "documents": 2,
        "set": "test",
        "moved": 2,
        "document_ids": [docs[0].pk, docs[1].pk],
    }


def test_assign_whole_filtered_result(project, admin_user, docs):
    response = login(admin_user).post(
        url(project, "q=apple"), {"action": "set", "target_set": "test", "scope": "all"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?q=apple")
    assert set(Document.objects.filter(set="test").values_list("id", flat=True)) == {d.pk for d in docs[1::2]}


def test_tag_and_untag_whole_result(project, admin_user, docs, billing):
    client = login(admin_user)
    response = htmx(
        client, "post", url(project, "q=pear"), {"action": "tag", "target_class": billing.pk, "scope": "all"}
    )
    assert "Tagged 3 documents as Billing: 3 new" in response.content.decode()
    assert set(Tag.objects.values_list("document_id", flat=True)) == {d.pk for d in docs[::2]}
    response = htmx(
        client, "post", url(project), {"action": "untag", "target_class": billing.pk, "ids": [docs[0].pk]}
    )
    assert "Removed 1 tag of Billing" in response.content.decode()
    assert Tag.objects.count() == 2


def test_forged_ids_of_another_project_are_ignored(project, other_project, admin_user, docs):
    theirs = make_doc(other_project, "secret")
    response = htmx(
        login(admin_user),
        "post",
        url(project),
        {"action": "set", "target_set": "test", "ids": [theirs.pk, docs[0].pk]},
    )
    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.set == "training"
    assert AuditEntry.objects.get(action="document.assign_set").payload["document_ids"] == [docs[0].pk]
    # Only foreign ids: nothing to do, said clearly.
    response = htmx(login(admin_user), "post", url(project), {"action": "delete", "ids": [theirs.pk]})
    assert response.status_code == 422 and Document.objects.filter(pk=theirs.pk).exists()


def test_delete_asks_with_the_count_then_deletes(project, admin_user, docs):
    client = login(admin_user)
    data = {"action": "delete", "ids": [docs[0].pk, docs[1].pk]}
    response = htmx(client, "post", url(project), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Delete 2 documents? This cannot be undone" in body and 'name="confirm" value="2"' in body
    assert Document.objects.count() == 6
    response = htmx(client, "post", url(project), {**data, "confirm": "2"})
    assert response.status_code == 200 and "Deleted 2 documents" in response.content.decode()
    assert Document.objects.count() == 4
    assert AuditEntry.objects.get(action="document.delete").payload["documents"] == 2


def test_delete_whole_result_refuses_a_stale_count(project, admin_user, docs):
    client = login(admin_user)
    response = htmx(client, "post", url(project, "q=apple"), {"action": "delete", "scope": "all"})
    assert "Delete 3 documents?" in response.content.decode()
    make_doc(project, "apple late arrival")  # the result grew since the question
    response = htmx(
        client, "post", url(project, "q=apple"), {"action": "delete", "scope": "all", "confirm": "3"}
    )
    assert response.status_code == 422
    assert "selection now has 4: nothing was deleted" in response.content.decode()
    assert Document.objects.count() == 7
    response = htmx(
        client, "post", url(project, "q=apple"), {"action": "delete", "scope": "all", "confirm": "4"}
    )
    assert response.status_code == 200 and Document.objects.count() == 3


def test_tagger_may_not_delete_viewer_may_not_act(project, tagger_user, viewer_user, docs):
    assert (
        login(tagger_user)
        .post(url(project), {"action": "delete", "ids": [docs[0].pk], "confirm": "1"})
        .status_code
        == 403
    )
    assert (
        login(viewer_user)
        .post(url(project), {"action": "set", "target_set": "test", "ids": [docs[0].pk]})
        .status_code
        == 403
    )
    assert Document.objects.count() == 6 and not Document.objects.filter(set="test").exists()


def test_outsider_404(project, outsider_user, docs):
    response = login(outsider_user).post(
        url(project), {"action": "set", "target_set": "test", "ids": [docs[0].pk]}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "set", "target_set": "seed"}, "Select a valid choice"),  # not a set of this kind
        ({"action": "set"}, "Choose the set"),
        ({"action": "tag"}, "Choose a class"),
        ({"action": "not_match", "target_class": "1"}, "not a match"),
        ({"action": "explode"}, "Select a valid choice"),
        ({"action": "set", "target_set": "test"}, "No documents selected"),
    ],
)
def test_bad_input_is_explained(project, admin_user, docs, billing, data, message):
    response = htmx(login(admin_user), "post", url(project), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not Document.objects.exclude(set="training").exists()


def test_get_not_allowed(project, admin_user):
    assert login(admin_user).get(url(project)).status_code == 405
