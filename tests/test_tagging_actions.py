"""classifiers.actions.tagging: tag, skip, undo, settings and resolutions, with their audit."""

from __future__ import annotations

import pytest

from classifiers.actions import ActionError, do_add_member
from classifiers.actions.tagging import (
    do_resolve_conflict,
    do_skip_document,
    do_tag_document,
    do_undo_last,
    do_update_tagging_settings,
)
from classifiers.labels import final_labels
from classifiers.models import Project, Tag, TaggingAction
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.test_search import make_doc
from tests.test_tagging_queue import add_classes


def mine(user, doc) -> list[str]:
    return sorted(Tag.objects.filter(document=doc, tagger=user).values_list("tag_class__name", flat=True))


@pytest.fixture
def classes(project):
    return add_classes(project)


@pytest.fixture
def multi(admin_user, tagger_user):
    project = make_project(admin_user, name="Topics", kind="multi_label")
    do_add_member(admin_user, project, tagger_user, "tagger")
    add_classes(project)
    return project


@pytest.fixture
def trainable(admin_user, tagger_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    do_add_member(admin_user, project, tagger_user, "tagger")
    return project


def test_tag_records_the_step_and_the_tags_audit(project, classes, tagger_user):
    a, b, _c = classes
    doc = make_doc(project, "x")
    first = do_tag_document(tagger_user, project, doc, [a])
    assert (first.kind, first.before, first.after) == (
        "tag",
        [],
        [{"id": a.pk, "name": "A", "positive": True}],
    )
    second = do_tag_document(tagger_user, project, doc, [b])  # last write wins
    assert [e["name"] for e in second.before] == ["A"] and mine(tagger_user, doc) == ["B"]
    entries = AuditEntry.objects.filter(action="tag.set").order_by("id")
    assert [e.payload["classes"] for e in entries] == [["A"], ["B"]]
    assert entries[0].payload["source"] == "tagging"


def test_multi_label_needs_a_class(multi, tagger_user):
    doc = make_doc(multi, "x")
    a, b, _c = multi.classes.all()
    with pytest.raises(ActionError, match="at least one class"):
        do_tag_document(tagger_user, multi, doc, [])
    action = do_tag_document(tagger_user, multi, doc, [a, b])
    assert [e["name"] for e in action.after] == ["A", "B"] and mine(tagger_user, doc) == ["A", "B"]


def test_undo_restores_the_earlier_tags(project, classes, tagger_user):
    a, b, _c = classes
    doc = make_doc(project, "x")
    do_tag_document(tagger_user, project, doc, [a])
    do_tag_document(tagger_user, project, doc, [b])
    undone = do_undo_last(tagger_user, project)
    assert undone.undone and mine(tagger_user, doc) == ["A"]
    do_undo_last(tagger_user, project)
    assert mine(tagger_user, doc) == []
    with pytest.raises(ActionError, match="Nothing to undo"):
        do_undo_last(tagger_user, project)
    assert AuditEntry.objects.filter(action="tagging.undo").count() == 2


def test_undo_trainable_restores_match(trainable, tagger_user):
    category = trainable.classes.get()
    doc = make_doc(trainable, "x")
    do_tag_document(tagger_user, trainable, doc, [category], positive=True)
    do_tag_document(tagger_user, trainable, doc, [category], positive=False)
    assert Tag.objects.get(document=doc).positive is False
    do_undo_last(tagger_user, trainable)
    assert Tag.objects.get(document=doc).positive is True


def test_skip_and_its_undo(project, classes, tagger_user):
    doc = make_doc(project, "x")
    action = do_skip_document(tagger_user, project, doc, "  not   sure  ")
    assert action.reason == "not sure"
    assert AuditEntry.objects.get(action="tagging.skip").payload == {"reason": "not sure"}
    with pytest.raises(ActionError, match="at most 300"):
        do_skip_document(tagger_user, project, doc, "x" * 301)
    do_undo_last(tagger_user, project)
    assert TaggingAction.objects.get(pk=action.pk).undone


def test_viewer_and_outsider_cannot_tag(project, classes, viewer_user, outsider_user):
    doc = make_doc(project, "x")
    for user in (viewer_user, outsider_user):
        with pytest.raises(ActionError):
            do_tag_document(user, project, doc, [classes[0]])
        with pytest.raises(ActionError):
            do_skip_document(user, project, doc)
        with pytest.raises(ActionError):
            do_undo_last(user, project)
    assert not Tag.objects.exists() and not TaggingAction.objects.exists()


def test_a_document_of_another_project_is_refused(project, other_project, classes, tagger_user):
    theirs = make_doc(other_project, "secret")
    with pytest.raises(ActionError, match="not part of this project"):
        do_skip_document(tagger_user, project, theirs)


def test_settings_are_audited_and_checked(project, admin_user, tagger_user):
    assert do_update_tagging_settings(admin_user, project, overlap=2, show_suggestions=True) == {
        "overlap": 2,
        "show_suggestions": True,
    }
    project.refresh_from_db()
    assert (project.overlap, project.show_suggestions) == (2, True)
    entry = AuditEntry.objects.get(action="tagging.settings")
    assert entry.payload == {
        "before": {"overlap": 1, "show_suggestions": False},
        "after": {"overlap": 2, "show_suggestions": True},
    }
    assert do_update_tagging_settings(admin_user, project, overlap=2, show_suggestions=True) == {}
    for bad in (0, 6):
        with pytest.raises(ActionError, match="1 to 5"):
            do_update_tagging_settings(admin_user, project, overlap=bad, show_suggestions=False)
    with pytest.raises(ActionError, match="Admin"):
        do_update_tagging_settings(tagger_user, project, overlap=3, show_suggestions=False)
    assert AuditEntry.objects.filter(action="tagging.settings").count() == 1


def test_resolution_settles_a_conflict(project, classes, admin_user, tagger_user):
    a, b, _c = classes
    Project.objects.filter(pk=project.pk).update(overlap=2)
    doc = make_doc(project, "x")
    do_tag_document(tagger_user, project, doc, [a])
    do_tag_document(admin_user, project, doc, [b])  # the Admin tagged too, differently
    assert doc.pk not in final_labels(project)
    do_resolve_conflict(admin_user, project, doc, [b])
    assert final_labels(project)[doc.pk] == ["B"]
    # The Admin's own tag (as a tagger) and the resolution live side by side.
    assert Tag.objects.filter(document=doc, tag_class=b).count() == 2
    resolution = Tag.objects.get(document=doc, is_resolution=True)
    assert resolution.tagger is None and resolution.tag_class == b
    entry = AuditEntry.objects.get(action="tag.resolve")
    assert entry.actor == admin_user and entry.object_id == str(doc.pk)
    assert entry.payload["classes"] == ["B"] and entry.payload["answers"] == {"tom": ["A"], "alice": ["B"]}
    # Resolving again replaces the earlier resolution.
    do_resolve_conflict(admin_user, project, doc, [a])
    assert final_labels(project)[doc.pk] == ["A"]
    assert AuditEntry.objects.filter(action="tag.resolve").order_by("id").last().payload["before"] == ["B"]
    # Tagging again as a tagger leaves the resolution alone.
    do_tag_document(admin_user, project, doc, [a])
    assert Tag.objects.filter(document=doc, is_resolution=True).count() == 1


def test_resolution_rules(project, multi, trainable, classes, admin_user, tagger_user):
    doc = make_doc(project, "x")
    with pytest.raises(ActionError, match="Admin"):
        do_resolve_conflict(tagger_user, project, doc, [classes[0]])
    with pytest.raises(ActionError, match="one final class"):
        do_resolve_conflict(admin_user, project, doc, classes[:2])
    with pytest.raises(ActionError, match="final class"):
        do_resolve_conflict(admin_user, project, doc, [])
    multi_doc = make_doc(multi, "y")
    tags = do_resolve_conflict(admin_user, multi, multi_doc, list(multi.classes.all())[:2])
    assert len(tags) == 2 and final_labels(multi)[multi_doc.pk] == ["A", "B"]
    spot = make_doc(trainable, "z")
    do_resolve_conflict(admin_user, trainable, spot, [trainable.classes.get()], positive=False)
    assert final_labels(trainable)[spot.pk] == ["not_match"]
