"""The schema actions: versions, snapshots, tags kept or moved, refusals."""

from __future__ import annotations

import re

import pytest

from classifiers.actions.base import ActionError
from classifiers.actions.schema import (
    DeleteNeedsConfirmation,
    SchemaError,
    do_add_class,
    do_archive_class,
    do_delete_class,
    do_edit_class,
    do_merge_classes,
    do_reorder_class,
    do_update_guidelines,
)
from classifiers.models import Class, Document, Project, SchemaVersion, Tag
from studio.models import AuditEntry
from tests.conftest import make_project

_docs = 0


def document(project: Project) -> Document:
    global _docs
    _docs += 1
    return Document.objects.create(project=project, text=f"text {_docs}", text_hash=f"{_docs:064d}")


def tag(cls: Class, user, doc: Document | None = None, **kwargs) -> Tag:
    doc = doc or document(cls.project)
    return Tag.objects.create(project=cls.project, document=doc, tag_class=cls, tagger=user, **kwargs)


def versions(project: Project) -> list[tuple[int, str]]:
    return list(project.schema_versions.order_by("number").values_list("number", "change"))


def test_each_change_is_the_next_schema_version(project, admin_user):
    a = do_add_class(admin_user, project, name="Invoice", hotkey="i")
    b = do_add_class(admin_user, project, name="Contract", colour="#AA0000")
    assert (a.position, b.position, b.colour) == (0, 1, "#aa0000")
    do_edit_class(admin_user, a, name="Invoices")
    do_archive_class(admin_user, b, True)
    do_archive_class(admin_user, b, False)
    do_reorder_class(admin_user, b, "up")
    c = do_add_class(admin_user, project, name="Letter")
    do_merge_classes(admin_user, c, a)
    do_delete_class(admin_user, b)
    assert versions(project) == [
        (1, "class.add"), (2, "class.add"), (3, "class.rename"), (4, "class.archive"),
        (5, "class.unarchive"), (6, "class.move"), (7, "class.add"), (8, "class.merge"), (9, "class.delete"),
    ]  # fmt: skip
    project.refresh_from_db()
    assert project.schema_version == 9
    # Every audit entry of a schema change names its version.
    numbers = sorted(
        e.payload["schema_version"] for e in AuditEntry.objects.filter(action__startswith="class.")
    )
    assert numbers == list(range(1, 10))


def test_snapshots_list_the_classes_in_schema_order(project, admin_user):
    a = do_add_class(admin_user, project, name="A")
    b = do_add_class(admin_user, project, name="B")
    do_archive_class(admin_user, a, True)
    assert SchemaVersion.objects.get(project=project, number=3).classes == [
        {"id": a.pk, "name": "A", "archived": True},
        {"id": b.pk, "name": "B", "archived": False},
    ]
    do_reorder_class(admin_user, b, "up")
    assert [c["name"] for c in SchemaVersion.objects.get(project=project, number=4).classes] == ["B", "A"]
    do_edit_class(admin_user, b, name="Bee")
    assert SchemaVersion.objects.get(project=project, number=5).classes[0] == {
        "id": b.pk,
        "name": "Bee",
        "archived": False,
    }
    assert SchemaVersion.objects.get(project=project, number=5).created_by == admin_user


def test_description_colour_and_hotkey_edits_are_audited_but_no_version(project, admin_user):
    a = do_add_class(admin_user, project, name="A")
    assert do_edit_class(admin_user, a, description="Guidance", colour="#00ff00", hotkey="a") == [
        "description",
        "colour",
        "hotkey",
    ]
    project.refresh_from_db()
    assert project.schema_version == 1
    entry = AuditEntry.objects.get(action="class.edit")
    assert entry.payload == {
        "before": {"description": "", "colour": "#2f5d8a", "hotkey": ""},
        "after": {"description": "Guidance", "colour": "#00ff00", "hotkey": "a"},
    }
    assert do_edit_class(admin_user, a, name="A", description="Guidance") == []  # nothing changed


def test_rename_keeps_tags(project, admin_user, tagger_user):
    a = do_add_class(admin_user, project, name="Invoce")
    tag(a, tagger_user)
    tag(a, admin_user)
    do_edit_class(admin_user, a, name="Invoice")
    assert Tag.objects.filter(tag_class__name="Invoice").count() == 2
    assert AuditEntry.objects.get(action="class.rename").payload["before"] == {"name": "Invoce"}


def test_merge_moves_tags_and_drops_duplicates(project, admin_user, tagger_user, viewer_user):
    a = do_add_class(admin_user, project, name="Bill")
    b = do_add_class(admin_user, project, name="Invoice")
    shared = document(project)
    tag(a, tagger_user, shared)  # tom gave both classes to this document: his Bill tag is dropped
    kept = tag(b, tagger_user, shared)
    tag(a, admin_user, shared)  # alice gave only Bill: moved
    tag(a, tagger_user)  # another document: moved
    resolved = tag(a, viewer_user, shared, is_resolution=True)  # vera resolved with Bill ...
    plain = tag(b, viewer_user, shared)  # ... and also tagged Invoice: her Invoice tag becomes the resolution
    a_id = a.pk
    result = do_merge_classes(admin_user, a, b)
    assert result == {"moved": 2, "dropped": 2}
    assert not Class.objects.filter(pk=a_id).exists()
    assert Tag.objects.filter(tag_class=b).count() == 4
    assert Tag.objects.filter(document=shared, tagger=tagger_user).get() == kept
    assert not Tag.objects.filter(pk=resolved.pk).exists()
    plain.refresh_from_db()
    assert plain.is_resolution
    entry = AuditEntry.objects.get(action="class.merge")
    assert entry.payload == {
        "source": "Bill", "source_id": a_id, "target": "Invoice", "target_id": b.pk,
        "moved": 2, "dropped": 2, "schema_version": 3,
    }  # fmt: skip
    assert SchemaVersion.objects.get(project=project, number=3).classes == [
        {"id": b.pk, "name": "Invoice", "archived": False}
    ]


def test_merge_refusals(project, other_project, admin_user, outsider_user):
    a = do_add_class(admin_user, project, name="A")
    b = do_add_class(admin_user, project, name="B")
    theirs = do_add_class(outsider_user, other_project, name="Theirs")
    with pytest.raises(SchemaError, match="into itself"):
        do_merge_classes(admin_user, a, a)
    do_archive_class(admin_user, b, True)
    with pytest.raises(SchemaError, match="“B” is archived"):
        do_merge_classes(admin_user, a, b)
    with pytest.raises(SchemaError, match="same project"):
        do_merge_classes(admin_user, a, theirs)
    project.refresh_from_db()
    assert project.schema_version == 3  # add, add, archive: the refusals wrote nothing
    assert Class.objects.filter(pk=a.pk).exists()


def test_archive_keeps_tags_and_frees_the_hotkey(project, admin_user, tagger_user):
    a = do_add_class(admin_user, project, name="A", hotkey="x")
    tag(a, tagger_user)
    assert do_archive_class(admin_user, a, True) is True
    assert do_archive_class(admin_user, a, True) is False  # already archived: no new version
    assert a.tags.count() == 1
    b = do_add_class(admin_user, project, name="B", hotkey="x")  # archived classes' hotkeys are free
    with pytest.raises(SchemaError, match="Hotkey “x” is now used by “B”"):
        do_archive_class(admin_user, a, False)
    do_edit_class(admin_user, b, hotkey="")
    assert do_archive_class(admin_user, a, False) is True


def test_delete_unused_at_once_used_only_with_the_count(project, admin_user, tagger_user):
    unused = do_add_class(admin_user, project, name="Unused")
    assert do_delete_class(admin_user, unused) == 0
    used = do_add_class(admin_user, project, name="Used")
    doc = document(project)
    tag(used, tagger_user, doc)
    tag(used, admin_user, doc)
    tag(used, admin_user)
    with pytest.raises(DeleteNeedsConfirmation) as asked:
        do_delete_class(admin_user, used)
    assert (asked.value.tags, asked.value.documents) == (3, 2)
    assert "3 tags on 2 documents will be deleted with it" in str(asked.value)
    with pytest.raises(DeleteNeedsConfirmation, match="now has 3 tags, not 2"):
        do_delete_class(admin_user, used, confirm_count=2)
    assert Tag.objects.filter(tag_class=used).count() == 3
    assert do_delete_class(admin_user, used, confirm_count=3) == 3
    assert not Tag.objects.exists()
    entry = AuditEntry.objects.filter(action="class.delete").first()
    assert entry.payload == {"name": "Used", "tags": 3, "documents": 2, "schema_version": 4}


def test_one_tag_confirmation_is_singular(project, admin_user):
    used = do_add_class(admin_user, project, name="Used")
    tag(used, admin_user)
    with pytest.raises(DeleteNeedsConfirmation, match="1 tag on 1 document will be deleted with it"):
        do_delete_class(admin_user, used)


def test_reorder_normalises_positions(project, admin_user):
    a, b, c = (Class.objects.create(project=project, name=n) for n in "ABC")  # all position 0
    assert do_reorder_class(admin_user, c, "up") == 2
    assert list(project.classes.values_list("name", flat=True)) == ["A", "C", "B"]
    with pytest.raises(SchemaError, match="already first"):
        do_reorder_class(admin_user, a, "up")
    with pytest.raises(SchemaError, match="already last"):
        do_reorder_class(admin_user, b, "down")
    with pytest.raises(SchemaError, match="up or down"):
        do_reorder_class(admin_user, b, "sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "needs a name"),
        ({"name": "   "}, "needs a name"),
        ({"name": "Tab\there"}, "control characters"),
        ({"name": "Bell\x07"}, "control characters"),
        ({"name": "x" * 101}, "at most 100 characters (this one has 101)"),
        ({"name": "INVOICE"}, "already has a class named “Invoice”"),
        ({"name": "New", "colour": "red"}, "#rrggbb"),
        ({"name": "New", "colour": "#12345"}, "#rrggbb"),
        ({"name": "New", "hotkey": "ab"}, "single letter"),
        ({"name": "New", "hotkey": "3"}, "Digits cannot be hotkeys"),
        ({"name": "New", "hotkey": " "}, "Space cannot be a hotkey"),
        ({"name": "New", "hotkey": "S"}, "“s” is kept for skip"),
        ({"name": "New", "hotkey": "?"}, "“?” is kept for the shortcuts help"),
        ({"name": "New", "hotkey": "g"}, "go to projects"),
        ({"name": "New", "hotkey": "-"}, "single letter"),
        ({"name": "New", "hotkey": "I"}, "Hotkey “i” is already used by “Invoice”"),
        ({"name": "New", "description": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_bad_fields_are_refused(project, admin_user, fields, message):
    do_add_class(admin_user, project, name="Invoice", hotkey="i")
    with pytest.raises(SchemaError, match=re.escape(message)):
        do_add_class(admin_user, project, **fields)
    assert project.classes.count() == 1
    project.refresh_from_db()
    assert project.schema_version == 1


def test_names_are_stripped_and_hotkeys_lowercased(project, admin_user):
    cls = do_add_class(admin_user, project, name="  Invoice ", hotkey="Q")
    assert (cls.name, cls.hotkey) == ("Invoice", "q")


def test_trainable_category_can_be_renamed_but_not_multiplied(admin_user):
    project = make_project(admin_user, name="Harassment", kind="trainable")
    category = project.classes.get()
    do_edit_class(admin_user, category, name="Harassment reports", description="d", colour="#ff0000")
    assert project.schema_versions.count() == 2
    with pytest.raises(SchemaError, match="exactly one category"):
        do_add_class(admin_user, project, name="Other")
    with pytest.raises(SchemaError, match="cannot be merged"):
        do_merge_classes(admin_user, category, category)
    with pytest.raises(SchemaError, match="cannot be deleted"):
        do_delete_class(admin_user, category)
    with pytest.raises(SchemaError, match="cannot be archived"):
        do_archive_class(admin_user, category, True)
    with pytest.raises(SchemaError, match="no hotkey"):
        do_edit_class(admin_user, category, hotkey="h")
    assert project.classes.count() == 1


def test_a_stale_class_is_explained(project, admin_user):
    cls = do_add_class(admin_user, project, name="Gone")
    Class.objects.filter(pk=cls.pk).delete()
    with pytest.raises(ActionError, match="deleted in the meantime"):
        do_edit_class(admin_user, cls, name="Back")


def test_integrity_error_is_explained(project, admin_user, monkeypatch):
    # The check passed, then somebody else's class took the name before our insert.
    from classifiers.actions import schema

    do_add_class(admin_user, project, name="Taken")
    calls = []

    def check_passes_once(project, value, instance=None):
        calls.append(value)
        return value if len(calls) == 1 else schema.clean_name(project, value, instance)

    monkeypatch.setitem(schema.CLEANERS, "name", check_passes_once)
    with pytest.raises(SchemaError, match="already has a class named “Taken”"):
        do_add_class(admin_user, project, name="taken")
    assert len(calls) == 2 and project.classes.count() == 1


def test_guidelines_are_audited_but_not_a_schema_version(project, admin_user):
    assert do_update_guidelines(admin_user, project, "# Rules\r\n\r\nTag *carefully*.") is True
    project.refresh_from_db()
    assert project.guidelines == "# Rules\n\nTag *carefully*."
    assert project.schema_version == 0
    assert AuditEntry.objects.get(action="guidelines.update").payload == {
        "before_chars": 0,
        "after_chars": 25,
    }
    assert do_update_guidelines(admin_user, project, "# Rules\n\nTag *carefully*.") is False
    with pytest.raises(SchemaError, match="at most 100,000 characters"):
        do_update_guidelines(admin_user, project, "x" * 100_001)
