"""The project schema: classes and guidelines.

Every change to the class list (a class added, renamed, archived or restored, merged, deleted
or moved) is a new numbered schema version: the project row is locked, ``schema_version``
goes up by one, a ``SchemaVersion`` keeps the classes as they are now, and the audit entry
carries ``"schema_version": n``. A model version names the schema it was trained on by that
number. Description, colour and hotkey edits and the guidelines are audited, but do not
change what a model learns, so they are not schema versions.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone

from classifiers.actions.base import ActionError
from classifiers.models import HEX_COLOUR_RE, RESERVED_HOTKEYS, Class, Project, SchemaVersion, Tag
from studio.audit import log_action

NAME_MAX = 100
DESCRIPTION_MAX = 5000
GUIDELINES_MAX = 100_000
DEFAULT_COLOUR = "#2f5d8a"
CLASS_FIELDS = ("name", "description", "colour", "hotkey")

# Why a key cannot be a class hotkey. RESERVED_HOTKEYS are the tagging view's own keys;
# "g" starts the site-wide "g p" shortcut in studio.js, which swallows the next key.
HOTKEY_TAKEN_BY: dict[str, str] = {
    "s": "skip",
    "u": "undo",
    "m": "match",
    "n": "not a match",
    "?": "the shortcuts help",
    "g": "the “g p” shortcut (go to projects)",
}

TRAINABLE_ONE_CLASS = (
    "A trainable classifier has exactly one category (match or not a match): "
    "it cannot have a second class. Create another project for another category."
)


class SchemaError(ActionError):
    """A refused schema change; ``field`` names the form field at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DeleteNeedsConfirmation(ActionError):
    """Deleting a class that has tags needs the tag count back as confirmation."""

    def __init__(self, cls: Class, tags: int, documents: int, offered: int | None = None) -> None:
        self.cls, self.tags, self.documents, self.offered = cls, tags, documents, offered
        self.consequence = consequence = (
            f"{_count(tags, 'tag')} on {_count(documents, 'document')} will be deleted with it."
        )
        if offered is None:
            message = f"“{cls.name}” is in use: {consequence}"
        else:
            message = (
                f"“{cls.name}” now has {_count(tags, 'tag')}, not {offered}: {consequence} Confirm again."
            )
        super().__init__(message)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- Validation -----------------------------------------------------------------------------
def clean_name(project: Project, value: str, instance: Class | None = None) -> str:
    if any(unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029" for ch in value):
        raise SchemaError("A class name cannot contain control characters (tabs, line breaks).", "name")
    name = value.strip()
    if not name:
        raise SchemaError("A class needs a name.", "name")
    if len(name) > NAME_MAX:
        raise SchemaError(
            f"A class name has at most {NAME_MAX} characters (this one has {len(name)}).", "name"
        )
    clash = project.classes.filter(name__iexact=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    other = clash.first()
    if other is not None:
        raise SchemaError(f"This project already has a class named “{other.name}”.", "name")
    return name


def clean_description(project: Project, value: str, instance: Class | None = None) -> str:
    description = value.strip()
    if "\x00" in description:
        raise SchemaError("A description cannot contain NUL characters.", "description")
    if len(description) > DESCRIPTION_MAX:
        raise SchemaError(
            f"A description has at most {DESCRIPTION_MAX} characters (this one has {len(description)}).",
            "description",
        )
    return description


def clean_colour(project: Project, value: str, instance: Class | None = None) -> str:
    colour = value.strip()
    if not HEX_COLOUR_RE.match(colour):
        raise SchemaError("A colour is written #rrggbb, e.g. #2f5d8a.", "colour")
    return colour.lower()


def clean_hotkey(project: Project, value: str, instance: Class | None = None) -> str:
    if value == "":
        return ""
    if project.is_trainable:
        raise SchemaError(
            "A trainable classifier is tagged with m (match) and n (not a match): "
            "its category has no hotkey.",
            "hotkey",
        )
    if len(value) != 1:
        raise SchemaError("A hotkey is one key: a single letter.", "hotkey")
    if value.isspace():
        raise SchemaError("Space cannot be a hotkey: pick a letter.", "hotkey")
    if value.isdigit():
        raise SchemaError(
            "Digits cannot be hotkeys: 1 to 9 already pick a class by its position in the tagging view. "
            "Pick a letter.",
            "hotkey",
        )
    key = value.lower()
    if key in HOTKEY_TAKEN_BY or key in RESERVED_HOTKEYS:
        why = HOTKEY_TAKEN_BY.get(key, "its own shortcuts")
        raise SchemaError(f"“{key}” is kept for {why} in the tagging view: pick another letter.", "hotkey")
    if not key.isalpha():
        raise SchemaError("A hotkey is a single letter.", "hotkey")
    if instance is None or not instance.archived:
        # Archived classes are not tagged, so their hotkeys are free (as in the DB constraint).
        clash = project.classes.filter(archived=False, hotkey=key)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        other = clash.first()
        if other is not None:
            raise SchemaError(f"Hotkey “{key}” is already used by “{other.name}”.", "hotkey")
    return key


CLEANERS = {
    "name": clean_name,
    "description": clean_description,
    "colour": clean_colour,
    "hotkey": clean_hotkey,
}


def class_field_errors(project: Project, instance: Class | None = None, **values: str) -> dict[str, str]:
    """Every problem with the given fields at once, for a form to show next to each field."""
    errors = {}
    for field, value in values.items():
        if instance is not None and getattr(instance, field) == value:
            continue  # unchanged values stay valid, even if the rules got stricter since
        try:
            CLEANERS[field](project, value, instance)
        except SchemaError as exc:
            errors[field] = str(exc)
    return errors


def _clean_changes(project: Project, instance: Class | None, values: dict[str, str]) -> dict[str, str]:
    """The values that differ from ``instance``, cleaned; the first problem raises SchemaError."""
    cleaned = {}
    for field, value in values.items():
        if instance is not None and getattr(instance, field) == value:
            continue
        cleaned[field] = CLEANERS[field](project, value, instance)
    if instance is not None:
        cleaned = {k: v for k, v in cleaned.items() if getattr(instance, k) != v}
    return cleaned


# --- Schema versions ------------------------------------------------------------------------
def _lock(project: Project) -> Project:
    """Lock the project row: schema changes of one project run one at a time, so version
    numbers, positions and the name and hotkey checks never race."""
    return Project.objects.select_for_update().only("id", "schema_version").get(pk=project.pk)


def _bump(locked: Project, project: Project) -> int:
    number = locked.schema_version + 1
    Project.objects.filter(pk=project.pk).update(schema_version=number, updated_at=timezone.now())
    locked.schema_version = project.schema_version = number
    return number


def snapshot(project: Project) -> list[dict[str, Any]]:
    return [
        {"id": pk, "name": name, "archived": archived}
        for pk, name, archived in project.classes.order_by("position", "id").values_list(
            "id", "name", "archived"
        )
    ]


def _save_version(actor: AbstractBaseUser | None, project: Project, number: int, change: str) -> None:
    SchemaVersion.objects.create(
        project=project,
        number=number,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        change=change,
        classes=snapshot(project),
    )


def _refresh(cls: Class) -> None:
    try:
        cls.refresh_from_db()
    except Class.DoesNotExist:
        raise SchemaError("This class was deleted in the meantime.") from None


def _explain_integrity_error(project: Project, instance: Class | None, values: dict[str, str]) -> SchemaError:
    # Someone else's change got in between our check and our write: say what clashes now.
    try:
        _clean_changes(project, instance, values)
    except SchemaError as exc:
        return exc
    return SchemaError("Another change to the schema got there first: please try again.")


# --- Actions --------------------------------------------------------------------------------
def do_add_class(
    actor: AbstractBaseUser,
    project: Project,
    *,
    name: str,
    description: str = "",
    colour: str = DEFAULT_COLOUR,
    hotkey: str = "",
) -> Class:
    values = {"name": name, "description": description, "colour": colour, "hotkey": hotkey}
    try:
        with transaction.atomic():
            locked = _lock(project)
            if project.is_trainable:
                raise SchemaError(TRAINABLE_ONE_CLASS)
            fields = _clean_changes(project, None, values)
            last = project.classes.aggregate(last=Max("position"))["last"]
            cls = Class.objects.create(project=project, position=0 if last is None else last + 1, **fields)
            number = _bump(locked, project)
            log_action(actor, "class.add", cls, payload={**fields, "schema_version": number})
            _save_version(actor, project, number, "class.add")
    except IntegrityError:
        raise _explain_integrity_error(project, None, values) from None
    return cls


def do_edit_class(
    actor: AbstractBaseUser,
    cls: Class,
    *,
    name: str | None = None,
    description: str | None = None,
    colour: str | None = None,
    hotkey: str | None = None,
) -> list[str]:
    """Change any of the fields given (None: leave as is). A rename keeps every tag: tags
    point at the class, not at its name. Returns the names of the fields that changed."""
    requested = {
        k: v
        for k, v in {"name": name, "description": description, "colour": colour, "hotkey": hotkey}.items()
        if v is not None
    }
    project = cls.project
    try:
        with transaction.atomic():
            locked = _lock(project)
            _refresh(cls)
            changed = _clean_changes(project, cls, requested)
            if not changed:
                return []
            before = {k: getattr(cls, k) for k in changed}
            for key, value in changed.items():
                setattr(cls, key, value)
            cls.save(update_fields=list(changed))
            payload: dict[str, Any] = {"before": before, "after": changed}
            renamed = "name" in changed
            if renamed:
                payload["schema_version"] = number = _bump(locked, project)
            log_action(actor, "class.rename" if renamed else "class.edit", cls, payload=payload)
            if renamed:
                _save_version(actor, project, number, "class.rename")
    except IntegrityError:
        cls.refresh_from_db()
        raise _explain_integrity_error(project, cls, requested) from None
    return list(changed)


def do_archive_class(actor: AbstractBaseUser, cls: Class, archived: bool) -> bool:
    """Archive (hide from tagging, keep its tags) or restore a class. Returns whether it changed."""
    project = cls.project
    try:
        with transaction.atomic():
            locked = _lock(project)
            _refresh(cls)
            if project.is_trainable:
                raise SchemaError(
                    "The category of a trainable classifier cannot be archived: it is the only class."
                )
            if cls.archived == archived:
                return False
            if not archived and cls.hotkey:
                other = project.classes.filter(archived=False, hotkey=cls.hotkey).exclude(pk=cls.pk).first()
                if other is not None:
                    raise SchemaError(
                        f"Hotkey “{cls.hotkey}” is now used by “{other.name}”: give “{cls.name}” "
                        "another hotkey (or none) before restoring it."
                    )
            cls.archived = archived
            cls.save(update_fields=["archived"])
            change = "class.archive" if archived else "class.unarchive"
            number = _bump(locked, project)
            log_action(actor, change, cls, payload={"name": cls.name, "schema_version": number})
            _save_version(actor, project, number, change)
    except IntegrityError:
        cls.refresh_from_db()
        raise SchemaError(f"Hotkey “{cls.hotkey}” is taken by an active class: change it first.") from None
    return True


def do_merge_classes(actor: AbstractBaseUser, source: Class, target: Class) -> dict[str, int]:
    """Move every tag of ``source`` to ``target``, then delete ``source``.

    Where a tagger already gave ``target`` to the same document, their ``source`` tag is
    dropped (one tag per document, tagger and class); if it was a resolution, the kept tag
    becomes one. Returns {"moved": n, "dropped": m}.
    """
    if source.project_id != target.project_id:
        raise SchemaError("Only classes of the same project can be merged.")
    project = source.project
    with transaction.atomic():
        locked = _lock(project)
        _refresh(source)
        _refresh(target)
        if project.is_trainable:
            raise SchemaError(
                "The category of a trainable classifier cannot be merged: it is the only class."
            )
        if source.pk == target.pk:
            raise SchemaError("A class cannot be merged into itself: pick another class.", "target")
        if target.archived:
            raise SchemaError(
                f"“{target.name}” is archived: restore it first, or merge into an active class.", "target"
            )
        now = timezone.now()
        same_tag = Tag.objects.filter(document=OuterRef("document"), tagger=OuterRef("tagger"))
        Tag.objects.filter(tag_class=target, is_resolution=False).filter(
            Exists(same_tag.filter(tag_class=source, is_resolution=True))
        ).update(is_resolution=True, updated_at=now)
        duplicates = Tag.objects.filter(tag_class=source, tagger__isnull=False).filter(
            Exists(same_tag.filter(tag_class=target))
        )
        _, deleted = duplicates.delete()
        dropped = deleted.get(Tag._meta.label, 0)
        moved = Tag.objects.filter(tag_class=source).update(tag_class=target, updated_at=now)
        number = _bump(locked, project)
        log_action(
            actor,
            "class.merge",
            target,
            payload={
                "source": source.name,
                "source_id": source.pk,
                "target": target.name,
                "target_id": target.pk,
                "moved": moved,
                "dropped": dropped,
                "schema_version": number,
            },
        )
        source.delete()
        _save_version(actor, project, number, "class.merge")
    return {"moved": moved, "dropped": dropped}


def class_usage(cls: Class) -> dict[str, int]:
    """{"tags": n, "documents": m}: what deleting the class would take with it."""
    return cls.tags.aggregate(tags=Count("id"), documents=Count("document", distinct=True))


def do_delete_class(actor: AbstractBaseUser, cls: Class, confirm_count: int | None = None) -> int:
    """Delete a class. An unused class goes at once; a used one only when ``confirm_count``
    equals its current number of tags (DeleteNeedsConfirmation otherwise). Returns the
    number of tags deleted with it."""
    project = cls.project
    with transaction.atomic():
        locked = _lock(project)
        _refresh(cls)
        if project.is_trainable:
            raise SchemaError(
                "The category of a trainable classifier cannot be deleted: rename it, or delete the project."
            )
        usage = class_usage(cls)
        if usage["tags"] and confirm_count != usage["tags"]:
            raise DeleteNeedsConfirmation(cls, usage["tags"], usage["documents"], confirm_count)
        number = _bump(locked, project)
        log_action(actor, "class.delete", cls, payload={"name": cls.name, **usage, "schema_version": number})
        cls.delete()
        _save_version(actor, project, number, "class.delete")
    return usage["tags"]


def do_reorder_class(actor: AbstractBaseUser, cls: Class, direction: Literal["up", "down"]) -> int:
    """Swap a class with its neighbour. Returns its new position (1 = first)."""
    if direction not in ("up", "down"):
        raise SchemaError("A class moves up or down.")
    project = cls.project
    with transaction.atomic():
        locked = _lock(project)
        _refresh(cls)
        ordered = list(project.classes.order_by("position", "id"))
        i = next(n for n, c in enumerate(ordered) if c.pk == cls.pk)
        j = i - 1 if direction == "up" else i + 1
        if not 0 <= j < len(ordered):
            raise SchemaError(f"“{cls.name}” is already {'first' if direction == 'up' else 'last'}.")
        ordered[i], ordered[j] = ordered[j], ordered[i]
        # Rewrite positions as 0..n-1: rows created elsewhere may all share position 0.
        moved = []
        for position, c in enumerate(ordered):
            if c.position != position:
                c.position = position
                moved.append(c)
        Class.objects.bulk_update(moved, ["position"])
        cls.position = j
        number = _bump(locked, project)
        log_action(
            actor,
            "class.move",
            cls,
            payload={"name": cls.name, "direction": direction, "position": j + 1, "schema_version": number},
        )
        _save_version(actor, project, number, "class.move")
    return j + 1


def clean_guidelines(value: str) -> str:
    text = value.replace("\r\n", "\n")
    if "\x00" in text:
        raise SchemaError("The guidelines cannot contain NUL characters.", "guidelines")
    if len(text) > GUIDELINES_MAX:
        raise SchemaError(
            f"The guidelines have at most {GUIDELINES_MAX:,} characters (these have {len(text):,}).",
            "guidelines",
        )
    return text


def do_update_guidelines(actor: AbstractBaseUser, project: Project, text: str) -> bool:
    """Replace the project's guidelines (markdown). Audited; not a schema version."""
    text = clean_guidelines(text)
    with transaction.atomic():
        current = Project.objects.select_for_update().only("id", "guidelines").get(pk=project.pk)
        if current.guidelines == text:
            return False
        Project.objects.filter(pk=project.pk).update(guidelines=text, updated_at=timezone.now())
        log_action(
            actor,
            "guidelines.update",
            project,
            payload={"before_chars": len(current.guidelines), "after_chars": len(text)},
        )
    project.guidelines = text
    return True
