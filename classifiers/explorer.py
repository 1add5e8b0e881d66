"""The content explorer's query: production items per classifier, filtered by outcome,
class, label, date, score range and full text, in keyset pages (newest first).

Every filter runs on ``Classification`` (indexes on (project, outcome, document),
(project, document), (project, received_at), (project, score)), so a page is an index scan
that stops after 50 rows, and a count of one outcome is an index-only count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet

from classifiers.models import AppliedLabel, Classification, Document, DocumentSet, Label, Project
from classifiers.search import COUNT_CAP, MAX_QUERY_CHARS, apply_search, day_start, search_subquery

PAGE_SIZE = 50
SEARCH_COUNT_CAP = 1_000
COUNTS_SECONDS = 300  # the per-classifier counts' cache (cleared by every write anyway)
# ModelVersion's big JSON columns, never shown in the explorer's rows.
VERSION_BULK = ("model_version__snapshot", "model_version__metrics", "model_version__params")
OUTCOMES = [
    ("", "Any outcome"),
    ("match", "Match"),
    ("close_match", "Close match"),
    ("no_match", "No match"),
]


class ExplorerForm(forms.Form):
    outcome = forms.ChoiceField(choices=OUTCOMES, required=False)
    cls = forms.CharField(required=False, max_length=100, label="Class")
    label = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    date_from = forms.DateField(required=False, label="Received from")
    date_to = forms.DateField(required=False, label="Received to")
    score_min = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score from")
    score_max = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score to")
    q = forms.CharField(required=False, max_length=MAX_QUERY_CHARS, label="Search")
    after = forms.IntegerField(required=False, min_value=0, max_value=2**62)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "The upper score is below the lower one.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


@dataclass(frozen=True)
class ExplorerQuery:
    outcome: str = ""
    cls: str = ""
    label: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    score_min: float | None = None
    score_max: float | None = None
    q: str = ""
    after: int | None = None

    def params(self, **extra: Any) -> str:
        values = {
            "outcome": self.outcome, "cls": self.cls, "label": self.label or "",
            "date_from": self.date_from or "", "date_to": self.date_to or "",
            "score_min": "" if self.score_min is None else self.score_min,
            "score_max": "" if self.score_max is None else self.score_max, "q": self.q,
        }  # fmt: skip
        values.update(extra)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.outcome or self.cls or self.label or self.date_from or self.date_to or self.q
            or self.score_min is not None or self.score_max is not None
        )  # fmt: skip


def parse(params: Any) -> tuple[ExplorerQuery, list[str]]:
    form = ExplorerForm(params)
    if not form.is_valid():
        errors = [f"{form.fields[f].label or f}: {' '.join(e)}" if f != "__all__" else " ".join(e)
                  for f, e in form.errors.items()]  # fmt: skip
        # Keep the valid filters, drop the bad ones (a bad value never hides everything).
        data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    else:
        errors, data = [], form.cleaned_data
    return ExplorerQuery(
        outcome=data.get("outcome") or "",
        cls=(data.get("cls") or "").strip(),
        label=data.get("label"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        score_min=data.get("score_min"),
        score_max=data.get("score_max"),
        q=(data.get("q") or "").strip(),
        after=data.get("after"),
    ), errors


def items(project: Project, query: ExplorerQuery) -> QuerySet[Classification]:
    """The filtered items, newest first (not yet paged)."""
    qs = Classification.objects.filter(project=project)
    if query.outcome:
        qs = qs.filter(outcome=query.outcome)
    if query.cls:
        qs = qs.filter(classes_key__contains=f"|{query.cls}|")
    if query.label:
        qs = qs.filter(
            Exists(AppliedLabel.objects.filter(document=OuterRef("document_id"), label_id=query.label))
        )
    if query.date_from:
        qs = qs.filter(received_at__gte=day_start(query.date_from))
    if query.date_to:
        qs = qs.filter(received_at__lt=day_start(query.date_to + timedelta(days=1)))
    if query.score_min is not None:
        qs = qs.filter(score__gte=query.score_min)
    if query.score_max is not None:
        qs = qs.filter(score__lte=query.score_max)
    if query.q:
        # Only production items have a classification: the full-text ids filter directly.
        subquery = search_subquery(project, query.q)
        if subquery is None:
            found = apply_search(
                Document.objects.filter(project=project, set=DocumentSet.PRODUCTION), project, query.q
            )
            subquery = found.values("id")
        qs = qs.filter(document_id__in=subquery)
    return qs.order_by("-document_id")


def page(project: Project, query: ExplorerQuery) -> tuple[list[Classification], int | None]:
    """One keyset page and the cursor of the next one (None on the last page)."""
    qs = items(project, query)
    if query.after:
        qs = qs.filter(document_id__lt=query.after)
    # The documents come in a second query (by id): joined into this one, PostgreSQL merges
    # with the document primary key from the newest id down, reading every newer document
    # before a deep keyset page (bench/bench_explorer.py: 550 ms at 1,000,000 items).
    # A version's snapshot holds every training id: not decoded once per row.
    rows = list(
        qs.select_related("model_version").defer(*VERSION_BULK).prefetch_related("document")[: PAGE_SIZE + 1]
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    attach(rows)
    return rows, (rows[-1].document_id if more else None)


def attach(rows: list[Classification]) -> None:
    """row.applied: the item's applied labels; row.feedback: its active feedback (2 queries)."""
    from classifiers.models import Feedback

    ids = [r.document_id for r in rows]
    applied: dict[int, list[AppliedLabel]] = {}
    found = AppliedLabel.objects.filter(document_id__in=ids).select_related(
        "label", "policy", "model_version"
    )
    for a in found.defer(*VERSION_BULK):
        applied.setdefault(a.document_id, []).append(a)
    feedback = {
        f.document_id: f for f in Feedback.objects.filter(document_id__in=ids, withdrawn_at__isnull=True)
    }
    for r in rows:
        r.applied = applied.get(r.document_id, [])
        r.feedback = feedback.get(r.document_id)


def count(project: Project, query: ExplorerQuery, counts: dict[str, int] | None = None) -> tuple[int, bool]:
    """(items, capped). Unfiltered or by outcome: the per-classifier counts. Otherwise at most
    COUNT_CAP + 1 rows are counted ("more than 10,000"): a common word or a label on most
    items would cost a full count of a million rows."""
    only_outcome = not (query.cls or query.label or query.date_from or query.date_to or query.q
                        or query.score_min is not None or query.score_max is not None)  # fmt: skip
    if only_outcome:
        counts = counts if counts is not None else counts_per_classifier([project])[project.pk]
        return counts.get(query.outcome or "total", 0), False
    # A search counts to 1,000 only: PostgreSQL reads every candidate's tsvector to check it,
    # and a common word's first 10,000 matches cost ~280 ms at a million items (68 ms for 1,000).
    cap = SEARCH_COUNT_CAP if query.q else COUNT_CAP
    n = items(project, query).order_by().values("document_id")[: cap + 1].count()
    return min(n, cap), n > cap


def _counts_key(project_id: int) -> str:
    return f"explorer-counts:{project_id}"


def forget_counts(project_id: int) -> None:
    """After a change to a project's classifications commits, its counts are recomputed."""
    transaction.on_commit(lambda: cache.delete(_counts_key(project_id)))


def counts_per_classifier(projects: list[Project]) -> dict[int, dict[str, int]]:
    """project id -> {outcome: items, "total": items}. Cached per project (a group-by over a
    million rows takes ~200 ms); every write of classifications clears its project's entry."""
    cached = cache.get_many([_counts_key(p.pk) for p in projects])
    out: dict[int, dict[str, int]] = {}
    missing = []
    for p in projects:
        value = cached.get(_counts_key(p.pk))
        if value is None:
            missing.append(p.pk)
        else:
            out[p.pk] = value
    if missing:
        fresh: dict[int, dict[str, int]] = {pk: {"total": 0} for pk in missing}
        rows = (
            Classification.objects.filter(project_id__in=missing)
            .values_list("project_id", "outcome")
            .annotate(n=Count("document_id"))
            .order_by()
        )
        for project_id, outcome, n in rows:
            fresh[project_id][outcome] = n
            fresh[project_id]["total"] += n
        cache.set_many({_counts_key(pk): value for pk, value in fresh.items()}, timeout=COUNTS_SECONDS)
        out.update(fresh)
    return out


def labels() -> list[Label]:
    return list(Label.objects.all())
