"""Tagging studio: tag and skip (with a TaggingAction for undo and history), undo,
assignments, the overlap and suggestion settings, and conflict resolution.

Tags are written by ``classifiers.actions.tags.do_set_document_tags`` (one semantics and one
``tag.set`` audit entry for every way of tagging); these functions add the studio's own
record around it, in the same transaction. Resolutions are the Admin's verdict: Tag rows
with ``is_resolution=True`` and no tagger (see ``do_resolve_conflict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from classifiers.actions.base import ActionError
from classifiers.actions.documents import chunked, ids_payload, role_of
from classifiers.actions.tags import do_set_document_tags
from classifiers.models import (
    AssignedDocument,
    Assignment,
    Class,
    Document,
    Project,
    Role,
    Tag,
    TaggingAction,
)
from classifiers.search import apply_search
from classifiers.tagging import (
    MAX_OVERLAP,
    QUEUE_SETS,
    QueueOptions,
    describe_labels,
    label_entries,
    my_tags,
    release,
    seed_point,
)
from studio.audit import log_action

MAX_REASON = 300
MAX_ASSIGN = 20_000  # documents per assignment action


def _role(actor: Any, project: Project) -> str | None:
    """The actor's role, from the membership the view already loaded when it can."""
    membership = getattr(project, "membership", None)
    if membership is not None and membership.user_id == getattr(actor, "pk", None):
        return membership.role
    return role_of(actor, project)


def _require(actor: Any, project: Project, minimum: str) -> None:
    role = _role(actor, project)
    if role is None or Role(role).rank < Role(minimum).rank:
        raise ActionError(
            "This needs the Admin role."
            if minimum == Role.ADMIN
            else "Tagging needs the Tagger or Admin role."
        )


def _check_document(project: Project, document: Document) -> None:
    if document.project_id != project.pk:
        raise ActionError("That document is not part of this project.")


# --- Tag, skip, undo --------------------------------------------------------------------------
def do_tag_document(
    actor: AbstractBaseUser,
    project: Project,
    document: Document,
    classes: Sequence[Class],
    *,
    positive: bool = True,
) -> TaggingAction:
    """Make the actor's tags on ``document`` exactly ``classes`` (last write wins) and record
    the step. Multi-label needs at least one class (an empty answer cannot be stored as a
    tag: skip instead)."""
    _require(actor, project, Role.TAGGER)
    _check_document(project, document)
    if not classes:
        if project.kind == Project.Kind.MULTI_LABEL:
            raise ActionError("Pick at least one class (or press s to skip).")
        raise ActionError("Pick a class.")
    document.project = project  # tags.py reads document.project: no extra query
    with transaction.atomic():
        if connection.features.has_select_for_update:
            # Two tabs of one tagger: the second waits, then reads the first one's tags as "before".
            Document.objects.select_for_update().filter(pk=document.pk).values_list("id").first()
        before = label_entries(my_tags(actor, document))
        after = label_entries(
            do_set_document_tags(actor, document, classes, positive=positive, source="tagging")
        )
        action = TaggingAction.objects.create(
            project=project,
            document=document,
            tagger=actor,
            kind=TaggingAction.Kind.TAG,
            before=before,
            after=after,
        )
        release(actor, document)
    return action


def do_skip_document(
    actor: AbstractBaseUser, project: Project, document: Document, reason: str = ""
) -> TaggingAction:
    """Pass on a document (it stays in other taggers' queues); undo brings it back."""
    _require(actor, project, Role.TAGGER)
    _check_document(project, document)
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise ActionError(f"A skip reason is at most {MAX_REASON} characters.")
    with transaction.atomic():
        entries = label_entries(my_tags(actor, document))
        action = TaggingAction.objects.create(
            project=project, document=document, tagger=actor, kind=TaggingAction.Kind.SKIP,
            before=entries, after=entries, reason=reason,
        )  # fmt: skip
        release(actor, document)
        log_action(actor, "tagging.skip", document, project=project, payload={"reason": reason})
    return action


def do_undo_last(actor: AbstractBaseUser, project: Project) -> TaggingAction:
    """Undo the actor's latest step that is not undone yet: a tag gets the actor's labels
    from before it back (through the tags action), a skip is forgotten. Returns the step."""
    _require(actor, project, Role.TAGGER)
    with transaction.atomic():
        action = (
            TaggingAction.objects.select_for_update()
            .filter(project=project, tagger=actor, undone=False)
            .select_related("document")
            .order_by("-id")
            .first()
        )
        if action is None:
            raise ActionError("Nothing to undo.")
        document = action.document
        document.project = project
        if action.kind == TaggingAction.Kind.TAG:
            ids = [e["id"] for e in action.before]
            classes = list(Class.objects.filter(project=project, pk__in=ids))
            if len(classes) != len(set(ids)):
                raise ActionError("A class of the earlier tags was deleted: re-tag this document instead.")
            positive = action.before[0].get("positive", True) if action.before else True
            do_set_document_tags(actor, document, classes, positive=positive, source="tagging")
        action.undone = True
        action.save(update_fields=["undone"])
        log_action(
            actor, "tagging.undo", document, project=project,
            payload={"kind": action.kind, "restored": describe_labels(project, action.before)},
        )  # fmt: skip
    return action


# --- Assignments ------------------------------------------------------------------------------
def _assignable(project: Project, opts: QueueOptions) -> Any:
    """Documents of the selection that still need taggers and are in nobody's active
    assignment, in the queue's stable order."""
    qs = Document.objects.filter(project=project, has_text=True)
    qs = qs.filter(set=opts.set) if opts.set else qs.filter(set__in=QUEUE_SETS)
    if opts.batch:
        qs = qs.filter(batch_id=opts.batch)
    if opts.q:
        qs = apply_search(qs, project, opts.q)
    taggers = (
        Tag.objects.filter(document_id=OuterRef("pk"), is_resolution=False)
        .order_by()
        .values("document_id")
        .annotate(n=Count("tagger_id", distinct=True))
        .values("n")
    )
    return (
        qs.exclude(Exists(Tag.objects.filter(document_id=OuterRef("pk"), is_resolution=True)))
        .exclude(Exists(AssignedDocument.objects.filter(document_id=OuterRef("pk"), assignment__active=True)))
        .alias(_taggers=Coalesce(Subquery(taggers), Value(0)))
        .filter(_taggers__lt=project.overlap)
        .order_by("text_hash", "id")
    )


def do_create_assignment(
    actor: AbstractBaseUser,
    project: Project,
    taggers: Sequence[AbstractBaseUser],
    opts: QueueOptions,
    *,
    count: int | None = None,
) -> list[Assignment]:
    """Give the selection's documents that still need tagging (at most ``count``) to the
    taggers: each document to min(overlap, number of taggers) of them, round robin, never
    to a tagger who already tagged it. One Assignment per tagger who got documents."""
    _require(actor, project, Role.ADMIN)
    people = list({u.pk: u for u in taggers}.values())
    if not people:
        raise ActionError("Choose at least one tagger.")
    roles = dict(project.memberships.filter(user__in=people).values_list("user_id", "role"))
    outsiders = [u.get_username() for u in people if roles.get(u.pk) not in (Role.TAGGER, Role.ADMIN)]
    if outsiders:
        raise ActionError(
            f"Only Taggers and Admins of the project can be assigned work: {', '.join(outsiders)}."
        )
    if count is not None and not (1 <= count <= MAX_ASSIGN):
        raise ActionError(f"Assign between 1 and {MAX_ASSIGN:,} documents at a time.")
    limit = count or MAX_ASSIGN
    # The queue's ring order from the project's seed point, so assigned work is the work the
    # pool would have served next.
    candidates = _assignable(project, opts).values_list("id", flat=True)
    seed = seed_point(project)
    doc_ids = list(candidates.filter(text_hash__gte=seed)[:limit])
    if len(doc_ids) < limit:
        doc_ids += list(candidates.filter(text_hash__lt=seed)[: limit - len(doc_ids)])
    if not doc_ids:
        raise ActionError("No documents in that selection need tagging (or they are all assigned already).")
    done: dict[int, set[int]] = {}
    for chunk in chunked(doc_ids):
        for doc_id, tagger_id in Tag.objects.filter(document_id__in=chunk, is_resolution=False).values_list(
            "document_id", "tagger_id"
        ):
            done.setdefault(doc_id, set()).add(tagger_id)
    per_doc = min(project.overlap, len(people))
    plan: dict[int, list[int]] = {u.pk: [] for u in people}
    for turn, doc_id in enumerate(doc_ids):
        already = done.get(doc_id, set())
        wanted = max(0, per_doc - len(already))
        for step in range(len(people)):
            if not wanted:
                break
            user = people[(turn + step) % len(people)]
            if user.pk not in already:
                plan[user.pk].append(doc_id)
                wanted -= 1
    what = ", ".join(opts.filters) or "all sets"
    created: list[Assignment] = []
    with transaction.atomic():
        for user in people:
            ids = plan[user.pk]
            if not ids:
                continue
            assignment = Assignment.objects.create(
                project=project, tagger=user, created_by=actor,
                description=f"{len(ids):,} document{'s' if len(ids) != 1 else ''} ({what})"[:300],
            )  # fmt: skip
            # One row per tagger and document ever (a constraint): a document of an ended
            # assignment moves to the new one.
            for chunk in chunked(ids):
                AssignedDocument.objects.filter(tagger=user, document_id__in=chunk).update(
                    assignment=assignment
                )
            AssignedDocument.objects.bulk_create(
                [
                    AssignedDocument(assignment=assignment, document_id=d, project=project, tagger=user)
                    for d in ids
                ],
                batch_size=900,
                ignore_conflicts=True,
            )
            created.append(assignment)
        if not created:
            raise ActionError("Those taggers already tagged every document of that selection.")
        log_action(
            actor, "tagging.assign", project, project=project,
            payload=ids_payload(
                doc_ids, filters=opts.params(), count=count,
                taggers={u.get_username(): len(plan[u.pk]) for u in people},
            ),
        )  # fmt: skip
    return created


def do_end_assignment(actor: AbstractBaseUser, assignment: Assignment) -> bool:
    """Close an assignment: its open documents go back to the common pool."""
    project = assignment.project
    _require(actor, project, Role.ADMIN)
    if not assignment.active:
        return False
    with transaction.atomic():
        assignment.active = False
        assignment.save(update_fields=["active"])
        log_action(
            actor, "tagging.assignment_end", assignment, project=project,
            payload={"tagger": assignment.tagger.get_username(), "description": assignment.description},
        )  # fmt: skip
    return True


# --- Settings ---------------------------------------------------------------------------------
def do_update_tagging_settings(
    actor: AbstractBaseUser, project: Project, *, overlap: int, show_suggestions: bool
) -> dict[str, Any]:
    """Set how many different taggers tag each document (1 to MAX_OVERLAP) and whether the
    model's suggestion is shown while tagging. Returns the changed fields (after)."""
    _require(actor, project, Role.ADMIN)
    if not isinstance(overlap, int) or not (1 <= overlap <= MAX_OVERLAP):
        raise ActionError(f"Overlap is a whole number from 1 to {MAX_OVERLAP}.")
    wanted = {"overlap": overlap, "show_suggestions": bool(show_suggestions)}
    changed = {k: v for k, v in wanted.items() if getattr(project, k) != v}
    if not changed:
        return {}
    with transaction.atomic():
        before = {k: getattr(project, k) for k in changed}
        Project.objects.filter(pk=project.pk).update(**changed)
        for key, value in changed.items():
            setattr(project, key, value)
        log_action(actor, "tagging.settings", project, payload={"before": before, "after": changed})
    return changed


# --- Conflicts --------------------------------------------------------------------------------
def do_resolve_conflict(
    actor: AbstractBaseUser,
    project: Project,
    document: Document,
    classes: Sequence[Class],
    *,
    positive: bool = True,
) -> list[Tag]:
    """The Admin's final tag for a document (replacing an earlier resolution): Tag rows with
    ``is_resolution=True``. They carry no tagger, so they never collide with the Admin's own
    tags as a tagger (one tag per document, tagger and class) and tagging never replaces
    them; who resolved is in the ``tag.resolve`` audit entry."""
    _require(actor, project, Role.ADMIN)
    _check_document(project, document)
    wanted = list({c.pk: c for c in classes}.values())
    if not wanted:
        raise ActionError(
            "Pick the final class."
            if project.kind != Project.Kind.MULTI_LABEL
            else "Pick at least one class."
        )
    for cls in wanted:
        if cls.project_id != project.pk:
            raise ActionError("That class is not part of this project.")
        if cls.archived:
            raise ActionError(f"“{cls.name}” is archived: it can no longer be given.")
    if project.kind != Project.Kind.MULTI_LABEL and len(wanted) > 1:
        raise ActionError("Pick one final class.")
    if not positive and not project.is_trainable:
        raise ActionError("Only trainable classifiers have “not a match” tags.")
    with transaction.atomic():
        Document.objects.select_for_update().filter(pk=document.pk).values_list("id").first()
        previous = list(Tag.objects.filter(document=document, is_resolution=True).select_related("tag_class"))
        Tag.objects.filter(pk__in=[t.pk for t in previous]).delete()
        tags = [
            Tag.objects.create(
                project=project,
                document=document,
                tag_class=cls,
                tagger=None,
                positive=positive,
                is_resolution=True,
                source="tagging",
            )
            for cls in wanted
        ]
        answers: dict[str, list[str]] = {}
        for t in Tag.objects.filter(document=document, is_resolution=False).select_related(
            "tag_class", "tagger"
        ):
            name = t.tagger.get_username() if t.tagger else "deleted user"
            answers.setdefault(name, []).append(
                ("match" if t.positive else "not a match") if project.is_trainable else t.tag_class.name
            )
        payload: dict[str, Any] = {
            "classes": [c.name for c in wanted],
            "before": [t.tag_class.name for t in previous],
            "answers": answers,
        }
        if project.is_trainable:
            payload["positive"] = positive
        log_action(actor, "tag.resolve", document, project=project, payload=payload)
    return tags
