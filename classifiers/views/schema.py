"""The project schema: every member reads the classes, versions and guidelines; Admins edit.

Every change answers the ``#schema`` partial to htmx, and redirects back to the schema page
otherwise (so each form also works without JavaScript).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.schema import (
    CLASS_FIELDS,
    DEFAULT_COLOUR,
    DeleteNeedsConfirmation,
    SchemaError,
    class_field_errors,
    clean_guidelines,
    do_add_class,
    do_archive_class,
    do_delete_class,
    do_edit_class,
    do_merge_classes,
    do_reorder_class,
    do_update_guidelines,
)
from classifiers.markdown import render_markdown
from classifiers.models import Class, Project, Role

VERSIONS_SHOWN = 50


class ClassForm(forms.Form):
    """Parses the fields; the rules (and their messages) live in classifiers.actions.schema."""

    name = forms.CharField(required=False, strip=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to taggers as guidance.",
    )
    colour = forms.CharField(
        required=False, initial=DEFAULT_COLOUR, widget=forms.TextInput(attrs={"type": "color"})
    )
    hotkey = forms.CharField(
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": 1, "size": 2, "autocomplete": "off", "class": "hotkey"}),
        help_text="Optional: one letter, not s, u, m, n or g (digits 1 to 9 pick classes by position).",
    )

    def __init__(self, *args: Any, project: Project, instance: Class | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project, self.instance = project, instance
        if project.is_trainable:
            del self.fields["hotkey"]  # tagged with m / n: the category has no hotkey

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        values = {k: data[k] for k in CLASS_FIELDS if k in data}
        for field, message in class_field_errors(self.project, self.instance, **values).items():
            self.add_error(field, message)
        return data

    def values(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in CLASS_FIELDS if k in self.fields}


class GuidelinesForm(forms.Form):
    guidelines = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Markdown: headings, lists, **bold**, *italic*, `code`, > quotes, [links](https://...) "
        "and tables. Raw HTML is removed.",
    )

    def clean_guidelines(self) -> str:
        try:
            return clean_guidelines(self.cleaned_data["guidelines"])
        except SchemaError as exc:
            raise forms.ValidationError(str(exc)) from None


def _add_error(request: HttpRequest, form: forms.Form, exc: ActionError) -> None:
    field = getattr(exc, "field", None)
    if field in form.fields:
        form.add_error(field, str(exc))
    else:
        messages.error(request, str(exc))


def _get_class(project: Project, class_id: int) -> Class:
    cls = get_object_or_404(Class, pk=class_id, project=project)
    cls.project = project  # keeps the membership loaded by get_project_for_user
    return cls


def _context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    is_admin = project.membership.is_admin  # type: ignore[attr-defined]
    # One query for the table, tag counts included.
    classes = list(project.classes.annotate(tag_count=Count("tags")).order_by("position", "id"))
    context = {
        "project": project,
        "section": "schema",
        "is_admin": is_admin,
        "classes": classes,
        "active_classes": [c for c in classes if not c.archived],
        "versions": project.schema_versions.select_related("created_by")[:VERSIONS_SHOWN],
        "version_count": project.schema_versions.count(),
        "guidelines_html": render_markdown(project.guidelines),
        "partial": bool(request.htmx),
        "editing": None,
        "edit_form": None,
        "confirm_delete": None,
    }
    if is_admin and not project.is_trainable:
        context["add_form"] = ClassForm(project=project, auto_id="add-%s")
    context.update(extra)
    return context


def _respond(request: HttpRequest, project: Project, status: int = 200, **extra: Any) -> HttpResponse:
    template = "schema/page.html#schema" if request.htmx else "schema/page.html"
    return render(request, template, _context(request, project, **extra), status=status)


def _done(request: HttpRequest, project: Project) -> HttpResponse:
    """After a change: the fresh partial for htmx, else POST-redirect-GET."""
    if request.htmx:
        return _respond(request, project)
    return redirect("project_schema", project.slug)


def _refused(request: HttpRequest, project: Project, exc: ActionError) -> HttpResponse:
    messages.error(request, str(exc))
    return _respond(request, project, status=422)


def _tags(n: int) -> str:
    return f"{n} tag{'' if n == 1 else 's'}"


@login_required
@require_GET
def project_schema(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return _respond(request, project)


@login_required
@require_POST
def class_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = ClassForm(request.POST, project=project, auto_id="add-%s")
    if form.is_valid():
        try:
            cls = do_add_class(request.user, project, **form.values())
        except ActionError as exc:
            _add_error(request, form, exc)
        else:
            messages.success(request, f"Class “{cls.name}” added: schema version {project.schema_version}.")
            return _done(request, project)
    return _respond(request, project, status=422, add_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request: HttpRequest, slug: str, class_id: int) -> HttpResponse:
    """GET: the table with this class's row as a form; POST: save it."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    cls = _get_class(project, class_id)
    form = ClassForm(
        request.POST if request.method == "POST" else None,
        project=project,
        instance=cls,
        initial={f: getattr(cls, f) for f in CLASS_FIELDS},
        auto_id=f"edit-{cls.pk}-%s",
    )
    if request.method == "GET":
        return _respond(request, project, editing=cls.pk, edit_form=form)
    if form.is_valid():
        try:
            changed = do_edit_class(request.user, cls, **form.values())
        except ActionError as exc:
            _add_error(request, form, exc)
        else:
            if "name" in changed:
                messages.success(
                    request,
                    f"Renamed to “{cls.name}”; its tags are kept. Schema version {project.schema_version}.",
                )
            elif changed:
                messages.success(request, f"“{cls.name}” saved.")
            else:
                messages.info(request, "Nothing changed.")
            return _done(request, project)
    return _respond(request, project, status=422, editing=cls.pk, edit_form=form)


@login_required
@require_POST
def class_archive(request: HttpRequest, slug: str, class_id: int) -> HttpResponse:
    """Archive or restore: ``archived=1`` / ``archived=0``; without it, toggle."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    cls = _get_class(project, class_id)
    wanted = request.POST.get("archived", "")
    archived = {"1": True, "true": True, "0": False, "false": False}.get(wanted.lower(), not cls.archived)
    try:
        changed = do_archive_class(request.user, cls, archived)
    except ActionError as exc:
        return _refused(request, project, exc)
    if not changed:
        messages.info(request, f"“{cls.name}” was already {'archived' if archived else 'active'}.")
    elif archived:
        messages.success(request, f"“{cls.name}” archived: hidden from tagging, its tags kept.")
    else:
        messages.success(request, f"“{cls.name}” restored: taggers see it again.")
    return _done(request, project)


@login_required
@require_POST
def class_merge(request: HttpRequest, slug: str, class_id: int) -> HttpResponse:
    """Merge this class into ``target``: its tags move there, then it is deleted."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    source = _get_class(project, class_id)
    try:
        target_id = int(request.POST.get("target", ""))
    except ValueError:
        messages.error(request, f"Pick the class to merge “{source.name}” into.")
        return _respond(request, project, status=422)
    target = _get_class(project, target_id)  # a class of another project: 404
    try:
        result = do_merge_classes(request.user, source, target)
    except ActionError as exc:
        return _refused(request, project, exc)
    dropped = f" ({_tags(result['dropped'])} dropped: the same tagger had both)" if result["dropped"] else ""
    messages.success(
        request,
        f"“{source.name}” merged into “{target.name}”: {_tags(result['moved'])} moved{dropped}. "
        f"Schema version {project.schema_version}.",
    )
    return _done(request, project)


@login_required
@require_POST
def class_delete(request: HttpRequest, slug: str, class_id: int) -> HttpResponse:
    """An unused class goes at once. A used one first answers a confirmation stating what
    goes with it; the POST that repeats the tag count as ``confirm`` deletes."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    cls = _get_class(project, class_id)
    raw = request.POST.get("confirm", "").strip()
    try:
        confirm = int(raw) if raw else None
    except ValueError:
        confirm = -1  # never a tag count: asks again
    name = cls.name
    try:
        deleted = do_delete_class(request.user, cls, confirm)
    except DeleteNeedsConfirmation as exc:
        # The question is a normal answer; a stale or wrong count is a refusal.
        return _respond(request, project, status=200 if exc.offered is None else 422, confirm_delete=exc)
    except ActionError as exc:
        return _refused(request, project, exc)
    with_tags = f" with its {_tags(deleted)}" if deleted else ""
    messages.success(request, f"“{name}” deleted{with_tags}. Schema version {project.schema_version}.")
    return _done(request, project)


@login_required
@require_POST
def class_move(request: HttpRequest, slug: str, class_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    cls = _get_class(project, class_id)
    try:
        do_reorder_class(request.user, cls, request.POST.get("direction", ""))  # type: ignore[arg-type]
    except ActionError as exc:
        return _refused(request, project, exc)
    return _done(request, project)


@login_required
@require_http_methods(["GET", "POST"])
def project_guidelines(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit the guidelines; the Preview button renders them without saving."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = GuidelinesForm(
        request.POST if request.method == "POST" else None, initial={"guidelines": project.guidelines}
    )
    preview = render_markdown(project.guidelines)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        elif "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["guidelines"])
        else:
            try:
                changed = do_update_guidelines(request.user, project, form.cleaned_data["guidelines"])
            except ActionError as exc:
                _add_error(request, form, exc)
                status = 422
            else:
                messages.success(request, "Guidelines saved." if changed else "Nothing changed.")
                return redirect("project_schema", project.slug)
    context = {"project": project, "section": "schema", "form": form, "preview": preview}
    if request.htmx and "preview" in request.POST:
        return render(request, "schema/guidelines.html#preview", context, status=status)
    return render(request, "schema/guidelines.html", context, status=status)
