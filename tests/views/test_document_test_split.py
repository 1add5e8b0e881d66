"""The Admin's seeded, stratified test split (the test_split view on the dashboard)."""

import pytest

from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import login
from tests.views.test_dataset_dashboard import tag_many


def url(project):
    return f"/projects/{project.slug}/dashboard/test-split/"


def drawn_ids(project) -> list[int]:
    return sorted(Document.objects.filter(project=project, set="test").values_list("id", flat=True))


@pytest.fixture
def dataset(project, admin_user):
    classes = {}
    for name, n in (("A", 50), ("B", 50), ("C", 10)):
        classes[name] = Class.objects.create(project=project, name=name)
        tag_many(project, classes[name], admin_user, n)
    Document.objects.bulk_create(Document(project=project, text="u", text_hash=f"u{i}") for i in range(30))
    return classes


def per_class_in_test(project) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in Tag.objects.filter(document__set="test").values_list("tag_class__name", flat=True):
        out[name] = out.get(name, 0) + 1
    return out


def test_admin_draws_a_stratified_split(project, admin_user, dataset):
    response = login(admin_user).post(url(project), {"percent": "20", "seed": "1"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/dashboard/"
    assert per_class_in_test(project) == {"A": 10, "B": 10, "C": 2}
    assert not Document.objects.filter(set="test", tags__isnull=True).exists()  # untagged stay
    entry = AuditEntry.objects.get(action="document.test_split")
    assert entry.payload["moved"] == 22 and entry.payload["candidates"] == 110 and entry.payload["seed"] == 1
    assert entry.payload["document_ids"] == drawn_ids(project)


def test_same_seed_same_split_other_seed_other_split(project, admin_user, dataset):
    client = login(admin_user)
    client.post(url(project), {"percent": "20", "seed": "7"})
    first = drawn_ids(project)
    Document.objects.filter(project=project).update(set="training")
    client.post(url(project), {"percent": "20", "seed": "7"})
    assert drawn_ids(project) == first
    Document.objects.filter(project=project).update(set="training")
    client.post(url(project), {"percent": "20", "seed": "8"})
    assert drawn_ids(project) != first and len(drawn_ids(project)) == len(first)


def test_only_training_documents_are_drawn(project, admin_user, dataset):
    Document.objects.filter(project=project, tags__tag_class=dataset["C"]).update(set="production")
    login(admin_user).post(url(project), {"percent": "50", "seed": "0"})
    assert per_class_in_test(project) == {"A": 25, "B": 25}
    assert Document.objects.filter(set="production").count() == 10


def test_conflicting_documents_are_left_out(project, admin_user, tagger_user):
    a, b = (Class.objects.create(project=project, name=n) for n in "AB")
    docs = Document.objects.bulk_create(
        Document(project=project, text="x", text_hash=str(i)) for i in range(4)
    )
    for doc in docs:
        Tag.objects.create(project=project, document=doc, tag_class=a, tagger=admin_user)
    Tag.objects.create(project=project, document=docs[0], tag_class=b, tagger=tagger_user)  # disagreement
    login(admin_user).post(url(project), {"percent": "90", "seed": "0"})
    assert docs[0].pk not in drawn_ids(project)
    assert AuditEntry.objects.get(action="document.test_split").payload["candidates"] == 3


def test_multi_label_and_trainable(admin_user):
    multi = make_project(admin_user, name="Topics", kind="multi_label")
    a, b = (Class.objects.create(project=multi, name=n) for n in "AB")
    tag_many(multi, a, admin_user, 10)
    tag_many(multi, b, admin_user, 10)
    assert login(admin_user).post(url(multi), {"percent": "20", "seed": "0"}).status_code == 302
    assert len(drawn_ids(multi)) == 4

    trainable = make_project(admin_user, name="Spotter", kind="trainable")
    category = trainable.classes.get()
    docs = Document.objects.bulk_create(
        Document(project=trainable, text="x", text_hash=str(i)) for i in range(20)
    )
    for i, doc in enumerate(docs):
        Tag.objects.create(
            project=trainable, document=doc, tag_class=category, tagger=admin_user, positive=i < 10
        )
    assert login(admin_user).post(url(trainable), {"percent": "20", "seed": "0"}).status_code == 302
    moved = Tag.objects.filter(project=trainable, document__set="test").values_list("positive", flat=True)
    assert sorted(moved) == [False, False, True, True]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"percent": "0", "seed": "0"}, "greater than or equal to 1"),
        ({"percent": "x", "seed": "0"}, "whole number"),
    ],
)
def test_bad_input(project, admin_user, dataset, data, message):
    response = login(admin_user).post(url(project), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert drawn_ids(project) == []


def test_too_few_tagged_documents(project, admin_user):
    response = login(admin_user).post(url(project), {"percent": "20", "seed": "0"})
    assert (
        response.status_code == 422 and "at least two tagged training documents" in response.content.decode()
    )


def test_tagger_viewer_403_outsider_404(project, tagger_user, viewer_user, outsider_user, dataset):
    assert login(tagger_user).post(url(project), {"percent": "20", "seed": "0"}).status_code == 403
    assert login(viewer_user).post(url(project), {"percent": "20", "seed": "0"}).status_code == 403
    assert login(outsider_user).post(url(project), {"percent": "20", "seed": "0"}).status_code == 404
    assert drawn_ids(project) == []


def test_get_not_allowed(project, admin_user):
    assert login(admin_user).get(url(project)).status_code == 405
