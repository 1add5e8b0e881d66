"""The document browser's query: filters, full-text search, sorts and keyset pages.

Shared by the browser, bulk actions on a whole filtered result, exports and (later) the
tagging queue, so one set of GET parameters means the same documents everywhere:

    q, set, class, not_match, untagged, tagged_by_me, batch, has_text, date_from, date_to, sort

Full text: SQLite uses the FTS5 table of migration 0003 (each user word double-quoted, so
``AND (``, ``"``, ``*`` or ``NEAR(`` are plain words, never syntax); PostgreSQL uses the
generated ``search_vector`` column with ``plainto_tsquery('simple', ...)``. Both match
documents containing every word.

Pages are keyset pages: ``WHERE (sort value, id) > cursor ORDER BY sort value, id LIMIT n``
on an index, so the last page costs what the first does. Cursors are opaque; a tampered one
gives the first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from classifiers.models import Class, Document, DocumentSet, Project, Tag

PAGE_SIZE = 50
# A search's count stops here: "more than 10,000 documents" costs a LIMITed count.
COUNT_CAP = 10_000
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 32

# sort name -> (model field, descending); ties are broken by id in the same direction.
SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("id", True),
    "oldest": ("id", False),
    "filename": ("filename", False),
    "size": ("size", True),
}
SORT_CHOICES = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("filename", "File name"),
    ("size", "Largest first"),
]
DEFAULT_SORT = "newest"
HAS_TEXT_CHOICES = [("", "With or without text"), ("yes", "With text"), ("no", "Without text")]


# --- The query --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentQuery:
    """What the browser shows: every field optional; the defaults mean "all documents"."""

    q: str = ""
    set: str = ""
    cls: int | None = None  # GET "class": documents with a positive tag of this class
    not_match: bool = False  # trainable classifiers: tagged "not a match"
    untagged: bool = False
    tagged_by_me: bool = False
    batch: int | None = None
    has_text: str = ""  # "", "yes", "no"
    date_from: date | None = None  # imported on or after (the project's time zone)
    date_to: date | None = None  # imported on or before
    sort: str = DEFAULT_SORT
    errors: tuple[str, ...] = field(default=(), compare=False)

    def params(self, *, with_sort: bool = True) -> dict[str, str]:
        """The non-default values as GET parameters (what links and exports carry)."""
        out: dict[str, str] = {}
        for key, value in asdict(self).items():
            if key == "errors" or value in ("", None, False) or (key == "sort" and value == DEFAULT_SORT):
                continue
            if key == "sort" and not with_sort:
                continue
            name = "class" if key == "cls" else key
            out[name] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
        return out

    def querystring(self, **extra: str) -> str:
        return urlencode({**self.params(), **extra})

    @property
    def is_filtered(self) -> bool:
        return bool(self.params(with_sort=False))


class DocumentFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_QUERY_CHARS, label="Search")
    set = forms.ChoiceField(required=False, label="Set")
    # "class" is a keyword: the field is added in __init__.
    not_match = forms.BooleanField(required=False, label="Tagged not a match")
    untagged = forms.BooleanField(required=False, label="Untagged")
    tagged_by_me = forms.BooleanField(required=False, label="Tagged by me")
    batch = forms.IntegerField(required=False, min_value=1, max_value=2**62, label="Upload batch")
    has_text = forms.ChoiceField(required=False, choices=HAS_TEXT_CHOICES, label="Text")
    date_from = forms.DateField(required=False, label="Imported from")
    date_to = forms.DateField(required=False, label="Imported to")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort")

    def __init__(self, *args: Any, project: Project, classes: list[Class] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.project = project
        self.classes = list(project.classes.all()) if classes is None else classes
        self.fields["set"].choices = [("", "All sets")] + [
            (s.value, s.label) for s in DocumentSet.for_kind(project.kind)
        ]
        self.fields["class"] = forms.TypedChoiceField(
            required=False,
            coerce=int,
            empty_value=None,
            label="Class" if not project.is_trainable else "Match",
            choices=[("", "Any class")]
            + [(str(c.pk), c.name + (" (archived)" if c.archived else "")) for c in self.classes],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def parse_query(
    params: Mapping[str, Any], project: Project, classes: list[Class] | None = None
) -> tuple[DocumentQuery, DocumentFilterForm]:
    """GET parameters -> a DocumentQuery. Invalid fields are dropped (and explained in
    ``form.errors``); the others still apply. Never raises on user input."""
    form = DocumentFilterForm(params, project=project, classes=classes)
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    errors = tuple(
        f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items() if k in form.fields
    )
    query = DocumentQuery(
        q=(data.get("q") or "").strip(),
        set=data.get("set") or "",
        cls=data.get("class"),
        not_match=bool(data.get("not_match")) and project.is_trainable,
        untagged=bool(data.get("untagged")),
        tagged_by_me=bool(data.get("tagged_by_me")),
        batch=data.get("batch"),
        has_text=data.get("has_text") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        sort=data.get("sort") or DEFAULT_SORT,
        errors=errors,
    )
    return query, form


# --- Full text ------------------------------------------------------------------------------
def search_words(text: str) -> list[str]:
    return text.replace("\x00", " ").split()[:MAX_QUERY_WORDS]


def fts5_match(text: str) -> str:
    """An FTS5 MATCH expression where every user word is a quoted string (a phrase of its
    tokens; a word without letters or digits adds nothing). Operators, parentheses, ``*``,
    ``NEAR`` and quotes in the input are text, never syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in search_words(text))


def search_subquery(project: Project, text: str) -> RawSQL | None:
    """The ids of the project's documents containing every word (None: no words, or a
    database without full text)."""
    words = search_words(text)
    if not words:
        return None
    vendor = connection.vendor
    if vendor == "sqlite":
        sql = "SELECT rowid FROM classifiers_document_fts WHERE classifiers_document_fts MATCH %s"
        return RawSQL(sql, [fts5_match(text)])
    if vendor == "postgresql":
        # A self-contained subquery: correct whatever alias the outer query gives the table.
        sql = (
            "SELECT d.id FROM classifiers_document d WHERE d.project_id = %s "
            "AND d.search_vector @@ plainto_tsquery('simple'::regconfig, %s)"
        )
        return RawSQL(sql, [project.pk, " ".join(words)])
    return None


def apply_search(qs: QuerySet[Document], project: Project, text: str) -> QuerySet[Document]:
    subquery = search_subquery(project, text)
    if subquery is not None:
        return qs.filter(id__in=subquery)
    for word in search_words(text):  # no other database is supported; keep it correct if slow
        qs = qs.filter(text__icontains=word)
    return qs


# --- Filters --------------------------------------------------------------------------------
def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_documents(project: Project, query: DocumentQuery, user: Any = None) -> QuerySet[Document]:
    """The project's documents matching ``query``, ordered by its sort (ties by id)."""
    qs = Document.objects.filter(project=project)
    if query.set:
        qs = qs.filter(set=query.set)
    if query.batch:
        qs = qs.filter(batch_id=query.batch)
    if query.has_text == "yes":
        qs = qs.filter(has_text=True)
    elif query.has_text == "no":
        qs = qs.filter(has_text=False)
    if query.date_from:
        qs = qs.filter(created_at__gte=day_start(query.date_from))
    if query.date_to:
        qs = qs.filter(created_at__lt=day_start(query.date_to + timedelta(days=1)))
    # Tag filters. "Has a tag like this": id IN (tags ...), a semi-join driven from Tag's
    # (project, tag_class, document) / (project, tagger, ...) index. Measured at 100,000
    # documents on SQLite, the correlated EXISTS form probed every document of the set
    # (26 ms per count against 2 ms); PostgreSQL plans both forms the same.
    # "Has no tag": NOT EXISTS on Tag's document index (NOT IN plans badly on PostgreSQL).
    tags = Tag.objects.filter(project=project)
    if query.cls:
        qs = qs.filter(id__in=tags.filter(tag_class_id=query.cls, positive=True).values("document_id"))
    if query.not_match:
        qs = qs.filter(id__in=tags.filter(positive=False).values("document_id"))
    if query.untagged:
        qs = qs.filter(~Exists(Tag.objects.filter(document=OuterRef("pk"))))
    if query.tagged_by_me:
        if getattr(user, "is_authenticated", False):
            qs = qs.filter(id__in=tags.filter(tagger=user).values("document_id"))
        else:
            qs = qs.none()
    if query.q:
        qs = apply_search(qs, project, query.q)
    return qs.order_by(*_ordering(query.sort, reverse=False))


def documents_for_query(project: Project, params: Mapping[str, Any], user: Any = None) -> QuerySet[Document]:
    """Documents for a stored browser query string (exports, bulk actions on a whole result)."""
    query, _form = parse_query(params, project)
    return filtered_documents(project, query, user)


def count_documents(qs: QuerySet[Document], query: DocumentQuery) -> tuple[int, bool]:
    """(count, capped). A full-text search counts at most COUNT_CAP + 1 rows: a common word
    in a big project would otherwise cost a full count of its matches."""
    if query.q:
        n = qs.order_by().values("id")[: COUNT_CAP + 1].count()
        return min(n, COUNT_CAP), n > COUNT_CAP
    return qs.order_by().count(), False


# --- Keyset pages ---------------------------------------------------------------------------
@dataclass
class Page:
    items: list[Document]
    next_cursor: str | None
    prev_cursor: str | None
    sort: str = DEFAULT_SORT

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class RowCompare(Func):
    """``(a, b) > (x, y)``: a row-value comparison that SQLite and PostgreSQL both answer
    with an index range scan (an OR of two conditions would not)."""

    output_field = BooleanField()

    def __init__(self, fields: list[str], op: str, values: list[Any]) -> None:
        assert op in ("<", ">") and len(fields) == len(values)
        super().__init__(*[F(f) for f in fields], *[Value(v) for v in values])
        self.op, self.width = op, len(fields)

    def as_sql(self, compiler, connection, **extra):  # type: ignore[override]
        sqls, params = [], []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            sqls.append(sql)
            params.extend(p)
        left, right = ", ".join(sqls[: self.width]), ", ".join(sqls[self.width :])
        return f"({left}) {self.op} ({right})", params


def _sort(sort: str) -> str:
    return sort if sort in SORTS else DEFAULT_SORT


def _ordering(sort: str, *, reverse: bool) -> list[str]:
    name, descending = SORTS[_sort(sort)]
    descending = descending != reverse
    prefix = "-" if descending else ""
    return [f"{prefix}id"] if name == "id" else [f"{prefix}{name}", f"{prefix}id"]


def _beyond(sort: str, value: Any, pk: int, *, forward: bool) -> Q | RowCompare:
    """Rows strictly after (forward) or before the cursor in the sort's order."""
    name, descending = SORTS[_sort(sort)]
    smaller = descending == forward  # moving towards smaller values
    if name == "id":
        return Q(id__lt=pk) if smaller else Q(id__gt=pk)
    return RowCompare([name, "id"], "<" if smaller else ">", [value, pk])


def encode_cursor(sort: str, item: Document) -> str:
    sort = _sort(sort)
    name = SORTS[sort][0]
    raw = json.dumps([sort, getattr(item, name), item.pk], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """(sort value, id), or None for a missing, tampered or other sort's cursor."""
    if not cursor or len(cursor) > 2000:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    sort = _sort(sort)
    if not (isinstance(data, list) and len(data) == 3 and data[0] == sort):
        return None
    _sort_name, value, pk = data
    if not isinstance(pk, int) or isinstance(pk, bool) or not (0 < pk < 2**63):
        return None
    kind = SORTS[sort][0]
    if kind in ("id", "size"):
        if not isinstance(value, int) or isinstance(value, bool) or not (0 <= value < 2**63):
            return None
    elif not isinstance(value, str) or len(value) > 255 or "\x00" in value:
        return None
    return value, pk


def keyset_page(
    qs: QuerySet[Document],
    sort: str = DEFAULT_SORT,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of ``qs`` in ``sort`` order: the first page, the page after/before a
    cursor, or the last page. Every variant is one indexed LIMIT query."""
    sort = _sort(sort)
    start = decode_cursor(after, sort)
    end = decode_cursor(before, sort) if start is None else None

    if start is not None:
        rows = list(
            qs.filter(_beyond(sort, *start, forward=True)).order_by(*_ordering(sort, reverse=False))[
                : size + 1
            ]
        )
        items = rows[:size]
        if not items:  # the cursor is past the end (documents were deleted): the last page
            return keyset_page(qs, sort, last=True, size=size)
        return Page(
            items,
            encode_cursor(sort, items[-1]) if len(rows) > size else None,
            encode_cursor(sort, items[0]),
            sort,
        )

    if end is not None or last:
        backwards = qs.filter(_beyond(sort, *end, forward=False)) if end is not None else qs
        rows = list(backwards.order_by(*_ordering(sort, reverse=True))[: size + 1])
        items = rows[:size][::-1]
        if not items:  # nothing before the cursor any more: the first page
            return keyset_page(qs, sort, size=size)
        return Page(
            items,
            encode_cursor(sort, items[-1]) if end is not None else None,
            encode_cursor(sort, items[0]) if len(rows) > size else None,
            sort,
        )

    rows = list(qs.order_by(*_ordering(sort, reverse=False))[: size + 1])
    items = rows[:size]
    return Page(items, encode_cursor(sort, items[-1]) if len(rows) > size else None, None, sort)


def neighbours(qs: QuerySet[Document], sort: str, document: Document) -> tuple[int | None, int | None]:
    """(previous id, next id) around ``document`` in the filtered, sorted result (the
    document itself need not match the filter any more)."""
    sort = _sort(sort)
    value = getattr(document, SORTS[sort][0])
    ids = qs.values_list("id", flat=True)
    before = ids.filter(_beyond(sort, value, document.pk, forward=False))
    after = ids.filter(_beyond(sort, value, document.pk, forward=True))
    return (
        before.order_by(*_ordering(sort, reverse=True)).first(),
        after.order_by(*_ordering(sort, reverse=False)).first(),
    )
