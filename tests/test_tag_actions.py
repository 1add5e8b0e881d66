"""classifiers.actions.tags: the semantics for each project kind, bulk tagging, audit."""

from __future__ import annotations

import pytest

from classifiers.actions import ActionError
from classifiers.actions import documents as document_actions
from classifiers.actions.tags import do_bulk_tag, do_bulk_untag, do_set_document_tags
from classifiers.models import Class, Document, Tag
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.test_search import make_doc


def names(user, document) -> list[tuple[str, bool]]:
    return sorted((t.tag_class.name, t.positive) for t in Tag.objects.filter(document=document, tagger=user))


@pytest.fixture
def classes(project):
    return [Class.objects.create(project=project, name=n, position=i) for i, n in enumerate("ABC")]


@pytest.fixture
def multi(admin_user, tagger_user):
    from classifiers.actions import do_add_member

    project = make_project(admin_user, name="Topics", kind="multi_label")
    do_add_member(admin_user, project, tagger_user, "tagger")
    for i, n in enumerate("ABC"):
        Class.objects.create(project=project, name=n, position=i)
    return project


@pytest.fixture
def trainable(admin_user, tagger_user):
    from classifiers.actions import do_add_member

    project = make_project(admin_user, name="Spotter", kind="trainable")
    do_add_member(admin_user, project, tagger_user, "tagger")
    return project


# --- One document -----------------------------------------------------------------------------
def test_single_label_replaces_the_taggers_tag(project, classes, admin_user, tagger_user):
    a, b, _c = classes
    doc = make_doc(project, "x")
    do_set_document_tags(tagger_user, doc, [b])  # somebody else's tag stays untouched
    do_set_document_tags(admin_user, doc, [a])
    assert names(admin_user, doc) == [("A", True)]
    do_set_document_tags(admin_user, doc, [b])
    assert names(admin_user, doc) == [("B", True)]
    assert names(tagger_user, doc) == [("B", True)]
    with pytest.raises(ActionError, match="one class"):
        do_set_document_tags(admin_user, doc, [a, b])
    do_set_document_tags(admin_user, doc, [])
    assert names(admin_user, doc) == [] and names(tagger_user, doc) == [("B", True)]
    entries = AuditEntry.objects.filter(action="tag.set").order_by("id")
    assert [e.payload["classes"] for e in entries] == [["B"], ["A"], ["B"], []]
    assert entries[2].payload["removed"] == ["A"] and entries[2].object_id == str(doc.pk)


def test_no_change_writes_no_entry(project, classes, admin_user):
    doc = make_doc(project, "x")
    do_set_document_tags(admin_user, doc, [classes[0]])
    do_set_document_tags(admin_user, doc, [classes[0]])
    assert AuditEntry.objects.filter(action="tag.set").count() == 1


def test_multi_label_sets_exactly_these(multi, admin_user):
    a, b, c = multi.classes.all()
    doc = make_doc(multi, "x")
    do_set_document_tags(admin_user, doc, [a, b, a])
    assert names(admin_user, doc) == [("A", True), ("B", True)]
    kept = Tag.objects.get(document=doc, tag_class=b)
    do_set_document_tags(admin_user, doc, [b, c])
    assert names(admin_user, doc) == [("B", True), ("C", True)]
    assert Tag.objects.get(document=doc, tag_class=b).pk == kept.pk  # unchanged tags keep who/when


def test_trainable_match_and_not_match(trainable, admin_user):
    category = trainable.classes.get()
    doc = make_doc(trainable, "x")
    do_set_document_tags(admin_user, doc, [category], positive=True)
    tag = Tag.objects.get(document=doc)
    do_set_document_tags(admin_user, doc, [category], positive=False)
    assert names(admin_user, doc) == [("Spotter", False)]
    assert Tag.objects.get(document=doc).pk == tag.pk  # flipped in place
    assert AuditEntry.objects.filter(action="tag.set").last().payload["positive"] is True


def test_refusals(project, classes, other_project, admin_user, viewer_user):
    doc = make_doc(project, "x")
    theirs = Class.objects.create(project=other_project, name="Theirs")
    with pytest.raises(ActionError, match="not part of this project"):
        do_set_document_tags(admin_user, doc, [theirs])
    archived = Class.objects.create(project=project, name="Old", archived=True)
    with pytest.raises(ActionError, match="archived"):
        do_set_document_tags(admin_user, doc, [archived])
    with pytest.raises(ActionError, match="not a match"):
        do_set_document_tags(admin_user, doc, [classes[0]], positive=False)
    with pytest.raises(ActionError, match="Tagger or Admin"):
        do_set_document_tags(viewer_user, doc, [classes[0]])
    with pytest.raises(ActionError, match="source"):
        do_set_document_tags(admin_user, doc, [classes[0]], source="magic")
    assert not Tag.objects.exists()


# --- Bulk -------------------------------------------------------------------------------------
def test_bulk_tag_single_label(project, classes, other_project, admin_user, tagger_user):
    a, b, _c = classes
    docs = [make_doc(project, f"d{i}") for i in range(5)]
    theirs = make_doc(other_project, "not ours")
    do_set_document_tags(admin_user, docs[0], [a])  # already A: unchanged
    do_set_document_tags(admin_user, docs[1], [b])  # B -> A: changed
    do_set_document_tags(tagger_user, docs[2], [b])  # another tagger's tag: kept
    result = do_bulk_tag(admin_user, project, [d.pk for d in docs] + [theirs.pk, "junk", -3], a)
    assert (result.documents, result.created, result.changed, result.unchanged) == (5, 3, 1, 1)
    for doc in docs:
        assert names(admin_user, doc) == [("A", True)]
    assert names(tagger_user, docs[2]) == [("B", True)]
    assert not Tag.objects.filter(document=theirs).exists()
    entry = AuditEntry.objects.get(action="tag.bulk_add")
    assert entry.payload["document_ids"] == sorted(d.pk for d in docs)
    assert entry.payload["created"] == 3 and entry.object_type == "class"
    assert Tag.objects.filter(source="bulk").count() == 4


def test_bulk_tag_multi_label_adds(multi, admin_user):
    a, b, _c = multi.classes.all()
    docs = [make_doc(multi, f"d{i}") for i in range(3)]
    do_set_document_tags(admin_user, docs[0], [b])
    do_bulk_tag(admin_user, multi, [d.pk for d in docs], a)
    assert names(admin_user, docs[0]) == [("A", True), ("B", True)]
    assert names(admin_user, docs[2]) == [("A", True)]


def test_bulk_tag_trainable_flips(trainable, admin_user):
    category = trainable.classes.get()
    docs = [make_doc(trainable, f"d{i}") for i in range(3)]
    do_set_document_tags(admin_user, docs[0], [category], positive=True)
    result = do_bulk_tag(admin_user, trainable, [d.pk for d in docs], category, positive=False)
    assert (result.created, result.changed) == (2, 1)
    assert set(Tag.objects.values_list("positive", flat=True)) == {False}


def test_bulk_tag_many_documents_in_chunks(project, classes, admin_user, monkeypatch):
    monkeypatch.setattr(document_actions, "HISTORY_IDS_MAX", 100)
    Document.objects.bulk_create(
        Document(project=project, text=f"t{i}", text_hash=str(i))
        for i in range(document_actions.CHUNK * 2 + 7)
    )
    all_ids = list(Document.objects.filter(project=project).values_list("id", flat=True))
    result = do_bulk_tag(admin_user, project, all_ids, classes[0])
    assert result.created == len(all_ids) == Tag.objects.count()
    entry = AuditEntry.objects.get(action="tag.bulk_add")
    assert entry.payload["documents"] == len(all_ids) and "document_ids" not in entry.payload
    # A second class replaces every tag of the first, in one entry.
    result = do_bulk_tag(admin_user, project, all_ids, classes[1])
    assert result.changed == len(all_ids) and not Tag.objects.filter(tag_class=classes[0]).exists()


def test_bulk_untag_admin_removes_everyones(project, classes, admin_user, tagger_user):
    a, b, _c = classes
    docs = [make_doc(project, f"d{i}") for i in range(3)]
    for doc in docs:
        do_set_document_tags(admin_user, doc, [a])
        do_set_document_tags(tagger_user, doc, [a])
    do_set_document_tags(tagger_user, docs[2], [b])
    removed = do_bulk_untag(admin_user, project, [d.pk for d in docs[:2]], a)
    assert removed == 4
    assert Tag.objects.filter(tag_class=a).count() == 1  # docs[2], admin's
    entry = AuditEntry.objects.get(action="tag.bulk_remove")
    assert entry.payload["taggers"] == "everyone" and entry.payload["removed"] == 4


def test_bulk_untag_tagger_removes_own_only(project, classes, admin_user, tagger_user, viewer_user):
    a = classes[0]
    docs = [make_doc(project, f"d{i}") for i in range(2)]
    for doc in docs:
        do_set_document_tags(admin_user, doc, [a])
        do_set_document_tags(tagger_user, doc, [a])
    assert do_bulk_untag(tagger_user, project, [d.pk for d in docs], a) == 2
    assert set(Tag.objects.values_list("tagger__username", flat=True)) == {"alice"}
    with pytest.raises(ActionError):
        do_bulk_untag(viewer_user, project, [d.pk for d in docs], a)


def test_bulk_refusals(project, classes, other_project, admin_user):
    theirs_doc = make_doc(other_project, "x")
    with pytest.raises(ActionError, match="No documents"):
        do_bulk_tag(admin_user, project, [theirs_doc.pk], classes[0])
    theirs_class = Class.objects.create(project=other_project, name="Z")
    doc = make_doc(project, "y")
    with pytest.raises(ActionError, match="not part"):
        do_bulk_tag(admin_user, project, [doc.pk], theirs_class)
    with pytest.raises(ActionError, match="not part"):
        do_bulk_untag(admin_user, project, [doc.pk], theirs_class)
    assert not Tag.objects.exists() and not AuditEntry.objects.filter(action__startswith="tag.").exists()
