"""Likely tagging mistakes: keep a flagged document's tags (confirm) or take the model's
suggestion (re-tag). Re-tagging goes through ``do_set_document_tags`` (the one way tags are
written), with source "review"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from classifiers.actions.base import ActionError
from classifiers.actions.documents import role_of
from classifiers.actions.tags import do_set_document_tags
from classifiers.evaluation import MATCH, NOT_MATCH, display_name, labels_key
from classifiers.labels import final_labels
from classifiers.models import Class, Document, ModelVersion, Role, TagConfirmation
from studio.audit import log_action


def _check(actor: AbstractBaseUser, version: ModelVersion, document: Document) -> None:
    if role_of(actor, document.project) not in (Role.ADMIN, Role.TAGGER):
        raise ActionError("Reviewing tags needs the Tagger or Admin role.")
    if document.project_id != version.project_id:
        raise ActionError("That document is not part of this project.")


def do_confirm_tags(actor: AbstractBaseUser, version: ModelVersion, document: Document) -> TagConfirmation:
    """The actor checked a flagged document and keeps its tags: it is not listed as a likely
    mistake again while its final labels stay the same."""
    _check(actor, version, document)
    project = document.project
    with transaction.atomic():
        # Lock the document: the labels read here are the ones confirmed.
        Document.objects.select_for_update().filter(pk=document.pk).values_list("id").first()
        labels = final_labels(project, [document.pk]).get(document.pk)
        if labels is None:
            raise ActionError(
                "This document has no agreed tags (untagged, or its taggers disagree): nothing to confirm."
            )
        key = labels_key(labels)
        confirmation, _created = TagConfirmation.objects.update_or_create(
            document=document, defaults={"project": project, "user": actor, "labels_key": key}
        )
        log_action(
            actor,
            "mistake.confirm",
            document,
            project=project,
            payload={"labels": labels, "version": version.number},
        )
    return confirmation


@dataclass
class RetagResult:
    labels: list[str] | None  # the document's final labels afterwards (None: now in conflict)
    changed: bool


def do_retag_mistake(
    actor: AbstractBaseUser, version: ModelVersion, document: Document, suggested: Sequence[str]
) -> RetagResult:
    """Give the actor's tag as the model's suggestion. Other taggers' tags are untouched
    (tagging never changes them): when they differ, the document becomes a conflict."""
    _check(actor, version, document)
    project = document.project
    names = list(dict.fromkeys(suggested))
    if not names:
        raise ActionError("The model suggests no class here: open the document to decide.")
    positive = True
    if project.is_trainable:
        if len(names) != 1 or names[0] not in (MATCH, NOT_MATCH):
            raise ActionError("A trainable classifier's suggestion is match or not a match.")
        positive = names[0] == MATCH
        category = project.classes.filter(archived=False).order_by("position", "id").first()
        if category is None:
            raise ActionError("This classifier has no category to tag.")
        classes: list[Class] = [category]
    else:
        found = {c.name: c for c in project.classes.filter(name__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise ActionError(
                f"“{display_name(missing[0], project.kind)}” is no longer a class of this project."
            )
        classes = [found[n] for n in names]
    before = final_labels(project, [document.pk]).get(document.pk)
    # do_set_document_tags checks the role, archived classes and the kind's rules, and
    # writes the tag.set audit entry (source "review"); nothing is written when unchanged.
    do_set_document_tags(actor, document, classes, positive=positive, source="review")
    after = final_labels(project, [document.pk]).get(document.pk)
    return RetagResult(labels=after, changed=after != before)
