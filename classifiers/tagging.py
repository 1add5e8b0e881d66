"""The tagging queue: which document a tagger gets next, leases, history, progress and
agreement. Functions over the ORM; the changes of project data (tags, skips, undo,
assignments, settings, resolutions) are the ``do_*`` functions of
``classifiers/actions/tagging.py``. Leases are written here: a lease is a short
reservation, not project data, and is not audited.

Queue rules
-----------
- The queue holds the project's documents in the training and test sets that have text.
- A document needs tagging by me when I have not tagged it, have not skipped it (an undone
  skip does not count), nobody resolved it, and, in the common pool, fewer than
  ``project.overlap`` different taggers have tagged it (counting the live leases of other
  taggers: with overlap k at most k - taggers so far can hold it at once), and no other
  tagger has it in an active assignment they have not done yet.
- "My queue" (scope ``mine``) is the documents of my active assignments that I have not
  tagged or skipped, in document order (the Admin's assignment took them from the ring);
  the assignment decides, so overlap and leases do not apply.
- Order ``shuffle``: a ring over (text_hash, id). ``text_hash`` is the SHA-256 of the text,
  so its order is a uniform, stable shuffle that the (project, text_hash) index already
  serves; the ring starts at a per-project seed point. Everyone walks the same ring
  (double tagging pairs taggers on the same documents early); leases keep two taggers
  apart when overlap is 1. Each step starts at the document just done (a keyset cursor),
  so a request reads a few index entries however many documents are tagged already; at
  the end of the ring it wraps around to what was passed over (leased or new documents).
- Order ``uncertain`` (active learning): the latest model version's predictions, most
  uncertain first (Prediction's (model_version, -uncertainty) index), then the shuffle
  for documents without a prediction.
- A tagger's own live lease is served first (a reload shows the same document); taking a
  document drops the tagger's other tagging leases. Leases last ``LEASE_SECONDS``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from classifiers.agreement import AgreementReport, agreement_report
from classifiers.labels import MATCH, NOT_MATCH
from classifiers.models import (
    AssignedDocument,
    Assignment,
    Class,
    Document,
    DocumentSet,
    Lease,
    Membership,
    ModelVersion,
    Prediction,
    Project,
    Role,
    Tag,
    TaggingAction,
)
from classifiers.params import parse_int
from classifiers.search import MAX_QUERY_CHARS, apply_search

QUEUE_SETS = (DocumentSet.TRAINING.value, DocumentSet.TEST.value)
LEASE_SECONDS = 600
PURPOSE = "tagging"
MAX_OVERLAP = 5
TEXT_LIMIT = 60_000  # characters shown in the studio; the document page has the rest
SESSION_GAP = timedelta(minutes=15)  # a longer pause ends a tagging session (for the pace)

SCOPE_POOL, SCOPE_MINE = "pool", "mine"
ORDER_SHUFFLE, ORDER_UNCERTAIN = "shuffle", "uncertain"
SCOPES = {SCOPE_POOL: "Common pool", SCOPE_MINE: "My assignments"}
ORDERS = {ORDER_SHUFFLE: "Stable shuffle", ORDER_UNCERTAIN: "Most uncertain first"}


# --- Options ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueOptions:
    """Which queue: scope, order and document filters (a subset of the browser's)."""

    scope: str = SCOPE_POOL
    order: str = ORDER_SHUFFLE
    set: str = ""
    batch: int | None = None
    q: str = ""

    def params(self) -> dict[str, str]:
        out = {"scope": self.scope, "order": self.order}
        if self.set:
            out["set"] = self.set
        if self.batch:
            out["batch"] = str(self.batch)
        if self.q:
            out["q"] = self.q
        return out

    def querystring(self) -> str:
        return urlencode(self.params())

    @property
    def filters(self) -> list[str]:
        out = []
        if self.set:
            out.append(f"{DocumentSet(self.set).label} set")
        if self.batch:
            out.append(f"upload #{self.batch}")
        if self.q:
            out.append(f"“{self.q}”")
        return out


def parse_options(
    params: Mapping[str, Any], *, default_scope: str = SCOPE_POOL, default_order: str = ORDER_SHUFFLE
) -> QueueOptions:
    """GET/POST parameters -> QueueOptions; anything invalid falls back to the default."""
    scope = params.get("scope") or default_scope
    order = params.get("order") or default_order
    raw_set = params.get("set") or ""
    raw_batch = str(params.get("batch") or "")
    q = " ".join(str(params.get("q") or "").replace("\x00", " ").split())[:MAX_QUERY_CHARS]
    return QueueOptions(
        scope=scope if scope in SCOPES else default_scope,
        order=order if order in ORDERS else default_order,
        set=raw_set if raw_set in QUEUE_SETS else "",
        batch=parse_int(raw_batch, minimum=1, maximum=2**62 - 1),
        q=q,
    )


def seed_point(project: Project) -> str:
    """Where the project's ring starts: a hex string compared with text_hash."""
    return hashlib.sha256(f"classifier-studio/tagging/{project.pk}".encode()).hexdigest()


# --- Who needs what -----------------------------------------------------------------------------
def _done_by(user_ref: Any, doc_ref: Any) -> Q:
    """The tagger (``user_ref``) tagged or skipped the document (``doc_ref``)."""
    # "tagger_id + 0": SQLite (no ANALYZE) would otherwise probe TaggingAction through its
    # tagger index, reading all of a busy tagger's steps for every document checked.
    skips = (
        TaggingAction.objects.filter(document_id=doc_ref, kind=TaggingAction.Kind.SKIP, undone=False)
        .alias(_tagger=F("tagger_id") + Value(0))
        .filter(_tagger=user_ref)
    )
    return Q(Exists(Tag.objects.filter(document_id=doc_ref, tagger_id=user_ref, is_resolution=False))) | Q(
        Exists(skips)
    )


def needing(
    qs: QuerySet,
    project: Project,
    user: Any,
    opts: QueueOptions,
    now: datetime,
    *,
    ref: str = "pk",
    prefix: str = "",
    assignments: bool = True,
) -> QuerySet:
    """``qs`` (Documents, or rows pointing at documents through ``ref``/``prefix``) narrowed
    to the documents that need tagging by ``user`` in the queue ``opts``. ``assignments``:
    False when the project has no active assignment (leaves a subquery out)."""
    doc = OuterRef(ref)
    qs = qs.filter(**{f"{prefix}project": project, f"{prefix}has_text": True})
    qs = qs.filter(**({f"{prefix}set": opts.set} if opts.set else {f"{prefix}set__in": QUEUE_SETS}))
    if opts.batch:
        qs = qs.filter(**{f"{prefix}batch_id": opts.batch})
    if opts.q:
        matching = apply_search(Document.objects.filter(project=project), project, opts.q).values("id")
        qs = qs.filter(**{f"{ref}__in" if ref != "pk" else "id__in": matching})
    # My skips: a short list read once through the (project, tagger) index, not probed per
    # document (SQLite would probe through the tagger index: every step of mine, each time).
    skipped = TaggingAction.objects.filter(
        project=project, tagger=user, kind=TaggingAction.Kind.SKIP, undone=False
    ).values("document_id")
    not_skipped = ~Q(**{f"{ref}__in" if ref != "pk" else "id__in": skipped})
    if opts.scope == SCOPE_MINE:
        if qs.model is not AssignedDocument:  # (the walk itself is rooted at my assignments)
            mine = AssignedDocument.objects.filter(project=project, tagger=user, assignment__active=True)
            qs = qs.filter(**{f"{ref}__in" if ref != "pk" else "id__in": mine.values("document_id")})
        return qs.exclude(
            Exists(Tag.objects.filter(document_id=doc, tagger=user, is_resolution=False))
        ).filter(not_skipped)
    others_leases = Lease.objects.filter(document_id=doc, purpose=PURPOSE, expires_at__gt=now).exclude(
        tagger=user
    )
    if project.overlap <= 1:
        # Any tag (by anyone, or a resolution) settles the document: one probe covers all.
        qs = qs.exclude(Exists(Tag.objects.filter(document_id=doc))).exclude(Exists(others_leases))
    else:
        taggers = (
            Tag.objects.filter(document_id=doc, is_resolution=False)
            .order_by()
            .values("document_id")
            .annotate(n=Count("tagger_id", distinct=True))
            .values("n")
        )
        leases = others_leases.order_by().values("document_id").annotate(n=Count("id")).values("n")
        qs = (
            qs.exclude(Exists(Tag.objects.filter(document_id=doc, tagger=user, is_resolution=False)))
            .exclude(Exists(Tag.objects.filter(document_id=doc, is_resolution=True)))
            .alias(_load=Coalesce(Subquery(taggers), Value(0)) + Coalesce(Subquery(leases), Value(0)))
            .filter(_load__lt=project.overlap)
        )
    if not assignments:
        return qs.filter(not_skipped)
    # Documents another tagger still has to do in an active assignment are theirs.
    reserved = (
        AssignedDocument.objects.filter(document_id=doc, assignment__active=True)
        .exclude(tagger=user)
        .exclude(_done_by(OuterRef("tagger_id"), OuterRef("document_id")))
    )
    return qs.filter(not_skipped).exclude(Exists(reserved))


def latest_version_id(project: Project) -> int | None:
    return (
        ModelVersion.objects.filter(project=project).order_by("-number").values_list("id", flat=True).first()
    )


def uncertainty_available(project: Project) -> bool:
    """The latest model version scored documents nobody has tagged yet."""
    version = latest_version_id(project)
    if version is None:
        return False
    return (
        Prediction.objects.filter(model_version_id=version)
        .exclude(Exists(Tag.objects.filter(document_id=OuterRef("document_id"))))
        .exists()
    )


def _walk_shuffle(qs: QuerySet[Document], start: tuple[str, int]) -> Document | None:
    start_hash, start_id = start
    ahead = qs.filter(text_hash__gte=start_hash).filter(Q(text_hash__gt=start_hash) | Q(id__gt=start_id))
    doc = ahead.order_by("text_hash", "id").first()
    if doc is None:  # the end of the ring: wrap around to what was passed over
        doc = qs.filter(text_hash__lte=start_hash).order_by("text_hash", "id").first()
    return doc


def _walk_uncertain(
    project: Project,
    user: Any,
    opts: QueueOptions,
    now: datetime,
    version: int,
    after: Document | None,
    assignments: bool = True,
) -> int | None:
    preds = needing(
        Prediction.objects.filter(model_version_id=version), project, user, opts, now,
        ref="document_id", prefix="document__", assignments=assignments,
    )  # fmt: skip
    order = ("-uncertainty", "document_id")
    cursor = None
    if after is not None:
        cursor = (
            Prediction.objects.filter(model_version_id=version, document_id=after.pk)
            .values_list("uncertainty", flat=True)
            .first()
        )
    if cursor is None:
        return preds.order_by(*order).values_list("document_id", flat=True).first()
    ahead = preds.filter(uncertainty__lte=cursor).filter(
        Q(uncertainty__lt=cursor) | Q(document_id__gt=after.pk)
    )
    found = ahead.order_by(*order).values_list("document_id", flat=True).first()
    if found is None:
        found = (
            preds.filter(uncertainty__gte=cursor)
            .order_by(*order)
            .values_list("document_id", flat=True)
            .first()
        )
    return found


def _walk_mine(
    project: Project, user: Any, opts: QueueOptions, now: datetime, after: Document | None
) -> int | None:
    """My assignments in document order from ``after``: the (project, tagger, document)
    index of AssignedDocument serves it, however many documents were assigned."""
    rows = needing(
        AssignedDocument.objects.filter(project=project, tagger=user, assignment__active=True),
        project, user, opts, now, ref="document_id", prefix="document__",
    ).order_by("document_id")  # fmt: skip
    ids = rows.values_list("document_id", flat=True)
    found = ids.filter(document_id__gt=after.pk).first() if after is not None else None
    return found if found is not None else ids.first()


def last_acted_document(project: Project, user: Any) -> Document | None:
    """The document of the tagger's latest step: where their walk through the ring resumes."""
    latest = (
        TaggingAction.objects.filter(project=project, tagger=user).order_by("-id").values("document_id")[:1]
    )
    return Document.objects.filter(pk=Subquery(latest)).only("id", "text_hash").first()


def take_next(
    project: Project,
    user: Any,
    opts: QueueOptions,
    *,
    after: Document | None = None,
    reuse_lease: bool = True,
) -> Document | None:
    """The next document for ``user`` in the queue ``opts``, leased to them (or None when the
    queue is empty). ``after``: the document just done (the walk continues from there)."""
    now = timezone.now()
    with transaction.atomic():
        if connection.features.has_select_for_update and opts.scope == SCOPE_POOL:
            # One taker at a time per project: the second sees the first's lease. FOR NO KEY
            # UPDATE does not block tag inserts (their foreign key takes KEY SHARE).
            Project.objects.select_for_update(no_key=True).filter(pk=project.pk).values_list("id").first()
        pool = opts.scope == SCOPE_POOL
        assignments = pool and Assignment.objects.filter(project=project, active=True).exists()
        doc = None
        if reuse_lease:
            # Driven from the lease (a tagger holds at most one), not by probing documents.
            mine = Lease.objects.filter(project=project, tagger=user, purpose=PURPOSE, expires_at__gt=now)
            base = needing(Document.objects.all(), project, user, opts, now, assignments=assignments)
            doc = base.filter(id__in=mine.values("document_id")).order_by("id").first()
        found = None
        if doc is None and opts.order == ORDER_UNCERTAIN:
            version = latest_version_id(project)
            if version is not None:
                found = _walk_uncertain(project, user, opts, now, version, after, assignments)
        if doc is None and found is None:
            if pool:
                start = (after.text_hash, after.pk) if after is not None else (seed_point(project), 0)
                base = needing(Document.objects.all(), project, user, opts, now, assignments=assignments)
                doc = _walk_shuffle(base, start)
            else:
                found = _walk_mine(project, user, opts, now, after)
        if doc is None and found is not None:
            doc = Document.objects.get(pk=found)
        if doc is not None:
            lease(project, user, doc, now=now)
    return doc


def lease(project: Project, user: Any, document: Document, *, now: datetime | None = None) -> None:
    """Hold ``document`` for ``user`` for LEASE_SECONDS; drop their other tagging leases."""
    now = now or timezone.now()
    Lease.objects.filter(project=project, tagger=user, purpose=PURPOSE).exclude(document=document).delete()
    Lease.objects.bulk_create(
        [
            Lease(
                project=project,
                document=document,
                tagger=user,
                purpose=PURPOSE,
                expires_at=now + timedelta(seconds=LEASE_SECONDS),
            )
        ],
        update_conflicts=True,
        unique_fields=["document", "tagger", "purpose"],
        update_fields=["expires_at"],
    )


def release(user: Any, document: Document) -> None:
    Lease.objects.filter(document=document, tagger=user, purpose=PURPOSE).delete()


# --- A tagger's labels ----------------------------------------------------------------------------
def label_entries(tags: Iterable[Tag]) -> list[dict[str, Any]]:
    """Tags as stored in TaggingAction.before / after (ids restore, names show)."""
    return sorted(
        ({"id": t.tag_class_id, "name": t.tag_class.name, "positive": t.positive} for t in tags),
        key=lambda e: e["id"],
    )


def my_tags(user: Any, document: Document) -> list[Tag]:
    return list(
        Tag.objects.filter(document=document, tagger=user, is_resolution=False).select_related("tag_class")
    )


def describe_labels(project: Project, entries: Iterable[Mapping[str, Any]]) -> str:
    entries = list(entries)
    if not entries:
        return "no tags"
    if project.is_trainable:
        return "match" if entries[0].get("positive", True) else "not a match"
    return ", ".join(e["name"] for e in entries)


# --- History --------------------------------------------------------------------------------------
def history_step(project: Project, user: Any, *, pos: int | None, step: str) -> TaggingAction | None:
    """The step before (``back``) or after (``forward``) the action ``pos`` in the tagger's
    history of tags and skips (undone ones left out). Back from the queue (no ``pos``) is
    the latest; forward past the latest is None (the queue again)."""
    qs = TaggingAction.objects.filter(project=project, tagger=user, undone=False).select_related("document")
    if step == "back":
        if pos:
            qs = qs.filter(id__lt=pos)
        return qs.order_by("-id").first()
    if not pos:
        return None
    return qs.filter(id__gt=pos).order_by("id").first()


def steps_back(project: Project, user: Any, pos: int) -> int:
    return TaggingAction.objects.filter(project=project, tagger=user, undone=False, id__gte=pos).count()


# --- Progress -------------------------------------------------------------------------------------
def today_start() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def tagged_today(project: Project, user: Any) -> int:
    return (
        Tag.objects.filter(project=project, tagger=user, is_resolution=False, created_at__gte=today_start())
        .values("document_id")
        .distinct()
        .count()
    )


def pace(times: list[datetime]) -> float | None:
    """Documents per hour over the latest session (pauses over SESSION_GAP end a session),
    at most its last hour. None with fewer than two steps a minute apart."""
    times = sorted(times, reverse=True)
    if len(times) < 2:
        return None
    session = [times[0]]
    for t in times[1:]:
        if session[-1] - t > SESSION_GAP or times[0] - t > timedelta(hours=1):
            break
        session.append(t)
    span = (session[0] - session[-1]).total_seconds()
    if len(session) < 2 or span < 60:
        return None
    return round((len(session) - 1) * 3600 / span, 1)


@dataclass
class TaggerProgress:
    user_id: int
    username: str
    role: str
    today: int = 0
    total: int = 0
    skipped: int = 0
    pace: float | None = None
    last_active: datetime | None = None


def tagger_progress(project: Project) -> list[TaggerProgress]:
    """Per member who may tag: documents tagged today and in total, skips, pace."""
    rows = {
        m.user_id: TaggerProgress(m.user_id, m.user.get_username(), m.role)
        for m in Membership.objects.filter(
            project=project, role__in=[Role.TAGGER, Role.ADMIN]
        ).select_related("user")
    }
    counts = (
        Tag.objects.filter(project=project, is_resolution=False, tagger__isnull=False)
        .values("tagger_id")
        .annotate(
            total=Count("document_id", distinct=True),
            today=Count("document_id", distinct=True, filter=Q(created_at__gte=today_start())),
        )
    )
    for row in counts:
        if row["tagger_id"] in rows:
            rows[row["tagger_id"]].total, rows[row["tagger_id"]].today = row["total"], row["today"]
    skips = (
        TaggingAction.objects.filter(project=project, kind=TaggingAction.Kind.SKIP, undone=False)
        .values("tagger_id")
        .annotate(n=Count("document_id", distinct=True))
    )
    for row in skips:
        if row["tagger_id"] in rows:
            rows[row["tagger_id"]].skipped = row["n"]
    since = timezone.now() - timedelta(hours=12)
    times: dict[int, list[datetime]] = defaultdict(list)
    for tagger_id, created in TaggingAction.objects.filter(
        project=project, created_at__gte=since, undone=False
    ).values_list("tagger_id", "created_at"):
        times[tagger_id].append(created)
    for tagger_id, ts in times.items():
        if tagger_id in rows:
            rows[tagger_id].pace = pace(ts)
            rows[tagger_id].last_active = max(ts)
    return sorted(rows.values(), key=lambda r: (-r.total, r.username))


@dataclass
class ClassCount:
    name: str
    documents: int
    tags: int
    colour: str = ""


def class_counts(project: Project) -> list[ClassCount]:
    """Tags per class (trainable: match and not a match), by every tagger."""
    tags = Tag.objects.filter(project=project, is_resolution=False)
    if project.is_trainable:
        rows = tags.values("positive").annotate(
            documents=Count("document_id", distinct=True), tags=Count("id")
        )
        by = {r["positive"]: r for r in rows}
        return [
            ClassCount("Match", by.get(True, {}).get("documents", 0), by.get(True, {}).get("tags", 0)),
            ClassCount(
                "Not a match", by.get(False, {}).get("documents", 0), by.get(False, {}).get("tags", 0)
            ),
        ]
    rows = {
        r["tag_class_id"]: r
        for r in tags.filter(positive=True)
        .values("tag_class_id")
        .annotate(documents=Count("document_id", distinct=True), tags=Count("id"))
    }
    return [
        ClassCount(
            c.name + (" (archived)" if c.archived else ""),
            rows.get(c.pk, {}).get("documents", 0),
            rows.get(c.pk, {}).get("tags", 0),
            c.colour,
        )
        for c in project.classes.all()
        if not c.archived or c.pk in rows
    ]


@dataclass
class ProjectTotals:
    documents: int  # in the queue's sets, with text
    tagged: int  # with at least one tagger's tag
    complete: int  # with ``overlap`` taggers or a resolution
    resolved: int


def project_totals(project: Project) -> ProjectTotals:
    tags = Tag.objects.filter(project=project)
    documents = Document.objects.filter(project=project, set__in=QUEUE_SETS, has_text=True).count()
    tagged = tags.filter(is_resolution=False).values("document_id").distinct().count()
    resolved = tags.filter(is_resolution=True).values("document_id").distinct().count()
    complete_by_taggers = (
        tags.filter(is_resolution=False)
        .values("document_id")
        .annotate(n=Count("tagger_id", distinct=True))
        .filter(n__gte=project.overlap)
        .exclude(document_id__in=tags.filter(is_resolution=True).values("document_id"))
        .count()
    )
    return ProjectTotals(documents, tagged, complete_by_taggers + resolved, resolved)


# --- Assignments --------------------------------------------------------------------------------
@dataclass
class AssignmentProgress:
    assignment: Assignment
    total: int = 0
    done: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def assignment_progress(assignments: Iterable[Assignment]) -> list[AssignmentProgress]:
    """Done / assigned for each assignment: done = the tagger tagged or skipped it."""
    out = {a.pk: AssignmentProgress(a) for a in assignments}
    if not out:
        return []
    items = AssignedDocument.objects.filter(assignment_id__in=list(out)).order_by()
    for assignment_id, n in items.values_list("assignment_id").annotate(n=Count("id")):
        out[assignment_id].total = n
    # The "done" test in WHERE (not grouped on): each row's probes run once, and stop early.
    done = items.filter(_done_by(OuterRef("tagger_id"), OuterRef("document_id")))
    for assignment_id, n in done.values_list("assignment_id").annotate(n=Count("id")):
        out[assignment_id].done = n
    return list(out.values())


def my_assignment_counts(project: Project, user: Any) -> tuple[int, int]:
    """(done, assigned) over the tagger's active assignments."""
    progress = assignment_progress(Assignment.objects.filter(project=project, tagger=user, active=True))
    return sum(p.done for p in progress), sum(p.total for p in progress)


def has_open_assignment(project: Project, user: Any) -> bool:
    return (
        AssignedDocument.objects.filter(project=project, tagger=user, assignment__active=True)
        .exclude(_done_by(OuterRef("tagger_id"), OuterRef("document_id")))
        .exists()
    )


# --- Answers, agreement, conflicts ------------------------------------------------------------
def answer_label(project: Project, class_name: str, positive: bool) -> str | None:
    if project.is_trainable:
        return MATCH if positive else NOT_MATCH
    return class_name if positive else None


def collect_answers(
    project: Project, document_ids: Iterable[int] | None = None
) -> dict[int, dict[int, frozenset[str]]]:
    """document -> tagger -> labels, for documents that at least two taggers tagged
    (resolutions left out: they are the Admin's verdict, not an answer)."""
    tags = Tag.objects.filter(project=project, is_resolution=False, tagger__isnull=False)
    if document_ids is not None:
        tags = tags.filter(document_id__in=list(document_ids))
    shared = (
        tags.order_by()
        .values("document_id")
        .annotate(n=Count("tagger_id", distinct=True))
        .filter(n__gte=2)
        .values("document_id")
    )
    raw: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = tags.filter(document_id__in=shared).values_list(
        "document_id", "tagger_id", "tag_class__name", "positive"
    )
    for doc_id, tagger_id, name, positive in rows.iterator(chunk_size=5000):
        label = answer_label(project, name, positive)
        entry = raw[doc_id][tagger_id]  # a tagger with only negative tags still answered
        if label is not None:
            entry.add(label)
    return {d: {t: frozenset(v) for t, v in by.items()} for d, by in raw.items()}


def usernames(user_ids: Iterable[int]) -> dict[int, str]:
    User = get_user_model()
    return {u.pk: u.get_username() for u in User.objects.filter(pk__in=list(user_ids))}


def project_agreement(project: Project) -> tuple[AgreementReport, dict[int, str]]:
    answers = collect_answers(project)
    if project.is_trainable:
        names = [MATCH]
    else:
        seen = {label for by in answers.values() for labels in by.values() for label in labels}
        names = [c.name for c in project.classes.all() if not c.archived or c.name in seen]
    report = agreement_report(answers, names, multi_label=project.kind == Project.Kind.MULTI_LABEL)
    return report, usernames(report.taggers)


@dataclass
class Conflict:
    document: Document
    answers: list[tuple[str, list[str]]]  # (tagger, labels) sorted by tagger
    resolution: list[str] = field(default_factory=list)


def conflict_ids(project: Project) -> tuple[list[int], dict[int, dict[int, frozenset[str]]]]:
    """Ids of documents whose taggers disagree and that nobody resolved, newest first."""
    answers = collect_answers(project)
    resolved = set(
        Tag.objects.filter(project=project, is_resolution=True).values_list("document_id", flat=True)
    )
    ids = sorted(
        (d for d, by in answers.items() if len(set(by.values())) > 1 and d not in resolved), reverse=True
    )
    return ids, answers


def conflicts_page(
    project: Project, ids: list[int], answers: Mapping[int, Mapping[int, frozenset[str]]]
) -> list[Conflict]:
    names = usernames({t for d in ids for t in answers[d]})
    docs = Document.objects.in_bulk(ids)
    out = []
    for d in ids:
        if d not in docs:
            continue
        rows = sorted(
            ((names.get(t, f"user {t}"), sorted(labels)) for t, labels in answers[d].items()),
            key=lambda r: r[0],
        )
        out.append(Conflict(docs[d], rows))
    return out


def resolution_of(document: Document) -> list[Tag]:
    return list(Tag.objects.filter(document=document, is_resolution=True).select_related("tag_class"))


def active_classes(project: Project) -> list[Class]:
    return list(project.classes.filter(archived=False))
