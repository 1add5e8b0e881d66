"""The document browser: list (search, filters, keyset pages, bulk actions), a document's
page (text, metadata, tags, set, history), its original file and thumbnail."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.documents import (
    clean_ids,
    do_assign_set,
    do_delete_documents,
    project_document_ids,
)
from classifiers.actions.tags import do_bulk_tag, do_bulk_untag, do_set_document_tags
from classifiers.charts import MUTED, safe_colour
from classifiers.models import Class, Document, DocumentSet, Project, Role, Tag
from classifiers.params import parse_int
from classifiers.search import (
    count_documents,
    filtered_documents,
    keyset_page,
    neighbours,
    parse_query,
)
from classifiers.views.production import classification_context
from studio.models import AuditEntry

# The page shows this much text; the rest is in the original file (a 5 MB text would
# otherwise make a 5 MB page).
DISPLAY_CHARS = 200_000
SNIPPET_CHARS = 240
HISTORY_LIMIT = 50
MAX_SELECTED = 5_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The image types classifiers.ingest writes thumbnails in, by their file signature.
THUMBNAIL_TYPES = ((PNG_MAGIC, "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def _classes(project: Project) -> list[Class]:
    return list(project.classes.all())


def _attach_tags(documents: list[Document]) -> None:
    """doc.tag_summary: [(class, positive, taggers)] for the page's documents, one query."""
    by_doc: dict[int, dict[tuple[int, bool], dict[str, Any]]] = defaultdict(dict)
    tags = Tag.objects.filter(document_id__in=[d.pk for d in documents]).select_related("tag_class", "tagger")
    for tag in tags:
        entry = by_doc[tag.document_id].setdefault(
            (tag.tag_class_id, tag.positive),
            {
                "cls": tag.tag_class,
                "positive": tag.positive,
                "colour": safe_colour(tag.tag_class.colour) if tag.positive else MUTED,
                "taggers": [],
            },
        )
        entry["taggers"].append(tag.tagger.get_username() if tag.tagger else "deleted user")
    for doc in documents:
        doc.tag_summary = list(by_doc.get(doc.pk, {}).values())  # type: ignore[attr-defined]


def _list_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    classes = _classes(project)
    query, form = parse_query(request.GET, project, classes)
    qs = filtered_documents(project, query, request.user)
    page = keyset_page(
        qs.defer("text").annotate(snippet=Substr("text", 1, SNIPPET_CHARS)),
        query.sort,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        last=request.GET.get("last") == "1",
    )
    _attach_tags(page.items)
    count, capped = count_documents(qs, query)
    cursor = {k: request.GET[k] for k in ("after", "before", "last") if request.GET.get(k)}
    membership = project.membership  # type: ignore[attr-defined]
    return {
        "project": project,
        "section": "documents",
        "form": form,
        "query": query,
        "classes": classes,
        "active_classes": [c for c in classes if not c.archived],
        "sets": DocumentSet.for_kind(project.kind),
        "page": page,
        "count": count,
        "capped": capped,
        "filter_qs": query.querystring(),
        "page_qs": query.querystring(**cursor),
        "can_tag": membership.can_tag,
        "is_admin": membership.is_admin,
        "is_trainable": project.is_trainable,
        **extra,
    }


def _render_list(request: HttpRequest, project: Project, status: int = 200, **extra: Any) -> HttpResponse:
    template = "documents/list.html#results" if request.htmx else "documents/list.html"
    return render(request, template, _list_context(request, project, **extra), status=status)


@login_required
def document_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return _render_list(request, project)


# --- Bulk actions -----------------------------------------------------------------------------
class BulkForm(forms.Form):
    ACTIONS = [
        ("set", "Move to set"),
        ("tag", "Tag with class"),
        ("not_match", "Tag as not a match"),
        ("untag", "Remove tag"),
        ("delete", "Delete"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("all", "Whole result")], required=False)
    target_set = forms.ChoiceField(required=False, label="Set")
    target_class = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Class")
    confirm = forms.IntegerField(required=False, min_value=0)

    def __init__(self, *args: Any, project: Project, classes: list[Class], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["target_set"].choices = [("", "—")] + [
            (s.value, s.label) for s in DocumentSet.for_kind(project.kind)
        ]
        self.fields["target_class"].choices = [("", "—")] + [(str(c.pk), c.name) for c in classes]
        self.classes = {c.pk: c for c in classes}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "set" and not data.get("target_set"):
            self.add_error("target_set", "Choose the set to move the documents to.")
        if action in ("tag", "untag", "not_match"):
            if not data.get("target_class") and self.project.is_trainable and self.classes:
                data["target_class"] = next(iter(self.classes))  # the one category
            if not data.get("target_class"):
                self.add_error("target_class", "Choose a class.")
        if action == "not_match" and not self.project.is_trainable:
            self.add_error("action", "Only trainable classifiers have “not a match” tags.")
        return data


def _plural(n: int, word: str = "document") -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@login_required
@require_POST
def document_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    """A bulk action on the ticked documents (``ids``) or on the whole filtered result
    (``scope=all`` with the browser's filter in the query string). Delete asks first,
    stating the count, and runs only when ``confirm`` echoes that count."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    classes = _classes(project)
    form = BulkForm(request.POST, project=project, classes=classes)
    if not form.is_valid():
        errors = [f"{e}" for errs in form.errors.values() for e in errs]
        messages.error(request, " ".join(errors))
        return _render_list(request, project, status=422)
    data = form.cleaned_data
    action, scope = data["action"], data.get("scope") or "selected"
    if action == "delete" and not project.membership.is_admin:  # type: ignore[attr-defined]
        raise PermissionDenied("Deleting documents needs the Admin role.")

    if scope == "all":
        query, _form = parse_query(request.GET, project, classes)
        ids = list(
            filtered_documents(project, query, request.user).order_by("id").values_list("id", flat=True)
        )
    else:
        ids = clean_ids(request.POST.getlist("ids"))[:MAX_SELECTED]
    cls = form.classes.get(data.get("target_class")) if data.get("target_class") else None

    try:
        if action == "set":
            moved = do_assign_set(request.user, project, ids, data["target_set"])
            label = DocumentSet(data["target_set"]).label
            messages.success(request, f"{_plural(moved)} moved to {label}.")
        elif action in ("tag", "not_match"):
            assert cls is not None
            result = do_bulk_tag(request.user, project, ids, cls, positive=action == "tag")
            what = cls.name if not project.is_trainable else ("match" if action == "tag" else "not a match")
            messages.success(
                request,
                f"Tagged {_plural(result.documents)} as {what}: {result.created:,} new, "
                f"{result.changed:,} changed, {result.unchanged:,} already tagged.",
            )
        elif action == "untag":
            assert cls is not None
            removed = do_bulk_untag(request.user, project, ids, cls)
            messages.success(request, f"Removed {_plural(removed, 'tag')} of {cls.name}.")
        elif action == "delete":
            if data.get("confirm") is None:
                found = project_document_ids(project, ids)
                if not found:
                    raise ActionError(
                        "No documents selected: tick some documents or choose the whole result."
                    )
                confirm = {"count": len(found), "scope": scope, "ids": found if scope == "selected" else []}
                return _render_list(request, project, confirm_delete=confirm)
            deleted = do_delete_documents(request.user, project, ids, data["confirm"])
            messages.success(request, f"Deleted {_plural(deleted)}.")
    except ActionError as exc:
        messages.error(request, str(exc))
        return _render_list(request, project, status=422)
    if request.htmx:
        return _render_list(request, project)
    url = reverse("document_list", args=[project.slug])
    qs = request.GET.urlencode()
    return redirect(f"{url}?{qs}" if qs else url)


# --- One document -----------------------------------------------------------------------------
def _get_document(project: Project, document_id: int) -> Document:
    return get_object_or_404(
        Document.objects.select_related("batch", "created_by", "project"), pk=document_id, project=project
    )


def document_history(
    project: Project, document: Document, limit: int = HISTORY_LIMIT
) -> QuerySet[AuditEntry]:
    """Entries about this document: those whose object it is, and bulk entries whose
    payload lists its id (bulk actions list ids only up to 1,000 documents)."""
    about = Q(object_type="document", object_id=str(document.pk))
    if connection.vendor == "postgresql":
        about |= Q(payload__document_ids__contains=[document.pk])
    elif connection.vendor == "sqlite":
        listed = RawSQL(
            "EXISTS (SELECT 1 FROM json_each(studio_auditentry.payload, '$.document_ids') WHERE value = %s)",
            [document.pk],
            output_field=BooleanField(),
        )
        about |= Q(listed)
    # Nothing before the document existed concerns it (a margin for clock steps).
    since = document.created_at - timedelta(minutes=5)
    return AuditEntry.objects.filter(project=project, created_at__gte=since).filter(about)[:limit]


def _metadata_rows(metadata: Any) -> list[tuple[str, str]]:
    if not isinstance(metadata, dict):
        return []
    rows = []
    for key, value in sorted(metadata.items()):
        text = (
            value
            if isinstance(value, str)
            else repr(value)
            if not isinstance(value, dict | list)
            else str(value)
        )
        rows.append((str(key)[:200], text[:2000]))
    return rows


def _detail_context(request: HttpRequest, project: Project, document: Document) -> dict[str, Any]:
    classes = _classes(project)
    query, _form = parse_query(request.GET, project, classes)
    prev_id, next_id = neighbours(filtered_documents(project, query, request.user), query.sort, document)
    tags = list(document.tags.select_related("tag_class", "tagger").order_by("created_at", "id"))
    membership = project.membership  # type: ignore[attr-defined]
    my_class_ids = {t.tag_class_id for t in tags if t.tagger_id == request.user.pk}
    text = document.text
    return {
        "project": project,
        "section": "documents",
        "document": document,
        "text": text[:DISPLAY_CHARS],
        "text_truncated": len(text) > DISPLAY_CHARS,
        "metadata_rows": _metadata_rows(document.metadata),
        "tags": tags,
        "my_class_ids": my_class_ids,
        "classes": [c for c in classes if not c.archived],
        "category": classes[0] if project.is_trainable and classes else None,
        "sets": DocumentSet.for_kind(project.kind),
        "history": document_history(project, document),
        "filter_qs": query.querystring(),
        "query": query,
        "prev_id": prev_id,
        "next_id": next_id,
        "can_tag": membership.can_tag,
        "is_admin": membership.is_admin,
        "is_trainable": project.is_trainable,
        "has_thumbnail": bool(document.thumbnail),
        **classification_context(request, project, document),
    }


@login_required
def document_detail(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug)
    document = _get_document(project, document_id)
    return render(request, "documents/detail.html", _detail_context(request, project, document))


def _side_response(
    request: HttpRequest, project: Project, document_id: int, status: int = 200
) -> HttpResponse:
    """After a change on the document page: the side panel for htmx, else the page."""
    if request.htmx:
        document = _get_document(project, document_id)
        return render(
            request, "documents/detail.html#side", _detail_context(request, project, document), status=status
        )
    url = reverse("document_detail", args=[project.slug, document_id])
    qs = request.GET.urlencode()
    return redirect(f"{url}?{qs}" if qs else url)


@login_required
@require_POST
def document_set(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    document = _get_document(project, document_id)
    target = request.POST.get("set", "")
    try:
        moved = do_assign_set(request.user, project, [document.pk], target)
    except ActionError as exc:
        messages.error(request, str(exc))
        return _side_response(request, project, document.pk, status=422)
    label = DocumentSet(target).label
    messages.success(request, f"Moved to {label}." if moved else f"Already in {label}.")
    return _side_response(request, project, document.pk)


@login_required
@require_POST
def document_tag(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Add (``op=add``) or remove (``op=remove``) one class on this document. Trainable
    classifiers: ``positive=1`` match, ``positive=0`` not a match."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    document = _get_document(project, document_id)
    op = request.POST.get("op", "add")
    raw_class = request.POST.get("class", "")
    class_id = parse_int(raw_class)
    if op not in ("add", "remove") or class_id is None:
        messages.error(request, "Choose a class to add or remove.")
        return _side_response(request, project, document.pk, status=422)
    cls = get_object_or_404(Class, pk=class_id, project=project)
    try:
        if op == "remove":
            removed = do_bulk_untag(request.user, project, [document.pk], cls)
            messages.success(request, f"Removed {cls.name}." if removed else f"No {cls.name} tag to remove.")
        else:
            positive = request.POST.get("positive", "1") != "0"
            mine = list(
                Class.objects.filter(project=project, tags__document=document, tags__tagger=request.user)
            )
            chosen = [*mine, cls] if project.kind == Project.Kind.MULTI_LABEL else [cls]
            do_set_document_tags(request.user, document, chosen, positive=positive)
            what = ("match" if positive else "not a match") if project.is_trainable else cls.name
            messages.success(request, f"Tagged {what}.")
    except ActionError as exc:
        messages.error(request, str(exc))
        return _side_response(request, project, document.pk, status=422)
    return _side_response(request, project, document.pk)


# --- Files ------------------------------------------------------------------------------------
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\"]')


def _download_name(document: Document) -> str:
    name = _UNSAFE_NAME.sub("_", (document.filename or "").rsplit("/", 1)[-1]).strip(" .")
    return name[:200] or f"document-{document.pk}"


@login_required
def document_original(request: HttpRequest, slug: str, document_id: int) -> FileResponse:
    """The original file, always as a download: it may be HTML or anything else an
    uploader sent, so it is never rendered inline on our origin."""
    project = get_project_for_user(request, slug)
    document = _get_document(project, document_id)
    if not document.original:
        raise Http404("This document has no original file.")
    try:
        handle = document.original.open("rb")
    except OSError:
        raise Http404("The original file is missing from storage.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=_download_name(document), content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def document_thumbnail(request: HttpRequest, slug: str, document_id: int) -> FileResponse:
    """Our generated thumbnail of an image document (nothing else is served here).

    Shown inline (an <img> on the document page), so only what the upload pipeline wrote
    goes out: a file in the project's thumbnails folder (only we write there; Pillow
    re-encoded it), whose signature is PNG or JPEG (ingest makes JPEG, PNG with alpha),
    served as that image type with nosniff, so no browser reads it as a page. The
    pipeline stores thumbnails content-addressed, without a suffix."""
    project = get_project_for_user(request, slug)
    document = _get_document(project, document_id)
    name = document.thumbnail.name if document.thumbnail else ""
    if not name or not name.startswith(f"projects/{project.pk}/thumbnails/") or ".." in name:
        raise Http404("No thumbnail.")
    try:
        handle = document.thumbnail.open("rb")
    except OSError:
        raise Http404("No thumbnail.") from None
    head = handle.read(len(PNG_MAGIC))
    content_type = next((kind for magic, kind in THUMBNAIL_TYPES if head.startswith(magic)), None)
    if content_type is None:
        handle.close()
        raise Http404("No thumbnail.")
    handle.seek(0)
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response
