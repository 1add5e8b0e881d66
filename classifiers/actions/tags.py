"""Tags: the one place they are written (the document page, bulk actions and, later, the
tagging studio all call these functions).

Semantics by project kind, for the acting tagger's own tags:

- single-label: a tagger has at most one tag per document; setting a class replaces it.
- multi-label: a tagger's tags on a document are a set of classes; setting replaces the set.
- trainable classifier: one tag on the category; ``positive`` True = match, False = not a
  match.

Other taggers' tags are never changed by tagging (overlap: several taggers may tag one
document). Removing (``do_bulk_untag``): an Admin removes that class's tags by everyone
(cleaning up a mistaken class), a Tagger removes only their own tags. Archived classes
cannot be given (history is kept). Bulk functions write one audit entry per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from classifiers.actions.base import ActionError
from classifiers.actions.documents import chunked, ids_payload, project_document_ids, role_of
from classifiers.models import Class, Document, Project, Role, Tag
from studio.audit import log_action

SOURCES = {"tagging", "bulk", "import", "review", "feedback"}


def _check_actor(actor: Any, project: Project) -> str:
    role = role_of(actor, project)
    if role not in (Role.ADMIN, Role.TAGGER):
        raise ActionError("Tagging needs the Tagger or Admin role.")
    return role


def _check_class(project: Project, cls: Class) -> None:
    if cls.project_id != project.pk:
        raise ActionError("That class is not part of this project.")
    if cls.archived:
        raise ActionError(f"“{cls.name}” is archived: it can no longer be given.")


def _check_positive(project: Project, positive: bool) -> None:
    if not positive and not project.is_trainable:
        raise ActionError("Only trainable classifiers have “not a match” tags.")


def do_set_document_tags(
    actor: AbstractBaseUser,
    document: Document,
    classes: Sequence[Class],
    *,
    positive: bool = True,
    source: str = "tagging",
) -> list[Tag]:
    """Make the actor's tags on ``document`` exactly ``classes`` (see the module docstring).
    An empty list removes the actor's tags. Returns the actor's tags afterwards. Writes one
    ``tag.set`` entry when something changed, none for a no-op."""
    project = document.project
    _check_actor(actor, project)
    if source not in SOURCES:
        raise ActionError(f"Unknown tag source “{source}”.")
    _check_positive(project, positive)
    wanted = list({c.pk: c for c in classes}.values())
    for cls in wanted:
        _check_class(project, cls)
    if project.kind == Project.Kind.SINGLE_LABEL and len(wanted) > 1:
        raise ActionError("A single-label project takes one class per document.")
    if project.is_trainable and len(wanted) > 1:
        raise ActionError("A trainable classifier has one category: match or not a match.")

    with transaction.atomic():
        # Lock the document: a double click (two requests) must not create two tags.
        Document.objects.select_for_update().filter(pk=document.pk).values_list("id").first()
        mine = {
            t.tag_class_id: t
            for t in Tag.objects.filter(document=document, tagger=actor).select_related("tag_class")
        }
        wanted_ids = {c.pk for c in wanted}
        removed = [t for cid, t in mine.items() if cid not in wanted_ids]
        added = [c for c in wanted if c.pk not in mine]
        flipped = [t for cid, t in mine.items() if cid in wanted_ids and t.positive != positive]
        if not (removed or added or flipped):
            return list(mine.values())
        if removed:
            Tag.objects.filter(pk__in=[t.pk for t in removed]).delete()
        for tag in flipped:
            tag.positive, tag.source = positive, source
            tag.save(update_fields=["positive", "source", "updated_at"])
        for cls in added:
            Tag.objects.create(
                project=project,
                document=document,
                tag_class=cls,
                tagger=actor,
                positive=positive,
                source=source,
            )
        payload: dict[str, Any] = {
            "classes": [c.name for c in wanted],
            "added": [c.name for c in added],
            "removed": [t.tag_class.name for t in removed],
            "source": source,
        }
        if project.is_trainable:
            payload["positive"] = positive
        log_action(actor, "tag.set", document, project=project, payload=payload)
    return list(Tag.objects.filter(document=document, tagger=actor).select_related("tag_class"))


@dataclass
class BulkTagResult:
    documents: int  # documents of the project among the given ids
    created: int  # new tags
    changed: int  # tags replaced (single-label) or flipped (trainable)

    @property
    def unchanged(self) -> int:
        return self.documents - self.created - self.changed


def do_bulk_tag(
    actor: AbstractBaseUser, project: Project, document_ids: Iterable[Any], cls: Class, positive: bool = True
) -> BulkTagResult:
    """Give ``cls`` to every document (the actor's tag): single-label replaces the actor's
    other class on those documents, multi-label adds, trainable sets match/not a match."""
    _check_actor(actor, project)
    _check_class(project, cls)
    _check_positive(project, positive)
    ids = project_document_ids(project, document_ids)
    if not ids:
        raise ActionError("No documents selected: tick some documents or choose the whole result.")
    created = changed = 0
    now = timezone.now()
    with transaction.atomic():
        for chunk in chunked(ids):
            mine = Tag.objects.filter(project=project, tagger=actor, document_id__in=chunk)
            replaced: set[int] = set()
            if project.kind == Project.Kind.SINGLE_LABEL:
                others = mine.exclude(tag_class=cls)
                replaced = set(others.values_list("document_id", flat=True))
                others.delete()
            existing = dict(mine.filter(tag_class=cls).values_list("document_id", "positive"))
            if project.is_trainable:
                changed += (
                    mine.filter(tag_class=cls)
                    .exclude(positive=positive)
                    .update(positive=positive, source="bulk", updated_at=now)
                )
            new = [
                Tag(
                    project=project,
                    document_id=d,
                    tag_class=cls,
                    tagger=actor,
                    positive=positive,
                    source="bulk",
                )
                for d in chunk
                if d not in existing
            ]
            Tag.objects.bulk_create(new, ignore_conflicts=True)
            created += len(new) - len(replaced & {t.document_id for t in new})
            changed += len(replaced)
        payload = ids_payload(ids, **{"class": cls.name, "created": created, "changed": changed})
        if project.is_trainable:
            payload["positive"] = positive
        log_action(actor, "tag.bulk_add", cls, project=project, payload=payload)
    return BulkTagResult(documents=len(ids), created=created, changed=changed)


def do_bulk_untag(actor: AbstractBaseUser, project: Project, document_ids: Iterable[Any], cls: Class) -> int:
    """Remove ``cls`` tags from the documents: an Admin removes everyone's, a Tagger only
    their own. Returns the number of tags removed."""
    role = _check_actor(actor, project)
    if cls.project_id != project.pk:
        raise ActionError("That class is not part of this project.")
    ids = project_document_ids(project, document_ids)
    if not ids:
        raise ActionError("No documents selected: tick some documents or choose the whole result.")
    everyone = role == Role.ADMIN
    removed = 0
    with transaction.atomic():
        for chunk in chunked(ids):
            tags = Tag.objects.filter(project=project, tag_class=cls, document_id__in=chunk)
            if not everyone:
                tags = tags.filter(tagger=actor)
            _total, by_model = tags.delete()
            removed += by_model.get(Tag._meta.label, 0)
        payload = ids_payload(
            ids, **{"class": cls.name, "removed": removed, "taggers": "everyone" if everyone else "own"}
        )
        log_action(actor, "tag.bulk_remove", cls, project=project, payload=payload)
    return removed
