"""Documents: move between sets, delete, draw a test split.

Bulk actions take document ids, keep only the project's own (a forged id of another project
is ignored, never touched), work in chunks of ``CHUNK`` ids (SQLite's variable limit, and
steady memory at 100,000 documents) and write ONE audit entry per action with counts.

History rule: a document's history shows audit entries whose object is the document, and
bulk entries whose payload lists its id in ``document_ids``; bulk entries list the ids only
when the action touched at most ``HISTORY_IDS_MAX`` documents (larger actions record counts
only, so one click on 100,000 documents does not write a megabyte of JSON).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from classifiers.actions.base import ActionError
from classifiers.models import Document, DocumentSet, Membership, Project, Role
from classifiers.production import forget_items, request_classification
from studio.audit import log_action

logger = logging.getLogger(__name__)

CHUNK = 900  # ids per IN (...) list: under SQLite's historical 999-variable limit
HISTORY_IDS_MAX = 1000


def chunked(items: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def clean_ids(document_ids: Iterable[Any]) -> list[int]:
    """Unique positive integer ids, in order; anything else is dropped."""
    out: dict[int, None] = {}
    for raw in document_ids:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if 0 < value < 2**63:
            out[value] = None
    return list(out)


def project_document_ids(project: Project, document_ids: Iterable[Any]) -> list[int]:
    """The given ids that are documents of ``project``, sorted."""
    ids = clean_ids(document_ids)
    found: list[int] = []
    for chunk in chunked(ids):
        found.extend(Document.objects.filter(project=project, id__in=chunk).values_list("id", flat=True))
    return sorted(found)


def ids_payload(ids: Sequence[int], **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"documents": len(ids), **extra}
    if len(ids) <= HISTORY_IDS_MAX:
        payload["document_ids"] = list(ids)
    return payload


def role_of(actor: Any, project: Project) -> str | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return Membership.objects.filter(project=project, user=actor).values_list("role", flat=True).first()


def _log_target(project: Project, ids: Sequence[int]) -> Document | Project:
    """One document: the entry is about it (its history finds it by object); else the project."""
    if len(ids) == 1:
        doc = Document.objects.filter(pk=ids[0]).only("id", "project_id", "filename", "external_id").first()
        if doc is not None:
            return doc
    return project


def valid_sets(project: Project) -> list[str]:
    return [s.value for s in DocumentSet.for_kind(project.kind)]


def do_assign_set(actor: AbstractBaseUser, project: Project, document_ids: Iterable[Any], set: str) -> int:
    """Move the documents to ``set``; returns how many changed set."""
    if set not in valid_sets(project):
        labels = ", ".join(s.label for s in DocumentSet.for_kind(project.kind))
        raise ActionError(f"“{set}” is not a set of this project; the sets are {labels}.")
    ids = project_document_ids(project, document_ids)
    if not ids:
        raise ActionError("No documents selected: tick some documents or choose the whole result.")
    with transaction.atomic():
        moved = 0
        for chunk in chunked(ids):
            moved += Document.objects.filter(project=project, id__in=chunk).exclude(set=set).update(set=set)
            if set != DocumentSet.PRODUCTION:
                forget_items(project, chunk)  # items that left production lose their classification
        if set == DocumentSet.PRODUCTION and moved:
            request_classification(project, "new_items")
        log_action(
            actor,
            "document.assign_set",
            _log_target(project, ids),
            project=project,
            payload=ids_payload(ids, set=set, moved=moved),
        )
    return moved


def _remove_orphan_files(project_id: int, files: list[tuple[str, str, str]]) -> None:
    """After the commit: delete originals and thumbnails no remaining document shares.

    Originals are stored once per project and sha256, so a file goes only when no other
    document of the project has the same sha256."""
    prefix = f"projects/{project_id}/"
    for sha256, original, thumbnail in files:
        if sha256 and Document.objects.filter(project_id=project_id, sha256=sha256).exists():
            continue
        for name in (original, thumbnail):
            if not name or not name.startswith(prefix) or ".." in name:
                continue
            if not sha256 and Document.objects.filter(project_id=project_id, original=name).exists():
                continue
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete %s", name)


def do_delete_documents(
    actor: AbstractBaseUser, project: Project, document_ids: Iterable[Any], confirm_count: int | None
) -> int:
    """Delete the documents (their tags go with them). ``confirm_count`` must equal the
    number of documents found, so a stale confirmation cannot delete a different number."""
    if role_of(actor, project) != Role.ADMIN:
        raise ActionError("Deleting documents needs the Admin role.")
    ids = project_document_ids(project, document_ids)
    if not ids:
        raise ActionError("No documents selected: tick some documents or choose the whole result.")
    if confirm_count != len(ids):
        raise ActionError(
            f"The confirmation was for {confirm_count if confirm_count is not None else 'no'} documents, "
            f"but the selection now has {len(ids)}: nothing was deleted. Confirm again."
        )
    files: set[tuple[str, str, str]] = set()
    try:
        with transaction.atomic():
            for chunk in chunked(ids):
                docs = Document.objects.filter(project=project, id__in=chunk)
                files.update(
                    (sha or "", original or "", thumb or "")
                    for sha, original, thumb in docs.values_list("sha256", "original", "thumbnail")
                    if original or thumb
                )
                # only("id"): the collector need not load 50,000 texts to delete them.
                docs.only("id").delete()
            log_action(actor, "document.delete", project, payload=ids_payload(ids))
            transaction.on_commit(partial(_remove_orphan_files, project.pk, sorted(files)))
    except (ProtectedError, RestrictedError) as exc:
        # A record that must outlive its documents (none today; a future model may):
        # nothing was deleted, and the person is told why.
        raise ActionError(f"These documents cannot be deleted: {exc.args[0]}") from None
    return len(ids)


@dataclass
class SplitResult:
    candidates: int
    moved: int
    per_label: dict[str, int] = field(default_factory=dict)


def do_draw_test_split(actor: AbstractBaseUser, project: Project, fraction: float, seed: int) -> SplitResult:
    """Move a seeded, stratified ``fraction`` of the tagged training documents to the test
    set. Labels follow ``classifiers.labels.final_labels``: documents whose taggers
    disagree (unresolved conflicts) are not drawn. Same tags + same seed = same split."""
    if not (0 < fraction < 1):
        raise ActionError("The test fraction is a number between 0 and 1 (e.g. 0.2 for 20%).")
    if role_of(actor, project) != Role.ADMIN:
        raise ActionError("Drawing a test split needs the Admin role.")
    try:
        from classifiers.ml import stratified_split
    except ImportError:
        raise ActionError("The ML engine is not available: the split cannot be drawn.") from None
    from classifiers.labels import final_labels

    labels_by_doc = final_labels(project)
    training = set(
        Document.objects.filter(project=project, set=DocumentSet.TRAINING).values_list("id", flat=True)
    )
    ids = sorted(d for d in labels_by_doc if d in training and labels_by_doc[d])
    if len(ids) < 2:
        raise ActionError("A test split needs at least two tagged training documents.")
    if project.kind == Project.Kind.MULTI_LABEL:
        labels: list[Any] = [list(labels_by_doc[d]) for d in ids]
    else:
        labels = [labels_by_doc[d][0] for d in ids]
    try:
        _train_idx, test_idx = stratified_split(labels, project.kind, test_fraction=fraction, seed=seed)
    except ValueError as exc:
        raise ActionError(f"The split could not be drawn: {exc}") from None
    test_ids = sorted(ids[int(i)] for i in test_idx)
    per_label: Counter[str] = Counter()
    for d in test_ids:
        per_label.update(labels_by_doc[d])
    with transaction.atomic():
        moved = 0
        for chunk in chunked(test_ids):
            moved += Document.objects.filter(project=project, id__in=chunk, set=DocumentSet.TRAINING).update(
                set=DocumentSet.TEST
            )
        log_action(
            actor,
            "document.test_split",
            project,
            payload=ids_payload(
                test_ids,
                fraction=fraction,
                seed=seed,
                candidates=len(ids),
                moved=moved,
                per_label=dict(sorted(per_label.items())),
            ),
        )
    return SplitResult(candidates=len(ids), moved=moved, per_label=dict(sorted(per_label.items())))
