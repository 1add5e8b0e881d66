"""What a document's classes are, once several taggers may have tagged it.

The rule (shown to users where training data is described): an Admin's resolution wins;
otherwise the taggers' tags count when they all agree; a document whose taggers disagree is
a conflict and is left out of training and exports until it is resolved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from classifiers.models import Project, Tag

RULE = (
    "Training uses a document's resolved tags where an Admin resolved a conflict, otherwise "
    "its tags when every tagger agrees; documents whose taggers disagree are left out."
)
MATCH, NOT_MATCH = "match", "not_match"


def final_labels(project: Project, document_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """document id -> class names (single-label: one; multi-label: zero or more names;
    trainable: ["match"] or ["not_match"]). Untagged and conflicting documents are absent."""
    tags = Tag.objects.filter(project=project)
    if document_ids is not None:
        tags = tags.filter(document_id__in=list(document_ids))
    rows = tags.values_list("document_id", "tagger_id", "tag_class__name", "positive", "is_resolution")
    by_doc: dict[int, dict] = defaultdict(lambda: {"resolution": set(), "taggers": defaultdict(set)})
    trainable = project.kind == Project.Kind.TRAINABLE
    for doc_id, tagger_id, class_name, positive, is_resolution in rows.iterator(chunk_size=5000):
        value = (MATCH if positive else NOT_MATCH) if trainable else class_name
        if not trainable and not positive:
            continue
        entry = by_doc[doc_id]
        if is_resolution:
            entry["resolution"].add(value)
        else:
            entry["taggers"][tagger_id].add(value)
    result: dict[int, list[str]] = {}
    for doc_id, entry in by_doc.items():
        if entry["resolution"]:
            result[doc_id] = sorted(entry["resolution"])
            continue
        answers = {frozenset(v) for v in entry["taggers"].values()}
        if len(answers) == 1:
            result[doc_id] = sorted(next(iter(answers)))
    return result
