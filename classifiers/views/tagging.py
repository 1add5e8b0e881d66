"""Tagging: the overview (progress, assignments, settings), the studio (one document at a
time, keyboard first: every step is one htmx request answering the next card), history,
agreement, conflicts and the tagger's own tags."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classifiers import tagging as queue
from classifiers.access import get_project_for_user
from classifiers.actions import ActionError
from classifiers.actions.tagging import (
    MAX_ASSIGN,
    MAX_REASON,
    do_create_assignment,
    do_end_assignment,
    do_resolve_conflict,
    do_skip_document,
    do_tag_document,
    do_undo_last,
    do_update_tagging_settings,
)
from classifiers.agreement import interpret
from classifiers.labels import RULE
from classifiers.markdown import render_markdown
from classifiers.models import (
    Assignment,
    Class,
    Document,
    DocumentSet,
    Prediction,
    Project,
    Role,
    Tag,
    TaggingAction,
    UploadBatch,
)
from classifiers.params import parse_int

MY_TAGS_PAGE = 50
CONFLICTS_PAGE = 25


# --- Forms ----------------------------------------------------------------------------------------
class TaggingSettingsForm(forms.Form):
    overlap = forms.IntegerField(
        min_value=1,
        max_value=queue.MAX_OVERLAP,
        label="Overlap",
        help_text="How many different taggers tag each document: 1 = once; 2 or more = double tagging, "
        "with agreement figures and conflicts to resolve.",
    )
    show_suggestions = forms.BooleanField(
        required=False,
        label="Show the model's suggestion while tagging",
        help_text="Off by default: a visible suggestion biases taggers.",
    )


def _set_choices() -> list[tuple[str, str]]:
    return [("", "Training and test")] + [(s, DocumentSet(s).label) for s in queue.QUEUE_SETS]


class AssignForm(forms.Form):
    taggers = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple, label="Taggers"
    )
    count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ASSIGN,
        label="Number of documents",
        help_text="Empty: every document of the selection that still needs tagging.",
    )
    set = forms.ChoiceField(required=False, label="Set")
    batch = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Upload batch")
    q = forms.CharField(required=False, max_length=200, label="Search")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taggers"].queryset = (
            get_user_model()
            .objects.filter(memberships__project=project, memberships__role__in=[Role.TAGGER, Role.ADMIN])
            .order_by("username")
        )
        self.fields["set"].choices = _set_choices()
        batches = UploadBatch.objects.filter(project=project).order_by("-id")[:50]
        self.fields["batch"].choices = [("", "Any upload")] + [(str(b.pk), str(b)) for b in batches]


# --- Helpers -------------------------------------------------------------------------------------
def _hx_or_redirect(
    request: HttpRequest, template: str, ctx: dict, to: str, status: int = 200
) -> HttpResponse:
    if request.htmx:
        return render(request, template, ctx, status=status)
    return redirect(to)


def _classes(project: Project) -> list[Class]:
    return queue.active_classes(project)


def _parse_answer(project: Project, params: Any, classes: list[Class]) -> tuple[list[Class], bool]:
    """A tagging or resolving form's answer: ``class`` (single-label), ``classes``
    (multi-label) or ``match`` 1/0 (trainable) -> (classes, positive). Unknown ids drop out."""
    by_id = {c.pk: c for c in classes}
    if project.is_trainable:
        match = params.get("match")
        if match not in ("0", "1") or not classes:
            return [], True
        return classes[:1], match == "1"
    raw = params.getlist("classes") if project.kind == Project.Kind.MULTI_LABEL else [params.get("class", "")]
    ids = [i for i in (parse_int(v) for v in raw) if i is not None and i in by_id]
    return [by_id[i] for i in dict.fromkeys(ids)], True


def _choices(project: Project, classes: list[Class], selected: set[int]) -> list[dict[str, Any]]:
    """The class buttons: digit 1-9 by schema position, the class's own hotkey too."""
    return [
        {
            "cls": c,
            "digit": str(i + 1) if i < 9 else "",
            "hotkey": c.hotkey.lower() if c.hotkey else "",
            "selected": c.pk in selected,
        }
        for i, c in enumerate(classes)
    ]


def _suggestion(project: Project, document: Document) -> Prediction | None:
    if not project.show_suggestions:
        return None
    version = queue.latest_version_id(project)
    if version is None:
        return None
    return Prediction.objects.filter(model_version_id=version, document=document).first()


def _card_context(
    request: HttpRequest,
    project: Project,
    opts: queue.QueueOptions,
    document: Document | None,
    *,
    mode: str = "queue",
    pos: int | None = None,
    notice: str = "",
    error: str = "",
    classes: list[Class] | None = None,
    answer: tuple[list[Class], bool] | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """The card's context. ``fresh``: the document came from the queue, so the tagger has no
    tags on it yet (saves a query per step)."""
    classes = _classes(project) if classes is None else classes
    selected: set[int] = set()
    positive: bool | None = None
    if document is not None:
        if answer is not None:  # a refused answer is shown as it was given
            selected, positive = {c.pk for c in answer[0]}, answer[1] if answer[0] else None
        elif not fresh:
            mine = queue.my_tags(request.user, document)
            selected = {t.tag_class_id for t in mine}
            positive = mine[0].positive if mine else None
    text = document.text[: queue.TEXT_LIMIT] if document is not None else ""
    ctx: dict[str, Any] = {
        "project": project,
        "section": "tagging",
        "opts": opts,
        "document": document,
        "text": text,
        "text_truncated": document is not None and len(document.text) > len(text),
        "mode": mode,
        "pos": pos,
        "notice": notice,
        "error": error,
        "choices": _choices(project, classes, selected),
        "has_choices": bool(classes),
        "positive": positive,
        "is_trainable": project.is_trainable,
        "is_multi": project.kind == Project.Kind.MULTI_LABEL,
        "suggestion": _suggestion(project, document) if document is not None else None,
        "today": queue.tagged_today(project, request.user),
        "reason_max": MAX_REASON,
    }
    if opts.scope == queue.SCOPE_MINE:
        ctx["assigned_done"], ctx["assigned_total"] = queue.my_assignment_counts(project, request.user)
    if mode == "history" and pos:
        ctx["steps_back"] = queue.steps_back(project, request.user, pos)
    return ctx


def _page_context(
    request: HttpRequest, project: Project, opts: queue.QueueOptions, classes: list[Class]
) -> dict:
    """What the full studio page adds around the card: guidelines, the queue's filters."""
    return {
        "guidelines_html": render_markdown(project.guidelines),
        "classes": classes,
        "guidelines_key": "" if any(c.hotkey.lower() == "i" for c in classes if c.hotkey) else "i",
        "uncertainty_available": queue.uncertainty_available(project),
        "set_choices": _set_choices(),
        "batches": UploadBatch.objects.filter(project=project).order_by("-id")[:50],
        "scopes": queue.SCOPES,
        "orders": queue.ORDERS,
        "has_assignment": Assignment.objects.filter(
            project=project, tagger=request.user, active=True
        ).exists(),
    }


def _card_response(request: HttpRequest, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "tagging/queue.html#card", ctx, status=status)
    project = ctx["project"]
    classes = [c["cls"] for c in ctx["choices"]]
    ctx.update(_page_context(request, project, ctx["opts"], classes))
    return render(request, "tagging/queue.html", ctx, status=status)


def _queue_card(
    request: HttpRequest,
    project: Project,
    opts: queue.QueueOptions,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The tagger's current queue document (their lease first), as a card."""
    document = queue.take_next(
        project, request.user, opts, after=queue.last_acted_document(project, request.user)
    )
    ctx = _card_context(request, project, opts, document, notice=notice, error=error, fresh=True)
    return _card_response(request, ctx, status)


def _default_options(request: HttpRequest, project: Project, params: Any) -> queue.QueueOptions:
    """The queue from the request; without a choice, my assignments when I have open ones
    and the most uncertain first when the latest model scored untagged documents."""
    scope = params.get("scope") or (
        queue.SCOPE_MINE if queue.has_open_assignment(project, request.user) else queue.SCOPE_POOL
    )
    order = params.get("order") or (
        queue.ORDER_UNCERTAIN if queue.uncertainty_available(project) else queue.ORDER_SHUFFLE
    )
    return queue.parse_options(params, default_scope=scope, default_order=order)


# --- Overview -------------------------------------------------------------------------------------
def _overview_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    membership = project.membership
    is_admin = membership.is_admin
    progress = queue.tagger_progress(project)
    mine = next((p for p in progress if p.user_id == request.user.pk), None)
    ctx: dict[str, Any] = {
        "project": project,
        "section": "tagging",
        "can_tag": membership.can_tag,
        "is_admin": is_admin,
        "me": mine,
        "progress": progress if is_admin else [],
        "class_counts": queue.class_counts(project),
        "totals": queue.project_totals(project),
        "uncertainty_available": queue.uncertainty_available(project),
        "rule": RULE,
        "set_choices": _set_choices(),
        "batches": UploadBatch.objects.filter(project=project).order_by("-id")[:50],
        "scopes": queue.SCOPES,
        "orders": queue.ORDERS,
    }
    if membership.can_tag:
        ctx["my_assignments"] = queue.assignment_progress(
            Assignment.objects.filter(project=project, tagger=request.user, active=True)
        )
        ctx["default_scope"] = (
            queue.SCOPE_MINE if any(p.done < p.total for p in ctx["my_assignments"]) else queue.SCOPE_POOL
        )
    if is_admin:
        ctx.setdefault(
            "settings_form",
            TaggingSettingsForm(
                initial={"overlap": project.overlap, "show_suggestions": project.show_suggestions}
            ),
        )
        ctx.setdefault("assign_form", AssignForm(project=project))
        ctx["assignments"] = queue.assignment_progress(
            Assignment.objects.filter(project=project).select_related("tagger", "created_by")[:30]
        )
        ctx["conflict_count"] = (
            len(queue.conflict_ids(project)[0]) if project.overlap > 1 or ctx["totals"].tagged else 0
        )
    ctx.update(extra)
    return ctx


@login_required
@require_GET
def tagging(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return render(request, "tagging/overview.html", _overview_context(request, project))


@login_required
@require_POST
def tagging_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = TaggingSettingsForm(request.POST)
    to = reverse("tagging", args=[project.slug])
    if not form.is_valid():
        if not request.htmx:
            return render(
                request,
                "tagging/overview.html",
                _overview_context(request, project, settings_form=form),
                status=422,
            )
        return render(
            request,
            "tagging/overview.html#settings",
            _overview_context(request, project, settings_form=form),
            status=422,
        )
    try:
        changed = do_update_tagging_settings(request.user, project, **form.cleaned_data)
    except ActionError as exc:
        form.add_error(None, str(exc))
        return render(
            request,
            "tagging/overview.html#settings",
            _overview_context(request, project, settings_form=form),
            status=422,
        )
    messages.success(request, "Tagging settings saved." if changed else "Nothing changed.")
    return _hx_or_redirect(request, "tagging/overview.html#settings", _overview_context(request, project), to)


@login_required
@require_POST
def tagging_assign(request: HttpRequest, slug: str) -> HttpResponse:
    """``op=create``: assign the selection to taggers; ``op=end`` + ``assignment``: close one."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    to = reverse("tagging", args=[project.slug])
    template = "tagging/overview.html#assignments"
    if request.POST.get("op") == "end":
        raw = request.POST.get("assignment", "")
        assignment = get_object_or_404(
            Assignment.objects.select_related("tagger", "project"),
            pk=parse_int(raw) or 0,
            project=project,
        )
        try:
            ended = do_end_assignment(request.user, assignment)
        except ActionError as exc:
            messages.error(request, str(exc))
            return _hx_or_redirect(request, template, _overview_context(request, project), to, status=422)
        if ended:
            messages.success(
                request,
                f"Assignment for {assignment.tagger.get_username()} ended; its open documents are back in the pool.",
            )
        return _hx_or_redirect(request, template, _overview_context(request, project), to)
    form = AssignForm(request.POST, project=project)
    if form.is_valid():
        data = form.cleaned_data
        opts = queue.QueueOptions(set=data["set"] or "", batch=data["batch"], q=(data["q"] or "").strip())
        try:
            created = do_create_assignment(
                request.user, project, list(data["taggers"]), opts, count=data["count"]
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            total = sum(a.items.count() for a in created)
            messages.success(
                request,
                f"Assigned {total:,} document{'s' if total != 1 else ''} to "
                + ", ".join(a.tagger.get_username() for a in created)
                + ".",
            )
            return _hx_or_redirect(request, template, _overview_context(request, project), to)
    ctx = _overview_context(request, project, assign_form=form)
    if request.htmx:
        return render(request, template, ctx, status=422)
    return render(request, "tagging/overview.html", ctx, status=422)


# --- The studio -----------------------------------------------------------------------------------
@login_required
@require_GET
def tagging_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The studio: the next document of the queue, or ``?doc=<id>`` to re-tag one."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    opts = _default_options(request, project, request.GET)
    raw_doc = request.GET.get("doc", "")
    if raw_doc:
        document = get_object_or_404(Document, pk=parse_int(raw_doc) or 0, project=project)
        ctx = _card_context(
            request, project, opts, document, mode="retag",
            notice="Re-tagging: your answer replaces your earlier tags, then the queue goes on.",
        )  # fmt: skip
        return _card_response(request, ctx)
    return _queue_card(request, project, opts)


@login_required
@require_POST
def tagging_act(request: HttpRequest, slug: str) -> HttpResponse:
    """``op=tag`` (``class`` / ``classes`` / ``match``), ``op=skip`` (``reason``) or
    ``op=undo``; answers the next card."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    opts = queue.parse_options(request.POST)
    op = request.POST.get("op", "")
    mode = request.POST.get("mode", "queue")
    raw_pos = request.POST.get("pos", "")
    pos = parse_int(raw_pos)
    user = request.user

    if op == "undo":
        try:
            action = do_undo_last(user, project)
        except ActionError as exc:
            return _act_response(request, project, opts, error=str(exc), status=422)
        queue.lease(project, user, action.document)
        what = "skip" if action.kind == TaggingAction.Kind.SKIP else "tags"
        notice = (
            f"Undone: your {what} on this document (now: {queue.describe_labels(project, action.before)})."
        )
        ctx = _card_context(request, project, opts, action.document, notice=notice)
        return _act_card(request, ctx)

    if op not in ("tag", "skip"):
        return _act_response(request, project, opts, error="Unknown action.", status=422)
    raw_doc = request.POST.get("document", "")
    document = Document.objects.filter(pk=parse_int(raw_doc) or 0, project=project).first()
    if document is None:
        return _act_response(
            request, project, opts, error="That document is no longer in the project.", status=422
        )
    classes = _classes(project)
    if op == "tag":
        answer = _parse_answer(project, request.POST, classes)
        try:
            action = do_tag_document(user, project, document, answer[0], positive=answer[1])
        except ActionError as exc:
            ctx = _card_context(
                request,
                project,
                opts,
                document,
                mode=mode,
                pos=pos,
                error=str(exc),
                classes=classes,
                answer=answer,
            )
            return _act_card(request, ctx, status=422)
        notice = f"Saved “{queue.describe_labels(project, action.after)}” on {document.title}"
        if action.before and action.before != action.after:  # last write wins, visibly
            notice += f", replacing your “{queue.describe_labels(project, action.before)}”"
        notice += "."
    else:
        try:
            do_skip_document(user, project, document, request.POST.get("reason", ""))
        except ActionError as exc:
            ctx = _card_context(
                request, project, opts, document, mode=mode, pos=pos, error=str(exc), classes=classes
            )
            return _act_card(request, ctx, status=422)
        notice = f"Skipped {document.title}."
    if mode == "queue":
        following = queue.take_next(project, user, opts, after=document, reuse_lease=False)
    else:  # from history or a re-tag: back to where the queue was (the tagger's lease)
        following = queue.take_next(project, user, opts, after=document)
    ctx = _card_context(
        request, project, opts, following, notice=notice + " Press u to undo.", classes=classes, fresh=True
    )
    return _act_card(request, ctx)


def _act_response(
    request: HttpRequest, project: Project, opts: queue.QueueOptions, *, error: str, status: int
) -> HttpResponse:
    if not request.htmx:
        messages.error(request, error)
        return redirect(f"{reverse('tagging_queue', args=[project.slug])}?{opts.querystring()}")
    return _queue_card(request, project, opts, error=error, status=status)


def _act_card(request: HttpRequest, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    if not request.htmx:
        # Without htmx (no JavaScript): the next document is leased, so a plain GET shows it.
        if ctx["error"]:
            messages.error(request, ctx["error"])
        elif ctx["notice"]:
            messages.success(request, ctx["notice"])
        return redirect(f"{reverse('tagging_queue', args=[ctx['project'].slug])}?{ctx['opts'].querystring()}")
    return render(request, "tagging/queue.html#card", ctx, status=status)


@login_required
@require_GET
def tagging_history(request: HttpRequest, slug: str) -> HttpResponse:
    """``?step=back|forward&pos=<action id>``: walk through my tags and skips without
    changing anything; forward past the latest step is the queue again."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    opts = queue.parse_options(request.GET)
    step = "forward" if request.GET.get("step") == "forward" else "back"
    raw_pos = request.GET.get("pos", "")
    pos = parse_int(raw_pos)
    action = queue.history_step(project, request.user, pos=pos, step=step)
    if action is None and step == "back" and pos:
        action = queue.history_step(project, request.user, pos=pos + 1, step="back")  # stay on the first step
        notice = "This is the start of your history."
    elif action is None:
        notice = "Back in the queue." if step == "forward" else "No history yet: tag a document first."
        return _queue_card(request, project, opts, notice=notice)
    elif action.kind == TaggingAction.Kind.SKIP:
        notice = "History: you skipped this document. Tag it now, or → to go forward."
    else:
        labels = queue.describe_labels(project, action.after)
        notice = f"History: you tagged this “{labels}”. Tagging it again replaces your tags; → goes forward."
    if action is None:
        return _queue_card(request, project, opts, notice=notice)
    ctx = _card_context(request, project, opts, action.document, mode="history", pos=action.pk, notice=notice)
    return _card_response(request, ctx)


# --- Agreement and conflicts ------------------------------------------------------------------
@login_required
@require_GET
def tagging_agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    report, names = queue.project_agreement(project)
    pairs = [
        {"a": names.get(p.a, "?"), "b": names.get(p.b, "?"), "row": p, "words": interpret(p.kappa)}
        for p in report.pairs
    ]
    per_class = [{"row": c, "words": interpret(c.value)} for c in report.per_class]
    return render(
        request,
        "tagging/agreement.html",
        {
            "project": project,
            "section": "tagging",
            "report": report,
            "words": interpret(report.overall),
            "pairs": pairs,
            "per_class": per_class,
            "tagger_names": [names.get(t, "?") for t in report.taggers],
            "rule": RULE,
            "is_admin": project.membership.is_admin,
        },
    )


@login_required
@require_GET
def tagging_conflicts(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    ids, answers = queue.conflict_ids(project)
    page = Paginator(ids, CONFLICTS_PAGE).get_page(request.GET.get("page"))
    classes = _classes(project)
    return render(
        request,
        "tagging/conflicts.html",
        {
            "project": project,
            "section": "tagging",
            "page": page,
            "conflicts": queue.conflicts_page(project, list(page.object_list), answers),
            "classes": classes,
            "category": classes[0] if project.is_trainable and classes else None,
            "is_trainable": project.is_trainable,
            "is_multi": project.kind == Project.Kind.MULTI_LABEL,
            "total": len(ids),
            "rule": RULE,
        },
    )


@login_required
@require_POST
def tagging_resolve(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    document = get_object_or_404(Document, pk=document_id, project=project)
    classes = _classes(project)
    chosen, positive = _parse_answer(project, request.POST, classes)
    ctx: dict[str, Any] = {"project": project, "document": document, "is_trainable": project.is_trainable}
    try:
        tags = do_resolve_conflict(request.user, project, document, chosen, positive=positive)
    except ActionError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return redirect("tagging_conflicts", project.slug)
        ctx["error"] = str(exc)
        return render(request, "tagging/resolved.html", ctx, status=422)
    ctx["resolution"] = queue.describe_labels(
        project, [{"name": t.tag_class.name, "positive": t.positive} for t in tags]
    )
    if not request.htmx:
        messages.success(request, f"{document.title}: resolved as {ctx['resolution']}.")
        return redirect("tagging_conflicts", project.slug)
    return render(request, "tagging/resolved.html", ctx)


# --- My tags --------------------------------------------------------------------------------------
@login_required
@require_GET
def tagging_my_tags(request: HttpRequest, slug: str) -> HttpResponse:
    """The documents I tagged, newest document first, in keyset pages (``?before=<id>``),
    optionally of one class; each links back into the studio to re-tag it."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    mine = Tag.objects.filter(project=project, tagger=request.user, is_resolution=False)
    raw_class = request.GET.get("class", "")
    class_id = parse_int(raw_class)
    cls = Class.objects.filter(project=project, pk=class_id).first() if class_id is not None else None
    if cls is not None:
        mine = mine.filter(tag_class=cls)
    docs = Document.objects.filter(project=project, id__in=mine.values("document_id")).order_by("-id")
    before = parse_int(request.GET.get("before", ""))
    if before is not None:
        docs = docs.filter(id__lt=before)
    rows = list(docs.only("id", "filename", "external_id", "metadata", "set", "text")[: MY_TAGS_PAGE + 1])
    more = len(rows) > MY_TAGS_PAGE
    rows = rows[:MY_TAGS_PAGE]
    labels: dict[int, list[str]] = {}
    for doc_id, name, positive in Tag.objects.filter(
        tagger=request.user, is_resolution=False, document_id__in=[d.pk for d in rows]
    ).values_list("document_id", "tag_class__name", "positive"):
        labels.setdefault(doc_id, []).append(
            ("Match" if positive else "Not a match") if project.is_trainable else name
        )
    items = [{"doc": d, "labels": sorted(labels.get(d.pk, [])), "snippet": d.text[:160]} for d in rows]
    return render(
        request,
        "tagging/my_tags.html",
        {
            "project": project,
            "section": "tagging",
            "items": items,
            "next_before": rows[-1].pk if more and rows else None,
            "first_page": before is None,
            "classes": project.classes.all(),
            "cls": cls,
            "total": mine.values("document_id").distinct().count(),
        },
    )
